# syntax=docker/dockerfile:1
# swapdock container image.
#
#   docker build -t swapdock:local .
#   docker run -d --name swapdock \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD/compose.models.yaml:/config/models.yaml:ro" \
#     -p 127.0.0.1:8080:8080 swapdock:local
#
# A swapdock in a container cannot reach ports the model containers publish on the host's
# 127.0.0.1: set engine.network in the config (see compose.example.yaml and compose.models.yaml).

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript to dist/ ------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so editing the sources does not re-install them. Compiling needs the
# runtime dependencies, TypeScript and the @types packages only, not the test-only dev
# dependencies (Claude Code, Playwright, client SDKs: ~600 MB of the ~650 MB): package.json is
# trimmed to those, and `npm install` with the lockfile installs exactly their locked versions.
# --ignore-scripts skips the `prepare` build here, which would fail before the sources are
# copied; npm run build does it.
COPY package.json package-lock.json ./
RUN node -e "const fs = require('fs'); const p = JSON.parse(fs.readFileSync('package.json', 'utf8')); \
      p.devDependencies = Object.fromEntries(Object.entries(p.devDependencies || {}) \
        .filter(([name]) => name === 'typescript' || name.startsWith('@types/'))); \
      fs.writeFileSync('package.json', JSON.stringify(p, null, 2));" \
 && npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies + compiled code only -----------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is a dev dependency and not installed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin

# Runs as root on purpose. swapdock drives the container engine through its API socket
# (/var/run/docker.sock, or Podman's), which is owned by root (mode 660, group docker) on the
# host. The group id of that socket differs from host to host, so a fixed non-root user could
# not open it; and access to that socket is root-equivalent on the host anyway, so a non-root
# user inside this container would add no real isolation. Protect the socket and swapdock's
# port instead: never publish it beyond the hosts that need it, and set API keys (auth.keys).
# (If you know your host's docker group id you may run with --user 1000:<gid> yourself.)

EXPOSE 8080
# Node handles SIGTERM itself: swapdock drains requests, then stops the model containers it
# started. Give `docker stop` time for that (e.g. --time 120 / stop_grace_period: 120s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["node", "bin/swapdock.js"]
CMD ["serve", "--config", "/config/models.yaml", "--listen", "0.0.0.0:8080"]
