// Cross-field checks that catch a config which could never be scheduled, at load time rather
// than on the first request: unknown conflict targets, GPUs the inventory lacks, models larger
// than any GPU.
import { formatSize } from './duration.js';

interface ModelShape {
  gpus?: 'all' | number | string[];
  vram?: number;
  conflicts: string[];
}

interface ConfigShape {
  gpus?: { id: string; vram: number }[];
  models: Record<string, ModelShape>;
}

export interface PlacementIssue {
  path: (string | number)[];
  message: string;
}

export function checkPlacement(config: ConfigShape): PlacementIssue[] {
  const issues: PlacementIssue[] = [];
  const ids = new Set(Object.keys(config.models));
  const inventory = config.gpus;
  if (inventory) {
    const seen = new Set<string>();
    inventory.forEach((gpu, index) => {
      if (seen.has(gpu.id)) issues.push({ path: ['gpus', index, 'id'], message: `GPU '${gpu.id}' is listed twice` });
      seen.add(gpu.id);
    });
  }
  for (const [id, model] of Object.entries(config.models)) {
    model.conflicts.forEach((other, index) => {
      if (!ids.has(other)) issues.push({ path: ['models', id, 'conflicts', index], message: `'${other}' is not a configured model` });
      if (other === id) issues.push({ path: ['models', id, 'conflicts', index], message: 'a model cannot conflict with itself' });
    });
    if (model.vram !== undefined && model.gpus === undefined) {
      issues.push({ path: ['models', id, 'vram'], message: 'vram applies to GPU models: add gpus (all, a count or device ids)' });
    }
    if (!inventory || model.gpus === undefined) continue;
    const byId = new Map(inventory.map((g) => [g.id, g]));
    let candidates = inventory;
    if (Array.isArray(model.gpus)) {
      const unknown = model.gpus.filter((g) => !byId.has(g));
      if (unknown.length) {
        issues.push({ path: ['models', id, 'gpus'], message: `GPU ${unknown.join(', ')} is not in the top-level gpus list (${inventory.map((g) => g.id).join(', ')})` });
        continue;
      }
      candidates = model.gpus.map((g) => byId.get(g)!);
    } else if (typeof model.gpus === 'number' && model.gpus > inventory.length) {
      issues.push({ path: ['models', id, 'gpus'], message: `needs ${model.gpus} GPUs but the host lists ${inventory.length}` });
      continue;
    }
    if (model.vram === undefined) continue;
    const need = model.gpus === 'all' || Array.isArray(model.gpus) ? candidates : [...candidates].sort((a, b) => b.vram - a.vram).slice(0, model.gpus as number);
    const tooSmall = need.filter((g) => g.vram < model.vram!);
    if (tooSmall.length) {
      issues.push({
        path: ['models', id, 'vram'],
        message: `needs ${formatSize(model.vram)} per GPU but GPU ${tooSmall.map((g) => `${g.id} has ${formatSize(g.vram)}`).join(', ')}; it could never load`,
      });
    }
  }
  return issues;
}
