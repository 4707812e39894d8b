// Bounded waiting and the swap order: maxConcurrent, maxQueue, queue.maxWait, clients leaving
// the queue, grouped versus fifo, preload and baseline models.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startApp, chat, waitFor } from '../support/app-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bounded queues', () => {
  it('queues past maxConcurrent and answers 429 with Retry-After past maxQueue', async () => {
    const h = await startApp(`models:\n  m: { image: fake-model:latest, maxConcurrent: 1, maxQueue: 1 }\n`);
    try {
      await (await h.request('/v1/chat/completions', chat('m'))).text(); // load it
      const first = h.request('/v1/chat/completions', chat('m', { stream: true, fake_chunks: 4, fake_chunk_delay_ms: 100 }));
      await waitFor(() => h.scheduler.snapshotOf('m')!.inFlight === 1, 2000, 'the first request in flight');
      const second = h.request('/v1/chat/completions', chat('m'));
      await waitFor(() => h.scheduler.snapshotOf('m')!.queued === 1, 2000, 'the second request queued');
      const third = await h.request('/v1/chat/completions', chat('m'));
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
      const { error } = JSON.parse(await third.text());
      assert.equal(error.code, 'queue_full');
      assert.match(error.message, /maxQueue/);
      assert.equal((await first).status, 200);
      await (await first).text();
      assert.equal((await second).status, 200, 'the queued request is served once the first finishes');
    } finally {
      await h.close();
    }
  });

  it('answers 503 with Retry-After when a request waits past queue.maxWait', async () => {
    const h = await startApp(`queue: { maxWait: 300ms }\nmodels:\n  m: { image: fake-model:latest, maxConcurrent: 1 }\n`);
    try {
      await (await h.request('/v1/chat/completions', chat('m'))).text();
      const slow = h.request('/v1/chat/completions', chat('m', { stream: true, fake_chunks: 8, fake_chunk_delay_ms: 100 }));
      await waitFor(() => h.scheduler.snapshotOf('m')!.inFlight === 1);
      const waited = await h.request('/v1/chat/completions', chat('m'));
      assert.equal(waited.status, 503);
      assert.ok(Number(waited.headers.get('retry-after')) >= 1);
      const { error } = JSON.parse(await waited.text());
      assert.equal(error.code, 'queue_timeout');
      assert.match(error.message, /queue\.maxWait/);
      assert.equal(h.scheduler.snapshotOf('m')!.queued, 0);
      await (await slow).text();
    } finally {
      await h.close();
    }
  });

  it('a client that leaves the queue does not cause a load', async () => {
    const h = await startApp(`swap: { policy: fifo }\nmodels:\n  a: { image: fake-model:latest, gpus: all }\n  b: { image: fake-model:latest, gpus: all }\n`, { gpuSupport: true });
    try {
      await (await h.request('/v1/chat/completions', chat('a'))).text();
      const slow = h.request('/v1/chat/completions', chat('a', { stream: true, fake_chunks: 4, fake_chunk_delay_ms: 100 }));
      await waitFor(() => h.scheduler.snapshotOf('a')!.inFlight === 1);
      const gaveUp = new AbortController();
      const b = h.request('/v1/chat/completions', { ...chat('b'), signal: gaveUp.signal });
      await waitFor(() => h.scheduler.snapshotOf('b')!.queued === 1);
      gaveUp.abort();
      await Promise.resolve(b).then((r) => r.text(), () => undefined);
      await (await slow).text();
      await sleep(200);
      assert.equal(h.runtime.createdSpecs.filter((s) => s.labels['io.swapdock.model'] === 'b').length, 0, 'b was never created');
      assert.equal(h.scheduler.snapshotOf('a')!.status, 'ready', 'a was not swapped out for nobody');
    } finally {
      await h.close();
    }
  });
});

