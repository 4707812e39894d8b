// What `swapdock ps` prints for people: one row per model (state, devices, VRAM, in flight,
// queued, last used), the GPUs with the VRAM their models hold, and the last error of a model
// that failed. With a pool of several engines both tables get an ENGINE column (GPU ids are per
// engine), and an engine that is unreachable is named with why. `--json` prints GET /api/models
// as it came instead.
import { formatSize } from '../config/duration.js';
import type { EngineView, ModelView, ModelsView } from './server-client.js';

export function renderPs(view: ModelsView, now: number): string {
  const pool = view.engines && view.engines.length > 1 ? view.engines : undefined;
  const rows = view.models.map((m) => [
    m.id,
    stateOf(m),
    ...(pool ? [m.engine ?? '-'] : []),
    m.devices.length ? m.devices.join(',') : m.usesGpu ? '-' : 'CPU',
    m.usesGpu ? (m.vramBytes === undefined ? 'whole GPU' : formatSize(m.vramBytes)) : '-',
    String(m.inFlight),
    String(m.queued),
    ago(m.lastUsedAt, now),
  ]);
  const headers = ['MODEL', 'STATE', ...(pool ? ['ENGINE'] : []), 'DEVICES', 'VRAM', 'IN FLIGHT', 'QUEUED', 'LAST USED'];
  const parts = [renderTable(headers, rows, new Set([headers.indexOf('IN FLIGHT'), headers.indexOf('QUEUED')]))];
  if (view.models.length === 0) parts.push('(no models configured)');
  if (pool) {
    if (pool.some((e) => e.gpus?.length)) parts.push('', renderPoolGpus(view, pool));
    const down = pool.filter((e) => !e.reachable);
    if (down.length) parts.push('', ...down.map((e) => `engine ${e.name} is unreachable${e.downSince ? ` (went away ${ago(e.downSince, now)})` : ''}: ${e.unavailable ?? 'no answer'}`));
  } else if (view.gpus?.length) parts.push('', renderGpus(view));
  const errors = view.models.filter((m) => m.status === 'failed' && m.lastError);
  if (errors.length) parts.push('', ...errors.map((m) => `${m.id} failed: ${m.lastError}`));
  return parts.join('\n');
}

function stateOf(model: ModelView): string {
  return model.draining && model.status !== 'stopped' ? `${model.status} (draining)` : model.status;
}

/** VRAM held per GPU: what loaded models need there (the whole GPU without `vram`), a sleeping model's context. */
function renderGpus(view: ModelsView): string {
  const rows = view.gpus!.map((gpu) => gpuRow(gpu, view.models));
  return `${renderTable(['GPU', 'IN USE', 'TOTAL', 'MODELS'], rows, new Set([1, 2]))}\n${swapLine(view)}`;
}

/** The same per engine of the pool: a model holds GPUs of its own engine only. */
function renderPoolGpus(view: ModelsView, pool: EngineView[]): string {
  const rows = pool.flatMap((engine) => (engine.gpus ?? []).map((gpu) => [engine.name, ...gpuRow(gpu, view.models.filter((m) => m.engine === engine.name))]));
  return `${renderTable(['ENGINE', 'GPU', 'IN USE', 'TOTAL', 'MODELS'], rows, new Set([2, 3]))}\n${swapLine(view)}`;
}

function gpuRow(gpu: { id: string; vramBytes: number }, models: ModelView[]): string[] {
  const on = models.filter((m) => m.devices.includes(gpu.id) && m.status !== 'stopped' && m.status !== 'failed');
  const used = on.reduce((sum, m) => sum + (m.status === 'sleeping' ? (m.sleep?.vramBytes ?? 0) : (m.vramBytes ?? gpu.vramBytes)), 0);
  return [gpu.id, used === 0 ? '0' : formatSize(used), formatSize(gpu.vramBytes), on.map((m) => m.id).join(', ') || '-'];
}

const swapLine = (view: ModelsView) => `swaps: ${view.swap.swaps} (policy ${view.swap.policy})`;

/** 'just now', '42s ago', '5m ago', '3h ago', '2d ago', or 'never'. */
export function ago(at: string | null, now: number): string {
  if (!at) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** Columns padded to their widest cell, two spaces apart; `right` columns (numbers) right-aligned. */
export function renderTable(headers: string[], rows: string[][], right = new Set<number>()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
