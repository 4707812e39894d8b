// The web UI's HTML page: a static skeleton that the scripts (script.ts, timeline-script.ts) fill
// from /api/models, /api/events, /api/requests, /api/logs and /api/timeline. No data is ever written into this HTML.

export function renderPage(assets: { script: string; style: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swapdock</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.style}">
<script src="${assets.script}" defer></script>
</head>
<body>
<header>
  <h1>swapdock</h1>
  <span id="conn" class="conn" data-state="connecting" title="Live updates from /api/events">connecting</span>
  <div id="gpus" class="gpus" aria-label="GPUs"></div>
  <span id="swaps" class="muted"></span>
</header>
<div id="notice" class="notice" role="status" hidden></div>
<main>
  <section aria-labelledby="models-title">
    <h2 id="models-title">Models</h2>
    <div class="scroll">
      <table id="models">
        <thead><tr>
          <th>Model</th><th>State</th><th class="col-engine">Engine</th><th>Devices</th><th class="num">VRAM</th><th class="num">In flight</th>
          <th class="num">Queued</th><th>Last used</th><th>Last error</th><th></th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="models-empty" class="muted" hidden>No models.</p>
  </section>
  <section aria-labelledby="timeline-title">
    <h2 id="timeline-title">GPU timeline</h2>
    <div class="toolbar">
      <span id="timeline-range" class="range" role="group" aria-label="Time range">
        <button type="button" data-range="5m" aria-pressed="false">5 min</button>
        <button type="button" data-range="15m" aria-pressed="false">15 min</button>
        <button type="button" data-range="1h" aria-pressed="true">1 hour</button>
      </span>
      <span class="legend">
        <span class="key key-loading">loading</span><span class="key key-ready">ready</span>
        <span class="key key-sleeping">sleeping</span><span class="key key-stopping">stopping</span><span class="key key-swap">swap</span>
      </span>
      <span id="timeline-summary" class="muted"></span>
    </div>
    <div id="timeline" class="timeline"></div>
  </section>
  <section aria-labelledby="requests-title">
    <h2 id="requests-title">Recent requests</h2>
    <div class="scroll tall">
      <table id="requests">
        <thead><tr>
          <th>Time</th><th>Method</th><th>Path</th><th>Model</th><th class="num">Status</th><th class="num">Duration</th>
          <th class="num">TTFT</th><th class="num">Wait</th><th class="num">Tokens in/out</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="requests-empty" class="muted">No requests yet.</p>
  </section>
  <div class="split">
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Logs</h2>
      <div class="toolbar">
        <label>Source <select id="log-source"><option value="">swapdock</option></select></label>
        <label><input type="checkbox" id="log-follow" checked> follow</label>
        <button type="button" id="log-clear">Clear</button>
        <span id="log-state" class="muted"></span>
      </div>
      <pre id="log-lines" class="log" tabindex="0"></pre>
    </section>
    <section aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <ol id="activity" class="activity"></ol>
    </section>
  </div>
</main>
</body>
</html>
`;
}
