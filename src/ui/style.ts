// The web UI's stylesheet (served as /ui/app.css). System fonts, light and dark themes, one
// colour per model state (the timeline's segments use the same ones).

export const UI_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #fff; --text: #1d232b; --muted: #677282; --line: #dde1e6; --hover: #f0f2f5;
  --stopped: #7c8794; --starting: #c98a00; --ready: #1f9d55; --sleeping: #8a63d2; --stopping: #3b7dd8; --failed: #d64545;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --panel: #1c2027; --text: #e3e7ec; --muted: #8d97a5; --line: #2c323c; --hover: #242a33;
    --stopped: #8d97a5; --starting: #e0a526; --ready: #3cc47c; --sleeping: #a98bf0; --stopping: #6aa2f0; --failed: #f07070;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px; padding: 10px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; letter-spacing: .02em; }
h2 { font-size: 13px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
main { padding: 16px 20px; display: grid; gap: 16px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.split { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
@media (max-width: 900px) { .split { grid-template-columns: 1fr; } }
.muted { color: var(--muted); }
.scroll { overflow: auto; }
.scroll.tall { max-height: 320px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { font-weight: 600; font-size: 12px; color: var(--muted); position: sticky; top: 0; background: var(--panel); }
tbody tr:hover { background: var(--hover); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.col-error { white-space: normal; color: var(--failed); max-width: 360px; font-size: 12px; }
.id { font-weight: 600; }
.sub { display: block; font-size: 12px; color: var(--muted); }
.state { display: inline-flex; align-items: center; gap: 6px; font-weight: 600; }
.state::before { content: ""; width: 9px; height: 9px; border-radius: 50%; background: currentColor; }
.state[data-state="stopped"] { color: var(--stopped); }
.state[data-state="starting"] { color: var(--starting); }
.state[data-state="ready"] { color: var(--ready); }
.state[data-state="stopping"] { color: var(--stopping); }
.state[data-state="sleeping"] { color: var(--sleeping); }
.state[data-state="failed"] { color: var(--failed); }
.state[data-state="starting"]::before, .state[data-state="stopping"]::before { animation: pulse 1s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: .3; } }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; margin-left: 4px; border-radius: 8px; border: 1px solid var(--line); color: var(--muted); font-weight: 500; }
button { font: inherit; padding: 3px 10px; border-radius: 5px; border: 1px solid var(--line); background: var(--panel); color: var(--text); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--muted); }
button:disabled { opacity: .45; cursor: default; }
.actions { display: flex; gap: 6px; }
.conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; border: 1px solid var(--line); color: var(--muted); }
.conn[data-state="live"] { color: var(--ready); border-color: var(--ready); }
.conn[data-state="offline"] { color: var(--failed); border-color: var(--failed); }
.gpus { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; }
.gpu { display: flex; align-items: center; gap: 6px; }
.engine { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px; }
.engine-name { font-weight: 600; }
.engine[data-reachable="false"] { border-color: var(--failed); }
.engine[data-reachable="false"] .gpu { opacity: .45; }
.engine-down { color: var(--failed); max-width: 280px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#models:not(.pool) .col-engine { display: none; }
.bar { width: 90px; height: 7px; border-radius: 4px; background: var(--line); overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--ready); }
.notice { margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; border: 1px solid var(--failed); color: var(--failed); background: var(--panel); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; margin-bottom: 8px; }
select { font: inherit; padding: 2px 6px; border-radius: 5px; border: 1px solid var(--line); background: var(--panel); color: var(--text); }
.log { margin: 0; height: 320px; overflow: auto; padding: 8px 10px; border-radius: 6px; background: #0f1216; color: #d7dde5; font: 12px/1.5 var(--mono); white-space: pre-wrap; word-break: break-all; }
.log .err { color: #ff9b9b; }
.log .at { color: #6f7b8a; }
.activity { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow: auto; font-size: 12px; }
.activity li { padding: 4px 0; border-bottom: 1px solid var(--line); }
.activity time { color: var(--muted); margin-right: 6px; font-variant-numeric: tabular-nums; }
.timeline { overflow-x: auto; min-height: 60px; }
.timeline-svg { display: block; font-size: 12px; }
.timeline-svg text { fill: var(--text); }
.timeline-svg .lane-label, .timeline-svg .chart-label { font-weight: 600; }
.timeline-svg .idle, .timeline-svg .chart-sub, .timeline-svg .tick-label { fill: var(--muted); }
.timeline-svg .tick-label { text-anchor: middle; font-size: 11px; font-variant-numeric: tabular-nums; }
.timeline-svg .row-line, .timeline-svg .tick { stroke: var(--line); stroke-width: 1; }
.timeline-svg .before-start { fill: var(--hover); }
.timeline-svg .baseline { stroke: var(--muted); stroke-width: 1; }
.seg-loading { fill: var(--starting); }
.seg-ready { fill: var(--ready); }
.seg-sleeping { fill: var(--sleeping); }
.seg-stopping { fill: var(--stopping); }
.seg.failed { stroke: var(--failed); stroke-width: 2; }
.seg.wake { fill-opacity: .7; }
.swap line { stroke: var(--failed); stroke-width: 1.5; stroke-dasharray: 4 3; }
.swap path { fill: var(--failed); }
.req-bar { fill: var(--muted); }
.err-bar { fill: var(--failed); }
.ttft-bar { fill: var(--stopping); }
.ttft-max { stroke: var(--starting); stroke-width: 2; }
.range { display: inline-flex; gap: 4px; }
.range button[aria-pressed="true"] { border-color: var(--text); font-weight: 600; }
.legend { display: inline-flex; gap: 10px; font-size: 12px; color: var(--muted); }
.key::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; background: currentColor; }
.key-loading::before { background: var(--starting); }
.key-ready::before { background: var(--ready); }
.key-sleeping::before { background: var(--sleeping); }
.key-stopping::before { background: var(--stopping); }
.key-swap::before { width: 2px; background: var(--failed); }
.status-ok { color: var(--ready); }
.status-client { color: var(--starting); }
.status-server { color: var(--failed); }
`;
