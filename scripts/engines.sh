#!/usr/bin/env bash
# Start (idempotently) the container engines the integration tests use, on a root machine
# without systemd (dev boxes and CI). The engine quirks each step works around are noted beside it.
#
#   scripts/engines.sh start [docker|podman|gpu-docker|remote-docker|all]   (default: all)
#   scripts/engines.sh stop [docker|podman|gpu-docker|remote-docker|all]    (only daemons this script started)
#   scripts/engines.sh restart [ENGINE|all]
#   scripts/engines.sh status
#
# Engines:
#   docker      unix:///var/run/docker.sock        main dockerd
#   podman      unix:///run/podman/podman.sock     podman system service (Docker-compat API)
#   gpu-docker  unix:///run/swapdock-gpu/docker.sock
#               second, isolated dockerd with a FAKE nvidia hook on its PATH so
#               DeviceRequests [{Driver:'nvidia'}] start. Test machines only.
#   remote-docker tcp://172.31.252.11:2375
#               a "remote" engine: a dockerd in its own network namespace, reached over
#               plain TCP through a bridge (172.31.252.1 here, .11 there). A port it publishes
#               on its own 127.0.0.1 is unreachable from here, exactly like on another machine.
set -euo pipefail

SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

DOCKER_SOCK=/var/run/docker.sock
DOCKER_LOG=/var/log/swapdock-dockerd.log

PODMAN_SOCK=/run/podman/podman.sock
PODMAN_LOG=/var/log/swapdock-podman.log
PODMAN_PIDFILE=/run/swapdock-podman.pid
PODMAN_CONF=/etc/containers/containers.conf.d/swapdock.conf
PODMAN_REGISTRIES_CONF=/etc/containers/registries.conf.d/50-swapdock-loopback-insecure.conf

GPU_RUN=/run/swapdock-gpu
GPU_SOCK=$GPU_RUN/docker.sock
GPU_EXEC=$GPU_RUN/exec
GPU_PIDFILE=$GPU_RUN/docker.pid
GPU_HOOK_DIR=$GPU_RUN/fake-nvidia-bin
GPU_DATA=/var/lib/swapdock-gpu-docker
GPU_LOG=/var/log/swapdock-gpu-dockerd.log
GPU_BRIDGE=swapdock-gpu0
# Outside Docker's default pools (172.17-31/16, 192.168/16) so neither daemon hands it out.
GPU_BRIDGE_CIDR=10.213.250.1/24
GPU_POOL=10.213.0.0/17
CDI_SPEC=/etc/cdi/swapdock-fake-nvidia.yaml

REMOTE_NS=swapdock-remote
REMOTE_RUN=/run/swapdock-remote
REMOTE_EXEC=$REMOTE_RUN/exec
REMOTE_PIDFILE=$REMOTE_RUN/docker.pid
REMOTE_DATA=/var/lib/swapdock-remote-docker
REMOTE_LOG=/var/log/swapdock-remote-dockerd.log
REMOTE_BRIDGE=swapdock-rbr0
REMOTE_VETH=swapdock-rv0
REMOTE_VETH_NS=swapdock-rv1
REMOTE_GW_CIDR=172.31.252.1/24
REMOTE_IP=172.31.252.11
REMOTE_TCP=tcp://$REMOTE_IP:2375
# docker0 inside the namespace: outside Docker's default pools, like the GPU daemon's bridge.
REMOTE_BIP=10.213.252.1/24

