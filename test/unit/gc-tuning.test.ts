// startServer turns off V8's allocation-site pretenuring (src/util/gc-tuning.ts). A probe in a
// child process keeps the objects of one literal alive across scavenges, which makes V8 decide to
// allocate that literal's objects in the old generation, and then asks V8 where a new one was
// born: without tuneGarbageCollector() it is old, with it young. The control run proves the probe
// still provokes the decision (on this Node), so the tuned run proves the flag takes effect.
// A 1 MB young generation makes the decision come within a few rounds (V8 takes it only once the
// young generation has grown to its maximum size; at the default size that took from 60 to over
// 400 rounds).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const GC_TUNING = pathToFileURL(new URL('../../src/util/gc-tuning.ts', import.meta.url).pathname).href;

const PROBE = `
import { tuneGarbageCollector } from ${JSON.stringify(GC_TUNING)};
if (process.argv[1] === 'tuned') tuneGarbageCollector();
const keep = [];
const make = (i) => ({ i, a: null, b: null });
let bornOld = false;
for (let round = 0; round < 200 && !bornOld; round++) {
  for (let i = 0; i < 5000; i++) keep.push(make(i));
  if (keep.length > 200000) keep.length = 0;
  bornOld = !%InYoungGeneration(make(-1));
}
process.stdout.write(JSON.stringify({ bornOld }));
`;

async function probe(mode: 'tuned' | 'control'): Promise<{ bornOld: boolean }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--allow-natives-syntax', '--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '--eval', PROBE, mode],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout) as { bornOld: boolean };
}

describe('GC tuning', () => {
  it('without it, V8 moves a literal whose objects survive into the old generation (the probe works)', async () => {
    assert.deepEqual(await probe('control'), { bornOld: true });
  });

  it('with it, objects of that literal are still born young', async () => {
    assert.deepEqual(await probe('tuned'), { bornOld: false });
  });
});