describe('swap order', () => {
  // a is loaded and streaming; b arrives and needs the GPU; then another request for a arrives.
  async function scenario(policy: 'fifo' | 'grouped') {
    const h = await startApp(`swap: { policy: ${policy}, maxWait: 5s }\nmodels:\n  a: { image: fake-model:latest, gpus: all }\n  b: { image: fake-model:latest, gpus: all }\n`, { gpuSupport: true });
    try {
      await (await h.request('/v1/chat/completions', chat('a'))).text();
      const order: string[] = [];
      const done = (name: string) => async (r: Response) => {
        await r.text();
        order.push(name);
      };
      const a1 = Promise.resolve(h.request('/v1/chat/completions', chat('a', { stream: true, fake_chunks: 3, fake_chunk_delay_ms: 100 }))).then(done('a1'));
      await sleep(30);
      const b = Promise.resolve(h.request('/v1/chat/completions', chat('b'))).then(done('b'));
      await sleep(30);
      const a2 = Promise.resolve(h.request('/v1/chat/completions', chat('a'))).then(done('a2'));
      await Promise.all([a1, b, a2]);
      return { order, swaps: h.scheduler.swapCount };
    } finally {
      await h.close();
    }
  }

  it('fifo serves strictly in arrival order, swapping back and forth', async () => {
    const { order, swaps } = await scenario('fifo');
    assert.deepEqual(order, ['a1', 'b', 'a2']);
    assert.equal(swaps, 2);
  });

  it('grouped serves the loaded model first, then swaps once', async () => {
    const { order, swaps } = await scenario('grouped');
    assert.deepEqual(order, ['a2', 'a1', 'b']);
    assert.equal(swaps, 1);
  });

  it('grouped still swaps after swap.maxWait while the loaded model stays busy', async () => {
    const h = await startApp(`swap: { policy: grouped, maxWait: 300ms }\nmodels:\n  a: { image: fake-model:latest, gpus: all }\n  b: { image: fake-model:latest, gpus: all }\n`, { gpuSupport: true });
    try {
      await (await h.request('/v1/chat/completions', chat('a'))).text();
      let stop = false;
      const clientOfA = (async () => {
        let served = 0;
        while (!stop) {
          const r = await h.request('/v1/chat/completions', chat('a', { fake_delay_ms: 50 }));
          await r.text();
          served++;
        }
        return served;
      })();
      await sleep(100);
      const started = Date.now();
      const b = await h.request('/v1/chat/completions', chat('b'));
      const waited = Date.now() - started;
      stop = true;
      assert.equal(b.status, 200);
      await b.text(); // ends b's request, so a can come back for the loop's last request
      assert.ok(waited >= 250, `b waited for swap.maxWait (${waited} ms)`);
      assert.ok((await clientOfA) > 2, 'a kept serving meanwhile');
    } finally {
      await h.close();
    }
  });
});

describe('preload and baseline', () => {
  it('loads preload models at start-up', async () => {
    const h = await startApp(`models:\n  warm: { image: fake-model:latest, preload: true }\n  cold: { image: fake-model:latest }\n`);
    try {
      await waitFor(() => h.scheduler.snapshotOf('warm')!.status === 'ready', 5000, 'warm to preload');
      assert.equal(h.scheduler.snapshotOf('cold')!.status, 'stopped');
    } finally {
      await h.close();
    }
  });

  it('brings a baseline model back when the GPU falls idle', async () => {
    const h = await startApp(`models:\n  chat: { image: fake-model:latest, gpus: all, baseline: true }\n  big: { image: fake-model:latest, gpus: all, ttl: 300ms }\n`, { gpuSupport: true });
    try {
      await waitFor(() => h.scheduler.snapshotOf('chat')!.status === 'ready', 5000, 'the baseline to load at start-up');
      const res = await h.request('/v1/chat/completions', chat('big'));
      assert.equal(res.status, 200);
      await res.text();
      assert.equal(h.scheduler.snapshotOf('chat')!.status, 'stopped', 'the baseline made room');
      await waitFor(() => h.scheduler.snapshotOf('big')!.status === 'stopped', 5000, 'big to idle out');
      await waitFor(() => h.scheduler.snapshotOf('chat')!.status === 'ready', 5000, 'the baseline to come back');
    } finally {
      await h.close();
    }
  });
});
