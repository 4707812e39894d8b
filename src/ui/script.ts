// The web UI's script (served as /ui/app.js): plain browser JavaScript, no framework. It reads
// /api/models once, then follows /api/events?history=true (Server-Sent Events: the recent activity,
// then live changes), lists recent requests (/api/requests, then request events) and streams one
// log source (/api/logs[/model]). It tells the timeline (timeline-script.ts) of changes with a
// `swapdock:change` event on document. The GPU bars (one group per engine of a pool) are
// gpus-script.ts, spliced into this closure: the one dollar-brace below.
// Every value from the server reaches the page through textContent or setAttribute only.
// Kept as a string (no backticks or other dollar-brace inside) so tsc ships it without a bundler.
import { GPUS_SCRIPT } from './gpus-script.js';

export const UI_SCRIPT = String.raw`'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_REQUESTS = 200, MAX_LOG_LINES = 2000, MAX_ACTIVITY = 200;
  const models = new Map();   // id -> model from /api/models
  const rows = new Map();     // id -> { tr, cells }
  const busy = new Map();     // id -> 'load' | 'unload' while a button's request runs
  let gpus = null, swaps = 0, requests = [], seenRequests = new Set();
  let engines = []; // GET /api/models' engines: { name, gpus, reachable, unavailable?, downSince? }

  // ---- helpers ------------------------------------------------------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, String(v));
    }
    fill(node, children);
    return node;
  }
  /** Appends children, skipping null and undefined (which append() would print as text). */
  function fill(node, children) {
    for (const c of children) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const set = (node, ...children) => { node.replaceChildren(); return fill(node, children); };
  const pathOf = (id) => id.split('/').map(encodeURIComponent).join('/');
  const parse = (e) => { try { return JSON.parse(e.data); } catch { return null; } };
  function fmtBytes(n) {
    if (typeof n !== 'number') return '–';
    const gib = n / 1073741824;
    return gib >= 1 ? gib.toFixed(gib >= 100 ? 0 : 1) + ' GiB' : Math.round(n / 1048576) + ' MiB';
  }
  function fmtMs(ms) {
    if (typeof ms !== 'number') return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    return Math.floor(ms / 60000) + 'm ' + Math.round((ms % 60000) / 1000) + 's';
  }
  function fmtAgo(at) {
    if (!at) return 'never';
    const s = Math.max(0, Math.round((Date.now() - new Date(at).getTime()) / 1000));
    if (s < 5) return 'just now';
    if (s < 60) return s + 's ago';
    if (s < 3600) return Math.floor(s / 60) + 'm ago';
    if (s < 86400) return Math.floor(s / 3600) + 'h ago';
    return Math.floor(s / 86400) + 'd ago';
  }
  const clock = (at) => new Date(at).toLocaleTimeString([], { hour12: false });

  function notice(message, withLogin) {
    const box = $('notice');
    box.replaceChildren();
    if (!message) { box.hidden = true; return; }
    box.append(message);
    if (withLogin) box.append(' ', el('a', { href: '/ui/login' }, 'Log in'));
    box.append(' ', el('button', { type: 'button', onclick: () => notice(null) }, 'Dismiss'));
    box.hidden = false;
  }

  async function api(path, init) {
    let res;
    try {
      res = await fetch(path, Object.assign({ credentials: 'same-origin', headers: { accept: 'application/json' } }, init));
    } catch (err) {
      return { ok: false, status: 0, message: 'swapdock did not answer (' + err.message + ')' };
    }
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (res.status === 401 || res.status === 403) notice('The admin API needs an admin key (HTTP ' + res.status + ').', true);
    const message = body && body.error && body.error.message ? body.error.message : 'HTTP ' + res.status;
    return { ok: res.ok, status: res.status, body, message };
  }

  // ---- models -------------------------------------------------------------------------------
  let modelEvents = 0; // counts state events, so a fetched list older than one is not applied
  async function loadModels() {
    const seen = modelEvents;
    const r = await api('/api/models');
    if (seen !== modelEvents) return refreshSoon();
    if (r.ok && r.body) applySnapshot(r.body);
  }
  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(loadModels, 250);
  }

  function applySnapshot(s) {
    if (!s || !Array.isArray(s.models)) return;
    gpus = Array.isArray(s.gpus) ? s.gpus : null;
    engines = Array.isArray(s.engines) ? s.engines : [];
    swaps = s.swap && typeof s.swap.swaps === 'number' ? s.swap.swaps : 0;
    const ids = new Set();
    for (const m of s.models) { ids.add(m.id); models.set(m.id, m); renderModel(m); }
    for (const id of [...models.keys()]) if (!ids.has(id)) { models.delete(id); rows.get(id)?.tr.remove(); rows.delete(id); }
    // keep table order = config order
    const body = $('models').tBodies[0];
    for (const m of s.models) body.append(rows.get(m.id).tr);
    $('models-empty').hidden = s.models.length > 0;
    renderGpus();
    renderLogSources();
  }

  function renderModel(m) {
    let row = rows.get(m.id);
    if (!row) {
      const cells = {};
      const tr = el('tr', { 'data-model': m.id });
      for (const name of ['id', 'state', 'engine', 'devices', 'vram', 'inFlight', 'queued', 'lastUsed', 'error', 'actions']) {
        cells[name] = tr.appendChild(el('td', { class: 'col-' + name + (['vram', 'inFlight', 'queued'].includes(name) ? ' num' : '') }));
      }
      cells.load = el('button', { type: 'button', class: 'load', onclick: () => act(m.id, 'load') }, 'Load');
      cells.unload = el('button', { type: 'button', class: 'unload', onclick: () => act(m.id, 'unload') }, 'Unload');
      cells.sleep = el('button', { type: 'button', class: 'sleep', title: 'Give the GPU back, keep the container: the next request wakes it', onclick: () => act(m.id, 'sleep') }, 'Sleep');
      cells.logs = el('button', { type: 'button', class: 'logs', title: 'Show this model\'s log', onclick: () => showLogs(m.id) }, 'Logs');
      cells.actions.append(el('div', { class: 'actions' }, cells.load, cells.sleep, cells.unload, cells.logs));
      row = { tr, cells };
      rows.set(m.id, row);
      $('models').tBodies[0].append(tr);
    }
    const c = row.cells;
    const aliases = Array.isArray(m.aliases) && m.aliases.length ? el('span', { class: 'sub' }, 'aka ' + m.aliases.join(', ')) : null;
    set(c.id, el('span', { class: 'id' }, m.id), m.pinned ? el('span', { class: 'tag' }, 'pinned') : null,
      m.baseline ? el('span', { class: 'tag' }, 'baseline') : null, aliases);
    set(c.state, el('span', { class: 'state', 'data-state': m.status }, m.status),
      m.draining ? el('span', { class: 'tag' }, 'draining') : null,
      m.status === 'ready' && typeof m.loadDurationMs === 'number' ? el('span', { class: 'sub' }, 'loaded in ' + fmtMs(m.loadDurationMs)) : null);
    const devices = Array.isArray(m.devices) && m.devices.length ? m.devices.join(', ') : m.usesGpu === false ? 'CPU' : '–';
    c.devices.textContent = devices;
    c.engine.textContent = m.engine || '–';
    c.vram.textContent = fmtBytes(m.vramBytes);
    c.inFlight.textContent = String(m.inFlight ?? 0);
    c.queued.textContent = String(m.queued ?? 0);
    c.lastUsed.replaceChildren(el('time', { 'data-at': m.lastUsedAt || '', title: m.lastUsedAt || '' }, fmtAgo(m.lastUsedAt)));
    c.error.textContent = m.lastError || '';
    c.error.title = m.lastError || '';
    const pending = busy.get(m.id);
    c.load.textContent = pending === 'load' ? 'Loading…' : m.status === 'sleeping' ? 'Wake' : 'Load';
    c.unload.textContent = pending === 'unload' ? 'Unloading…' : 'Unload';
    c.load.disabled = Boolean(pending) || m.status === 'ready' || m.status === 'starting';
    c.unload.disabled = Boolean(pending) || m.status === 'stopped' || m.status === 'stopping';
    c.sleep.hidden = !m.sleep;
    c.sleep.textContent = pending === 'sleep' ? 'Sleeping…' : 'Sleep';
    c.sleep.disabled = Boolean(pending) || m.status !== 'ready';
  }

${GPUS_SCRIPT}

  async function act(id, action) {
    busy.set(id, action);
    if (models.has(id)) renderModel(models.get(id));
    const r = await api('/api/models/' + pathOf(id) + '/' + action, { method: 'POST' });
    busy.delete(id);
    if (models.has(id)) renderModel(models.get(id));
    if (!r.ok && r.status !== 401 && r.status !== 403) notice(action + ' ' + id + ' failed: ' + r.message);
    await loadModels();
  }

  // ---- live events --------------------------------------------------------------------------
  let events = null, backoff = 1000, retryTimer = null;
  function setConn(state, text) {
    const c = $('conn');
    c.dataset.state = state;
    c.textContent = text || state;
  }
  function connect() {
    events = new EventSource('/api/events?history=true', { withCredentials: true });
    setConn('connecting');
    events.onopen = () => { backoff = 1000; setConn('live'); loadRequests(); changed(); };
    events.onerror = () => {
      if (events.readyState !== EventSource.CLOSED) return setConn('connecting', 'reconnecting');
      events.close();
      setConn('offline', 'offline — retrying in ' + Math.round(backoff / 1000) + 's');
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => { loadModels(); connect(); }, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
    events.addEventListener('snapshot', (e) => applySnapshot(parse(e)));
    // Sent once after the snapshot: what happened before this page (or this reconnect) opened.
    events.addEventListener('history', (e) => {
      const h = parse(e);
      if (!h || !Array.isArray(h.events)) return;
      $('activity').replaceChildren();
      for (const entry of h.events) if (entry && entry.data) describe(entry.event, entry.data);
    });
    events.addEventListener('model', (e) => {
      const ev = parse(e);
      if (!ev) return;
      modelEvents++;
      const m = models.get(ev.model);
      let moved = false;
      if (m) {
        m.status = ev.to;
        if (ev.to === 'failed' && ev.reason) m.lastError = ev.reason;
        // The engine it loads on (its devices there come with the next /api/models); none once it stopped or failed.
        if (ev.to === 'stopped' || ev.to === 'failed') { m.engine = undefined; m.devices = []; }
        else if (ev.engine && ev.engine !== m.engine) { m.engine = ev.engine; m.devices = []; moved = true; }
        renderModel(m);
        renderGpus();
      }
      describe('model', ev);
      changed();
      if (moved || (ev.to !== 'starting' && ev.to !== 'stopping')) refreshSoon(); // devices, load time, error
    });
    events.addEventListener('queue', (e) => {
      const ev = parse(e);
      const m = ev && models.get(ev.model);
      if (!m) return;
      m.queued = ev.queued;
      m.inFlight = ev.inFlight;
      renderModel(m);
    });
    events.addEventListener('load', (e) => {
      const ev = parse(e);
      if (ev) describe('load', ev);
    });
    events.addEventListener('engine', (e) => {
      const ev = parse(e);
      if (!ev) return;
      applyEngineEvent(ev);
      describe('engine', ev);
      changed();
      refreshSoon(); // its models failed over, or may be adopted again
    });
    events.addEventListener('swap', (e) => {
      const ev = parse(e);
      if (ev) { describe('swap', ev); changed(); }
    });
    events.addEventListener('request', (e) => {
      const ev = parse(e);
      if (!ev) return;
      addRequest(ev);
      changed();
      const m = ev.model && models.get(ev.model);
      if (m) { m.lastUsedAt = new Date(ev.at).toISOString(); renderModel(m); }
    });
  }
  const changed = () => document.dispatchEvent(new CustomEvent('swapdock:change'));

  /** A model, load, swap or engine event as a line of the activity feed (live, or from the history). */
  function describe(kind, ev) {
    if (kind === 'model') {
      activity(ev.at, ev.model + ': ' + ev.from + ' → ' + ev.to + (ev.to === 'starting' && ev.engine && pooled() ? ' on ' + ev.engine : '') + (ev.reason ? ' — ' + ev.reason : '') +
        (typeof ev.durationMs === 'number' ? ' (' + fmtMs(ev.durationMs) + ')' : ''));
    } else if (kind === 'load') {
      activity(ev.at, ev.model + ' ' + ev.phase + ': ' + ev.message, ev.model + ':' + ev.phase);
    } else if (kind === 'swap') {
      activity(ev.at, 'swap: ' + ((ev.from || []).join(', ') || 'nothing') + ' → ' + ev.to);
    } else if (kind === 'engine') {
      activity(ev.at, 'engine ' + ev.engine + (ev.state === 'up' ? ': answers again' : ': unreachable' + (ev.reason ? ' — ' + ev.reason : '')));
    }
  }

  function activity(at, text, coalesceKey) {
    const list = $('activity');
    const first = list.firstElementChild;
    const item = el('li', { 'data-key': coalesceKey }, el('time', {}, clock(at || Date.now())), text);
    if (coalesceKey && first && first.dataset.key === coalesceKey) first.replaceWith(item);
    else list.prepend(item);
    while (list.childElementCount > MAX_ACTIVITY) list.lastElementChild.remove();
  }

  // ---- recent requests ----------------------------------------------------------------------
  function requestRow(r) {
    const status = Number(r.status);
    const cls = status >= 500 ? 'status-server' : status >= 400 ? 'status-client' : 'status-ok';
    const tokens = r.tokensIn === undefined && r.tokensOut === undefined ? '–' : (r.tokensIn ?? '–') + ' / ' + (r.tokensOut ?? '–');
    return el('tr', { 'data-request': r.requestId },
      el('td', { title: new Date(r.at).toISOString() }, clock(r.at)), el('td', {}, r.method), el('td', {}, r.path),
      el('td', {}, r.model || '–'), el('td', { class: 'num ' + cls }, String(r.status)), el('td', { class: 'num' }, fmtMs(r.durationMs)),
      el('td', { class: 'num' }, fmtMs(r.ttftMs)), el('td', { class: 'num' }, fmtMs(r.waitMs)), el('td', { class: 'num' }, tokens));
  }
  function addRequest(r) {
    if (!r.requestId || seenRequests.has(r.requestId)) return;
    seenRequests.add(r.requestId);
    requests.push(r);
    const body = $('requests').tBodies[0];
    body.prepend(requestRow(r));
    trimRequests();
  }
  function trimRequests() {
    const body = $('requests').tBodies[0];
    while (requests.length > MAX_REQUESTS) seenRequests.delete(requests.shift().requestId);
    while (body.childElementCount > MAX_REQUESTS) body.lastElementChild.remove();
    $('requests-empty').hidden = requests.length > 0;
  }
  async function loadRequests() {
    const r = await api('/api/requests');
    if (!r.ok || !r.body || !Array.isArray(r.body.requests)) return;
    for (const q of r.body.requests) if (q.requestId && !seenRequests.has(q.requestId)) { seenRequests.add(q.requestId); requests.push(q); }
    requests.sort((a, b) => a.at - b.at);
    $('requests').tBodies[0].replaceChildren(...requests.slice(-MAX_REQUESTS).reverse().map(requestRow));
    trimRequests();
  }

  // ---- logs ---------------------------------------------------------------------------------
  let logs = null, logBackoff = 1000, logTimer = null, pendingLines = [], flushTimer = null;
  function renderLogSources() {
    const select = $('log-source');
    const current = select.value;
    const wanted = ['', ...models.keys()];
    const have = [...select.options].map((o) => o.value);
    if (wanted.join('\n') === have.join('\n')) return;
    select.replaceChildren(...wanted.map((id) => el('option', { value: id }, id || 'swapdock')));
    select.value = wanted.includes(current) ? current : '';
    if (select.value !== current) openLogs();
  }
  function showLogs(id) {
    $('log-source').value = id;
    openLogs();
    $('log-lines').scrollIntoView({ block: 'nearest' });
  }
  function openLogs() {
    if (logs) logs.close();
    clearTimeout(logTimer);
    const id = $('log-source').value;
    const pane = $('log-lines');
    pane.replaceChildren();
    pendingLines = [];
    $('log-state').textContent = 'connecting…';
    logs = new EventSource(id ? '/api/logs/' + pathOf(id) : '/api/logs', { withCredentials: true });
    const mine = logs;
    logs.onopen = () => { logBackoff = 1000; pane.replaceChildren(); pendingLines = []; $('log-state').textContent = 'streaming'; };
    logs.onerror = () => {
      if (mine !== logs || mine.readyState !== EventSource.CLOSED) return;
      mine.close();
      $('log-state').textContent = 'not available — retrying in ' + Math.round(logBackoff / 1000) + 's';
      logTimer = setTimeout(openLogs, logBackoff);
      logBackoff = Math.min(logBackoff * 2, 30000);
    };
    logs.addEventListener('log', (e) => {
      const ev = parse(e);
      if (!ev || mine !== logs) return;
      pendingLines.push(ev);
      if (!flushTimer) flushTimer = setTimeout(flushLogs, 50);
    });
  }
  /** A container line as is; one of swapdock's own entries as "level msg key=value …". */
  function logText(ev) {
    if (typeof ev.line === 'string') return ev.line;
    const { at, level, msg, pid, hostname, ...fields } = ev;
    const extra = Object.entries(fields).map(([k, v]) => k + '=' + (typeof v === 'object' ? JSON.stringify(v) : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)).slice(0, 300));
    return [level, msg, ...extra].filter((x) => x !== undefined && x !== '').join(' ');
  }
  function flushLogs() {
    flushTimer = null;
    const pane = $('log-lines');
    const frag = document.createDocumentFragment();
    for (const ev of pendingLines.splice(0)) {
      const line = el('div', { class: ev.stream === 'stderr' || ['warn', 'error', 'fatal'].includes(ev.level) ? 'err' : null });
      if (ev.at) line.append(el('span', { class: 'at' }, clock(ev.at) + ' '));
      line.append(logText(ev));
      frag.append(line);
    }
    pane.append(frag);
    while (pane.childElementCount > MAX_LOG_LINES) pane.firstElementChild.remove();
    if ($('log-follow').checked) pane.scrollTop = pane.scrollHeight;
  }

  // ---- start --------------------------------------------------------------------------------
  function start() {
    $('log-source').addEventListener('change', openLogs);
    $('log-clear').addEventListener('click', () => $('log-lines').replaceChildren());
    setInterval(() => {
      for (const t of document.querySelectorAll('#models time[data-at]')) t.textContent = fmtAgo(t.dataset.at);
    }, 5000);
    loadModels();
    loadRequests();
    connect();
    openLogs();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