log() { printf '[engines] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# An engine endpoint is a unix socket path or tcp://host:port.
engine_curl() {
  local at=$1 path=$2
  shift 2
  if [[ "$at" == tcp://* ]]; then curl -s "$@" "http://${at#tcp://}$path"; else curl -s "$@" --unix-socket "$at" "http://d$path"; fi
}
engine_url() { if [[ "$1" == tcp://* ]]; then echo "$1"; else echo "unix://$1"; fi; }

ping_ok() { [[ "$(engine_curl "$1" /_ping --max-time 3 2>/dev/null || true)" == OK ]]; }

# "docker 20.10.24 (API 1.41)" / "podman 4.3.1 (API 1.41)" from GET /version.
engine_version() {
  engine_curl "$1" /version --max-time 5 | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try {
        const v = JSON.parse(s);
        const pod = (v.Components || []).find((c) => c.Name === "Podman Engine");
        console.log(pod ? `podman ${pod.Version} (API ${v.ApiVersion})` : `docker ${v.Version} (API ${v.ApiVersion})`);
      } catch { console.log("unparseable /version: " + s.slice(0, 200)); }
    });'
}

# A killed daemon stays a zombie for a moment and `kill -0` still succeeds on it, so check
# /proc state and cmdline instead: a pidfile naming a dead/zombie/reused pid must go.
pid_alive() {
  local pid=$1 want=$2 state
  [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n "$state" && "$state" != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want"
}

clear_stale_pidfile() {
  local file=$1 want=$2 pid
  [[ -f "$file" ]] || return 0
  pid=$(tr -dc '0-9' <"$file" || true)
  if ! pid_alive "$pid" "$want"; then
    log "removing stale pidfile $file (pid '${pid}' is not a live $want)"
    rm -f "$file"
  fi
}

# wait_ping SOCK PID LOG: poll _ping; fail fast if the process we started has died.
wait_ping() {
  local sock=$1 pid=$2 logf=$3 deadline=$((SECONDS + 60))
  until ping_ok "$sock"; do
    if [[ -n "$pid" ]] && ! pid_alive "$pid" ''; then
      tail -n 30 "$logf" >&2 || true
      die "daemon for $sock (pid $pid) exited; log: $logf"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$logf" >&2 || true
      die "timed out after 60s waiting for $sock; log: $logf"
    fi
    sleep 0.2
  done
}

# Command words put before dockerd (e.g. nsenter into a network namespace); empty by default.
DOCKERD_PREFIX=()

# start_dockerd NAME SOCK PIDFILE EXECROOT LOG PATH ARGS...   (SOCK: a socket path or tcp://ip:port)
start_dockerd() {
  local name=$1 sock=$2 pidfile=$3 execroot=$4 logf=$5 path=$6 pid
  shift 6
  if ping_ok "$sock"; then
    log "$name: already running at $(engine_url "$sock") (reusing)"
    return 0
  fi
  clear_stale_pidfile "$pidfile" dockerd
  clear_stale_pidfile "$execroot/containerd/containerd.pid" containerd
  if [[ -f "$pidfile" ]]; then
    # A live dockerd owns the pidfile but does not answer yet: it is starting. Wait for it.
    pid=$(tr -dc '0-9' <"$pidfile")
    log "$name: dockerd pid $pid is starting; waiting"
    wait_ping "$sock" "$pid" "$logf"
    return 0
  fi
  log "$name: starting dockerd (log: $logf)"
  # setsid+nohup: the daemon must outlive this shell and the session/CI step that ran it.
  # 9>&-: a lock descriptor of a caller (flock) must not live on in the daemon.
  PATH=$path setsid nohup env -C / "${DOCKERD_PREFIX[@]}" dockerd --host "$(engine_url "$sock")" --pidfile "$pidfile" \
    --exec-root "$execroot" "$@" </dev/null >>"$logf" 2>&1 9>&- &
  pid=$!
  wait_ping "$sock" "$pid" "$logf"
}

start_docker() {
  # Fixed system PATH: the fake nvidia hook must never be visible to the main daemon.
  start_dockerd docker "$DOCKER_SOCK" /var/run/docker.pid /var/run/docker "$DOCKER_LOG" "$SYS_PATH"
  log "docker: $(engine_version "$DOCKER_SOCK") at unix://$DOCKER_SOCK"
  # Any dockerd started with --bridge=none deletes docker0; the main daemon then fails every
  # start on the default network until it is restarted (which recreates the bridge).
  if ! ip link show docker0 >/dev/null 2>&1; then
    log "docker: WARNING: bridge docker0 is missing; containers on the default network cannot start. Restart this dockerd."
  fi
}

write_cdi_spec() {
  mkdir -p /etc/cdi
  cat >"$CDI_SPEC.tmp" <<'EOF'
# Fake NVIDIA GPUs for swapdock tests (written by scripts/engines.sh). /dev/null stands in
# for the device nodes; NVIDIA_VISIBLE_DEVICES lets a container see what it was given.
cdiVersion: "0.5.0"
kind: nvidia.com/gpu
devices:
  - name: "0"
    containerEdits:
      env: ["NVIDIA_VISIBLE_DEVICES=0"]
      deviceNodes:
        - { path: /dev/nvidia0, hostPath: /dev/null }
  - name: "1"
    containerEdits:
      env: ["NVIDIA_VISIBLE_DEVICES=1"]
      deviceNodes:
        - { path: /dev/nvidia1, hostPath: /dev/null }
  - name: all
    containerEdits:
      env: ["NVIDIA_VISIBLE_DEVICES=all"]
      deviceNodes:
        - { path: /dev/nvidia0, hostPath: /dev/null }
        - { path: /dev/nvidia1, hostPath: /dev/null }
EOF
  mv "$CDI_SPEC.tmp" "$CDI_SPEC"
}

# The main dockerd creates docker0 only when it starts; if another daemon removed it, every
# container on the default network fails with "could not find bridge docker0".
ensure_docker0() {
  if ping_ok "$DOCKER_SOCK" && ! ip link show docker0 >/dev/null 2>&1; then
    log "docker: bridge docker0 was removed by another daemon; re-creating it (172.17.0.1/16)"
    ip link add docker0 type bridge
    ip addr add 172.17.0.1/16 dev docker0
    ip link set docker0 up
  fi
}

start_podman() {
  local pid nofile
  # Without this every start fails with "error setting rlimit type 7" here; podman only
  # reads it at service start, so write it first (and restart by hand if it changed).
  nofile=$(ulimit -Hn)
  [[ "$nofile" == unlimited ]] && nofile=1048576
  mkdir -p "$(dirname "$PODMAN_CONF")"
  printf '# written by swapdock scripts/engines.sh\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=32768:32768"]\n' \
    "$nofile" "$nofile" >"$PODMAN_CONF.tmp"
  mv "$PODMAN_CONF.tmp" "$PODMAN_CONF"
  write_cdi_spec
  # The registry tests serve images over plain HTTP on 127.0.0.1. Docker allows that for
  # 127.0.0.0/8 by default; Podman refuses ("server gave HTTP response to HTTPS client") unless
  # registries.conf marks the registry insecure ("127.0.0.1" matches every port). The compat
  # API's tlsVerify=false is ignored on pulls. The service reads this only when it starts.
  local registries_changed=0
  mkdir -p "$(dirname "$PODMAN_REGISTRIES_CONF")"
  printf '# written by swapdock scripts/engines.sh: test registries on loopback speak plain HTTP\n[[registry]]\nlocation = "127.0.0.1"\ninsecure = true\n\n[[registry]]\nlocation = "localhost"\ninsecure = true\n' \
    >"$PODMAN_REGISTRIES_CONF.tmp"
  cmp -s "$PODMAN_REGISTRIES_CONF.tmp" "$PODMAN_REGISTRIES_CONF" 2>/dev/null || registries_changed=1
  mv "$PODMAN_REGISTRIES_CONF.tmp" "$PODMAN_REGISTRIES_CONF"
  # Without the CNI dnsname plugin, containers on a Podman network cannot find each other by name
  # (a compose stack, or swapdock and its models on engine.network).
  if [[ ! -x /usr/lib/cni/dnsname ]]; then
    log "podman: WARNING: CNI plugin dnsname is missing: no name resolution on networks (apt-get install golang-github-containernetworking-plugin-dnsname)"
  fi

  if ping_ok "$PODMAN_SOCK"; then
    log "podman: already running at unix://$PODMAN_SOCK (reusing)"
    if [[ $registries_changed == 1 ]]; then
      log "podman: WARNING: $PODMAN_REGISTRIES_CONF changed; the running service reads it only at start: scripts/engines.sh restart podman"
    fi
  else
    clear_stale_pidfile "$PODMAN_PIDFILE" 'system service'
    if [[ -f "$PODMAN_PIDFILE" ]]; then
      pid=$(tr -dc '0-9' <"$PODMAN_PIDFILE")
      log "podman: service pid $pid is starting; waiting"
    else
      # Nobody serves the socket: a leftover file would make the new service fail to bind.
      rm -f "$PODMAN_SOCK"
      mkdir -p "$(dirname "$PODMAN_SOCK")"
      log "podman: starting 'podman system service' (log: $PODMAN_LOG)"
      # --time=0: the default exits after 5 s idle. Started in / (env -C): conmon leaves files such
      # as "oom" in its working directory.
      PATH=$SYS_PATH setsid nohup env -C / podman system service --time=0 "unix://$PODMAN_SOCK" \
        </dev/null >>"$PODMAN_LOG" 2>&1 9>&- &
      pid=$!
      echo "$pid" >"$PODMAN_PIDFILE"
    fi
    wait_ping "$PODMAN_SOCK" "$pid" "$PODMAN_LOG"
  fi
  log "podman: $(engine_version "$PODMAN_SOCK") at unix://$PODMAN_SOCK"
}

start_gpu_docker() {
  mkdir -p "$GPU_RUN" "$GPU_EXEC" "$GPU_HOOK_DIR" "$GPU_DATA"
  # dockerd registers its "nvidia" device driver iff this name is on its PATH at start.
  # The real hook would set up devices; this one only has to exit 0.
  cat >"$GPU_HOOK_DIR/nvidia-container-runtime-hook" <<'EOF'
#!/bin/sh
# FAKE hook for swapdock tests: lets dockerd accept nvidia DeviceRequests without a GPU.
cat >/dev/null
exit 0
EOF
  chmod 755 "$GPU_HOOK_DIR/nvidia-container-runtime-hook"
  if command -v nvidia-container-runtime-hook >/dev/null 2>&1; then
    log "gpu-docker: WARNING: a real nvidia-container-runtime-hook exists; the test daemon shadows it"
  fi
  write_cdi_spec

  # Own bridge so this daemon never touches docker0; with --iptables=false published ports
  # go through docker-proxy (userland), which reaches containers via this bridge's route.
  if ! ip link show "$GPU_BRIDGE" >/dev/null 2>&1; then
    ip link add "$GPU_BRIDGE" type bridge
  fi
  ip addr replace "$GPU_BRIDGE_CIDR" dev "$GPU_BRIDGE"
  ip link set "$GPU_BRIDGE" up

  # Own (empty) config file: settings in /etc/docker/daemon.json (hosts, bridge…) are meant
  # for the main daemon and would clash with these flags.
  echo '{}' >"$GPU_RUN/daemon.json"
  start_dockerd gpu-docker "$GPU_SOCK" "$GPU_PIDFILE" "$GPU_EXEC" "$GPU_LOG" "$GPU_HOOK_DIR:$SYS_PATH" \
    --config-file "$GPU_RUN/daemon.json" --data-root "$GPU_DATA" --bridge "$GPU_BRIDGE" --iptables=false --ip-masq=false
  # A dockerd started with --default-address-pool (or --bridge=none) deletes the host's docker0,
  # which belongs to the main daemon; we pass neither, and repair the bridge if it went anyway.
  ensure_docker0
  log "gpu-docker: $(engine_version "$GPU_SOCK") at unix://$GPU_SOCK"
}

# The "remote host": a network namespace joined to this one by a bridge and a veth pair.
# Idempotent: each piece is created only when missing, addresses are (re)set every time.
ensure_remote_netns() {
  [[ -e /run/netns/$REMOTE_NS ]] || ip netns add "$REMOTE_NS"
  if ! ip link show "$REMOTE_BRIDGE" >/dev/null 2>&1; then ip link add "$REMOTE_BRIDGE" type bridge; fi
  ip addr replace "$REMOTE_GW_CIDR" dev "$REMOTE_BRIDGE"
  ip link set "$REMOTE_BRIDGE" up
  if ! ip link show "$REMOTE_VETH" >/dev/null 2>&1; then
    # A leftover namespace end (the host end was deleted) would block the new pair's name.
    ip -n "$REMOTE_NS" link del "$REMOTE_VETH_NS" 2>/dev/null || true
    ip link add "$REMOTE_VETH" type veth peer name "$REMOTE_VETH_NS" netns "$REMOTE_NS"
  fi
  ip link set "$REMOTE_VETH" master "$REMOTE_BRIDGE" up
  ip -n "$REMOTE_NS" addr replace "$REMOTE_IP/24" dev "$REMOTE_VETH_NS"
  ip -n "$REMOTE_NS" link set "$REMOTE_VETH_NS" up
  ip -n "$REMOTE_NS" link set lo up
  # No default route: like the test machines, this "host" has no registry; pulls fail at once
  # (network unreachable) instead of waiting out DNS timeouts.
  ip -n "$REMOTE_NS" route del default 2>/dev/null || true
}

start_remote_docker() {
  mkdir -p "$REMOTE_RUN" "$REMOTE_EXEC" "$REMOTE_DATA"
  ensure_remote_netns
  echo '{}' >"$REMOTE_RUN/daemon.json"
  # nsenter, not `ip netns exec`: the latter remounts /sys, hides the cgroup mounts, and
  # dockerd dies with "Devices cgroup isn't mounted". --tls=false: else Docker 20.10 waits
  # 15 s before it listens on plain TCP. Its docker0 lives in the namespace (--bip).
  DOCKERD_PREFIX=(nsenter "--net=/run/netns/$REMOTE_NS")
  start_dockerd remote-docker "$REMOTE_TCP" "$REMOTE_PIDFILE" "$REMOTE_EXEC" "$REMOTE_LOG" "$SYS_PATH" \
    --tls=false --config-file "$REMOTE_RUN/daemon.json" --data-root "$REMOTE_DATA" --bip "$REMOTE_BIP" \
    --iptables=false --ip-masq=false
  DOCKERD_PREFIX=()
  log "remote-docker: $(engine_version "$REMOTE_TCP") at $REMOTE_TCP (network namespace $REMOTE_NS)"
}

# stop_pidfile NAME PIDFILE WANT: SIGTERM the daemon named in PIDFILE (its cmdline must contain
# WANT, so a daemon this script did not start is never touched) and wait until it is gone.
stop_pidfile() {
  local name=$1 pidfile=$2 want=$3 pid deadline
  pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)
  if ! pid_alive "$pid" "$want"; then
    log "$name: not running (started by this script)"
    rm -f "$pidfile"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 40))
  while pid_alive "$pid" ''; do
    if ((SECONDS >= deadline)); then
      log "$name: pid $pid still alive after 40 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

stop_engine() {
  case "$1" in
    docker) stop_pidfile docker /var/run/docker.pid '--exec-root /var/run/docker' ;;
    podman) stop_pidfile podman "$PODMAN_PIDFILE" 'system service'; rm -f "$PODMAN_SOCK" ;;
    gpu-docker) stop_pidfile gpu-docker "$GPU_PIDFILE" "--exec-root $GPU_EXEC" ;;
    remote-docker) stop_pidfile remote-docker "$REMOTE_PIDFILE" "--exec-root $REMOTE_EXEC" ;;
  esac
}

