// The web UI's GPU timeline (part of /ui/app.js, after script.ts): draws GET /api/timeline as an
// inline SVG by hand — a lane per GPU (and the CPU; in a pool of several engines each engine's,
// labelled with its name) with a row per model that held it, one rectangle per state (loading,
// ready, sleeping, stopping), swaps as vertical marks, and request rate and time to first token
// underneath on the same time axis. The data lives on the server, so a reload shows the same
// picture. It refreshes every 5 s, and soon after the main script signals a change (a
// `swapdock:change` event on document). Text goes in through text nodes only.
// Kept as a string (no backticks or dollar-brace inside) so tsc ships it without a bundler.

export const TIMELINE_SCRIPT = String.raw`'use strict';
(() => {
  const NS = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const RANGES = { '5m': 5 * 60000, '15m': 15 * 60000, '1h': 60 * 60000 };
  const MIN_SPAN = 2 * 60000; // a fresh server: two minutes, so seconds-long loads and 10 s buckets keep their proportions
  const LABEL_W = 150, PAD_R = 14, LANE_HEAD = 20, ROW = 18, ROW_GAP = 4, LANE_GAP = 10, CHART = 46, AXIS = 22;
  const STATE_TEXT = { loading: 'loading', ready: 'ready', sleeping: 'sleeping', stopping: 'stopping' };
  let data = null, range = '1h', timer = null, fetching = false, again = false;

  function node(tag, attrs, ...children) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) n.setAttribute(k, String(v));
    for (const c of children) if (c !== undefined && c !== null) n.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return n;
  }
  const tip = (text) => node('title', {}, text);
  const clock = (at, seconds) => new Date(at).toLocaleTimeString([], seconds ? { hour12: false } : { hour12: false, hour: '2-digit', minute: '2-digit' });
  function fmtMs(ms) {
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    return Math.floor(ms / 60000) + 'm ' + Math.round((ms % 60000) / 1000) + 's';
  }

  async function load() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const res = await fetch('/api/timeline', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (res.ok) { data = await res.json(); render(); }
      else $('timeline-summary').textContent = 'The timeline is not available (HTTP ' + res.status + ').';
    } catch (err) {
      $('timeline-summary').textContent = 'swapdock did not answer (' + err.message + ').';
    } finally {
      fetching = false;
      if (again) { again = false; soon(); }
    }
  }
  function soon() {
    if (timer) return;
    timer = setTimeout(() => { timer = null; load(); }, 400);
  }

  /** The models of a lane in the visible range, in the order they first appear, each with its segments. */
  function rowsOf(lane, from, to) {
    const rows = new Map();
    for (const s of lane.segments) {
      if ((s.to ?? to) < from) continue;
      if (!rows.has(s.model)) rows.set(s.model, []);
      rows.get(s.model).push(s);
    }
    return [...rows.entries()];
  }

  /** A tick step that puts a label about every 110 px. */
  function tickStep(spanMs, width) {
    const steps = [10e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3];
    const wanted = spanMs / Math.max(1, width / 110);
    return steps.find((s) => s >= wanted) || steps[steps.length - 1];
  }

  function render() {
    const box = $('timeline');
    if (!data || !Array.isArray(data.lanes)) return;
    const to = data.to;
    const from = Math.min(Math.max(data.from, to - RANGES[range]), to - MIN_SPAN);
    const span = to - from;
    const width = Math.max(480, box.clientWidth || 900);
    const plotW = width - LABEL_W - PAD_R;
    const x = (t) => LABEL_W + ((Math.min(to, Math.max(from, t)) - from) / span) * plotW;
    const svg = node('svg', { class: 'timeline-svg', width, role: 'img', 'aria-label': 'What each GPU did from ' + clock(from, true) + ' to ' + clock(to, true) });
    let y = 0, slowest = 0, wakes = 0;
    const loads = new Set();

    // Lanes: a header, then a row per model that held the lane.
    const lanesTop = y;
    for (const lane of data.lanes) {
      const g = node('g', { class: 'lane', 'data-lane': lane.id });
      const laneLabel = lane.label.length > 22 ? lane.label.slice(0, 21) + '…' : lane.label; // "tower · GPU 0" in a pool
      g.append(tip(lane.label), node('text', { class: 'lane-label', x: 0, y: y + 14 }, laneLabel));
      y += LANE_HEAD;
      const rows = rowsOf(lane, from, to);
      if (!rows.length) {
        g.append(node('text', { class: 'idle', x: 12, y: y + 13 }, 'idle'));
        g.append(node('line', { class: 'row-line', x1: LABEL_W, x2: LABEL_W + plotW, y1: y + ROW / 2, y2: y + ROW / 2 }));
        y += ROW + ROW_GAP;
      }
      for (const [model, segments] of rows) {
        const row = node('g', { class: 'row', 'data-model': model });
        const label = model.length > 20 ? model.slice(0, 19) + '…' : model;
        row.append(tip(model), node('text', { class: 'row-label', x: 12, y: y + 13 }, label));
        row.append(node('line', { class: 'row-line', x1: LABEL_W, x2: LABEL_W + plotW, y1: y + ROW / 2, y2: y + ROW / 2 }));
        for (const s of segments) {
          const end = s.to ?? to;
          const x1 = x(s.from), w = Math.max(2, x(end) - x1);
          const what = model + ': ' + (s.wake ? 'waking' : STATE_TEXT[s.state] || s.state) + ' ' + clock(s.from, true) + ' – ' +
            (s.to === undefined ? 'now' : clock(s.to, true)) + ' (' + fmtMs(end - s.from) + (s.to === undefined ? ' so far' : '') + ')' + (s.failed ? ', then failed' : '');
          row.append(node('rect', {
            class: 'seg seg-' + s.state + (s.failed ? ' failed' : '') + (s.wake ? ' wake' : ''), x: x1, y: y + 2, width: w, height: ROW - 4, rx: 2,
            'data-model': model, 'data-state': s.state, 'data-lane': lane.id, 'data-open': s.to === undefined ? 'true' : null,
          }, tip(what)));
          if (s.state === 'loading' && s.from >= from && !loads.has(model + '@' + s.from)) {
            loads.add(model + '@' + s.from); // once, though a model on two GPUs is drawn twice
            if (s.wake) wakes++;
            if (s.to !== undefined) slowest = Math.max(slowest, s.to - s.from);
          }
        }
        g.append(row);
        y += ROW + ROW_GAP;
      }
      svg.append(g);
      y += LANE_GAP;
    }
    const lanesBottom = y - LANE_GAP;
    if (data.from > from) {
      svg.prepend(node('rect', { class: 'before-start', x: LABEL_W, y: lanesTop, width: x(data.from) - LABEL_W, height: Math.max(0, lanesBottom - lanesTop) },
        tip('before swapdock started (' + clock(data.from, true) + ')')));
    }

    // Swaps: a mark across every lane.
    const swaps = (data.swaps || []).filter((s) => s.at >= from);
    for (const s of swaps) {
      const at = x(s.at);
      const text = 'swap at ' + clock(s.at, true) + ': ' + ((s.from || []).join(', ') || 'nothing') + ' → ' + s.to;
      svg.append(node('g', { class: 'swap', 'data-to': s.to, 'data-from': (s.from || []).join(',') },
        node('line', { x1: at, x2: at, y1: lanesTop, y2: lanesBottom }),
        node('path', { d: 'M' + (at - 4) + ' ' + lanesTop + 'h8l-4 6z' }),
        tip(text)));
    }

    // Requests and time to first token per bucket, on the same axis.
    const buckets = (data.buckets || []).filter((b) => b.at + data.bucketMs > from);
    const maxReq = Math.max(1, ...buckets.map((b) => b.requests));
    const maxTtft = Math.max(1, ...buckets.map((b) => b.ttftMsMax || 0));
    const per = (data.bucketMs % 1000 ? fmtMs(data.bucketMs) : data.bucketMs / 1000 + ' s').replace(' ', '\u00a0');
    y += 6;
    svg.append(node('text', { class: 'chart-label', x: 0, y: y + 14 }, 'requests / ' + per));
    svg.append(node('text', { class: 'chart-sub', x: 0, y: y + 30 }, buckets.length ? 'peak ' + maxReq : 'none'));
    svg.append(node('line', { class: 'baseline', x1: LABEL_W, x2: LABEL_W + plotW, y1: y + CHART, y2: y + CHART }));
    for (const b of buckets) {
      const h = Math.max(2, (b.requests / maxReq) * (CHART - 4));
      const bx = x(b.at), barW = Math.max(1, x(b.at + data.bucketMs) - bx - 1);
      const text = clock(b.at, true) + ': ' + b.requests + ' request(s)' + (b.errors ? ', ' + b.errors + ' failed' : '');
      svg.append(node('rect', { class: 'req-bar', x: bx, y: y + CHART - h, width: barW, height: h, 'data-requests': b.requests, 'data-errors': b.errors }, tip(text)));
      if (b.errors) {
        const eh = Math.max(2, (b.errors / maxReq) * (CHART - 4));
        svg.append(node('rect', { class: 'err-bar', x: bx, y: y + CHART - eh, width: barW, height: eh }, tip(text)));
      }
    }
    y += CHART + 10;
    const withTtft = buckets.filter((b) => typeof b.ttftMsAvg === 'number');
    svg.append(node('text', { class: 'chart-label', x: 0, y: y + 14 }, 'time to first token'));
    svg.append(node('text', { class: 'chart-sub', x: 0, y: y + 30 }, withTtft.length ? 'peak ' + fmtMs(maxTtft) : 'none'));
    svg.append(node('line', { class: 'baseline', x1: LABEL_W, x2: LABEL_W + plotW, y1: y + CHART, y2: y + CHART }));
    for (const b of withTtft) {
      const h = Math.max(2, (b.ttftMsAvg / maxTtft) * (CHART - 4));
      const bx = x(b.at), barW = Math.max(1, x(b.at + data.bucketMs) - bx - 1);
      const text = clock(b.at, true) + ': time to first token ' + fmtMs(b.ttftMsAvg) + ' on average, ' + fmtMs(b.ttftMsMax) + ' at most';
      svg.append(node('rect', { class: 'ttft-bar', x: bx, y: y + CHART - h, width: barW, height: h, 'data-ttft-ms': b.ttftMsAvg }, tip(text)));
      const my = y + CHART - Math.max(2, (b.ttftMsMax / maxTtft) * (CHART - 4));
      svg.append(node('line', { class: 'ttft-max', x1: bx, x2: bx + barW, y1: my, y2: my }, tip(text)));
    }
    y += CHART + 4;

    // The time axis.
    const step = tickStep(span, plotW);
    svg.append(node('line', { class: 'baseline', x1: LABEL_W, x2: LABEL_W + plotW, y1: y, y2: y }));
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      const tx = x(t);
      svg.append(node('line', { class: 'tick', x1: tx, x2: tx, y1: 0, y2: y + 4 }));
      svg.append(node('text', { class: 'tick-label', x: tx, y: y + 16 }, clock(t, step < 60e3)));
    }
    y += AXIS;
    svg.setAttribute('height', String(y));
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + y);
    box.replaceChildren(svg);

    const requests = buckets.reduce((n, b) => n + b.requests, 0);
    $('timeline-summary').textContent = 'since ' + clock(Math.max(from, data.from), true) + ': ' + swaps.length + ' swap(s), ' + loads.size + ' load(s)' +
      (wakes ? ' (' + wakes + ' wake(s))' : '') + (slowest ? ', slowest ' + fmtMs(slowest) : '') + ', ' + requests + ' request(s)';
  }

  function start() {
    for (const button of document.querySelectorAll('#timeline-range button')) {
      button.addEventListener('click', () => {
        range = button.dataset.range;
        for (const b of document.querySelectorAll('#timeline-range button')) b.setAttribute('aria-pressed', String(b === button));
        render();
      });
    }
    let resizing = null;
    window.addEventListener('resize', () => { cancelAnimationFrame(resizing); resizing = requestAnimationFrame(render); });
    document.addEventListener('swapdock:change', soon);
    setInterval(() => { if (!document.hidden) load(); }, 5000);
    load();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
