// The web UI's GPU bars in the page header: a part of script.ts's closure, spliced into it (it
// uses that script's `models`, `gpus`, `engines`, `swaps` and helpers). One bar per GPU with the
// VRAM its models hold; with a pool of several engines one group per engine, headed by its name
// and marked unreachable (with why) while the engine is down, each bar counting only the models
// on that engine (GPU ids are per engine: '0' on tower and '0' on rack are two GPUs). With one
// engine the bars are as they always were.
// Kept as a string (no backticks or dollar-brace inside) so tsc ships it without a bundler.

export const GPUS_SCRIPT = String.raw`
  // ---- GPUs (gpus-script.ts) ----------------------------------------------------------------
  /** What the models on GPU g hold (of engine, when given): loaded ones their VRAM, sleeping ones their CUDA context. */
  function gpuUse(g, engine) {
    let used = 0;
    for (const m of models.values()) {
      if (engine !== undefined && m.engine !== engine) continue;
      if (!(m.devices || []).includes(g.id)) continue;
      if (['starting', 'ready', 'stopping'].includes(m.status)) used += m.vramBytes ?? g.vramBytes;
      else if (m.status === 'sleeping') used += (m.sleep && m.sleep.vramBytes) || 0;
    }
    return used;
  }
  function gpuBar(g, engine) {
    const used = gpuUse(g, engine);
    const pct = g.vramBytes ? Math.min(100, Math.round((used / g.vramBytes) * 100)) : 0;
    const bar = el('span', { class: 'bar', title: pct + '% in use' }, el('span'));
    bar.firstChild.style.width = pct + '%';
    return el('span', { class: 'gpu', 'data-gpu': g.id }, 'GPU ' + g.id, bar, fmtBytes(used) + ' / ' + fmtBytes(g.vramBytes));
  }
  const pooled = () => engines.length > 1;

  function renderGpus() {
    const box = $('gpus');
    box.replaceChildren();
    $('swaps').textContent = 'swaps: ' + swaps;
    $('models').classList.toggle('pool', pooled()); // the Engine column
    if (pooled()) {
      for (const e of engines) {
        const down = e.reachable === false;
        const group = el('span', { class: 'engine', role: 'group', 'aria-label': 'engine ' + e.name, 'data-engine': e.name, 'data-reachable': String(!down) },
          el('strong', { class: 'engine-name' }, e.name));
        if (down) {
          const since = e.downSince ? ' since ' + clock(e.downSince) : '';
          group.append(el('span', { class: 'engine-down', title: 'unreachable' + since + ': ' + (e.unavailable || 'no answer') }, 'unreachable' + (e.unavailable ? ': ' + e.unavailable : '')));
        }
        const list = Array.isArray(e.gpus) ? e.gpus : [];
        if (!list.length) group.append(el('span', { class: 'muted' }, 'no GPUs'));
        for (const g of list) group.append(gpuBar(g, e.name));
        box.append(group);
      }
      return;
    }
    if (!gpus || !gpus.length) { box.append(el('span', { class: 'muted' }, 'no GPUs')); return; }
    for (const g of gpus) box.append(gpuBar(g));
  }

  /** An engine of the pool went away (state down, with why) or answers again (up). */
  function applyEngineEvent(ev) {
    const e = engines.find((x) => x.name === ev.engine);
    if (!e) return;
    e.reachable = ev.state === 'up';
    if (e.reachable) { delete e.unavailable; delete e.downSince; }
    else { e.unavailable = ev.reason; e.downSince = new Date(ev.at).toISOString(); }
    renderGpus();
  }
`;