start_engine() {
  case "$1" in
    docker) start_docker ;;
    podman) start_podman ;;
    gpu-docker) start_gpu_docker ;;
    remote-docker) start_remote_docker ;;
  esac
}

ENGINES=(docker podman gpu-docker remote-docker)

# Which engines a command names: one, or all of them.
engines_named() {
  local what=${1:-all}
  case "$what" in
    all) echo "${ENGINES[@]}" ;;
    docker | podman | gpu-docker | remote-docker) echo "$what" ;;
    *) die "unknown engine '$what' (docker|podman|gpu-docker|remote-docker|all)" ;;
  esac
}

status_one() {
  local name=$1 sock=$2
  if ping_ok "$sock"; then
    printf '%-13s up    %s  %s\n' "$name" "$(engine_url "$sock")" "$(engine_version "$sock")"
  else
    printf '%-13s down  %s  (scripts/engines.sh start %s)\n' "$name" "$(engine_url "$sock")" "$name"
    return 1
  fi
}

cmd=${1:-}
# One start/stop at a time (npm test may run this while a developer does): fd 9, which
# start_dockerd closes for the daemons it starts.
if [[ "$cmd" == start || "$cmd" == stop || "$cmd" == restart ]] && [[ $EUID -eq 0 ]]; then
  exec 9>/run/swapdock-engines.lock
  flock -w 300 9 || die "another scripts/engines.sh has held /run/swapdock-engines.lock for 5 minutes"
fi
case "$cmd" in
  start)
    [[ $EUID -eq 0 ]] || die "must run as root (starts system daemons)"
    for e in $(engines_named "${2:-all}"); do start_engine "$e"; done
    ;;
  stop)
    [[ $EUID -eq 0 ]] || die "must run as root (stops system daemons)"
    # Reverse order: the main dockerd last (the GPU daemon may have touched its bridge).
    named=($(engines_named "${2:-all}"))
    for ((i = ${#named[@]} - 1; i >= 0; i--)); do stop_engine "${named[i]}"; done
    ;;
  restart)
    [[ $EUID -eq 0 ]] || die "must run as root (restarts system daemons)"
    for e in $(engines_named "${2:-all}"); do stop_engine "$e"; start_engine "$e"; done
    ;;
  status)
    rc=0
    status_one docker "$DOCKER_SOCK" || rc=1
    status_one podman "$PODMAN_SOCK" || rc=1
    status_one gpu-docker "$GPU_SOCK" || rc=1
    status_one remote-docker "$REMOTE_TCP" || rc=1
    exit $rc
    ;;
  *)
    echo "usage: $0 start|stop|restart [docker|podman|gpu-docker|remote-docker|all] | status" >&2
    exit 2
    ;;
esac
