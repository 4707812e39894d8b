// Durations and sizes as the config writes them (`30s`, `10m`; `8g`, `512m`), shared by the
// config schema (schema.ts) and the engine schemas (engine-schema.ts).
import { z } from 'zod';
import { DURATION_PATTERN, SIZE_PATTERN, parseDurationMs, parseSizeBytes } from './duration.js';

// The `.meta` of durations, sizes and requests only feeds the JSON Schema for editors
// (json-schema.ts): the patterns of what the transforms parse. Parsing itself is unchanged.
const durationInput = z.union([z.number(), z.string()]).meta({ pattern: DURATION_PATTERN, minimum: 0 });
const sizeInput = z.union([z.number(), z.string()]).meta({ pattern: SIZE_PATTERN, minimum: 0, multipleOf: 1 });

export const duration = (what: string) =>
  durationInput
    .transform((value, ctx) => {
      const ms = parseDurationMs(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration; write e.g. 30s, 10m, 1h or a number of seconds` });
        return z.NEVER;
      }
      return ms;
    })
    .describe(`${what} (30s, 10m, 1h, or seconds)`);

export const size = sizeInput.transform((value, ctx) => {
  const bytes = parseSizeBytes(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a size; write e.g. 8g, 512m or a number of bytes` });
    return z.NEVER;
  }
  return bytes;
});
