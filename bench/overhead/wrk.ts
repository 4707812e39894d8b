// wrk: the Lua script (small non-streaming chat completion), one wrk run, parsing its output.
// Targets carry their headers (the API key) as wrk -H options.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { CLIENT_CPU, pinned } from './cores.js';
import { LUA } from './plan.js';

export interface WrkResult {
  p50Ms: number;
  p99Ms: number;
  requestsPerSec: number;
  requests: number;
  errors: number;
}

/** What one wrk run requests: a URL, optionally a Lua script (method and body), and headers. */
export interface WrkTarget {
  url: string;
  lua?: string;
  headers?: Record<string, string>;
}

/** The non-streaming chat completion of writeLuaScript against a base URL. */
export const chatTarget = (baseUrl: string, headers: Record<string, string> = {}): WrkTarget => ({ url: `${baseUrl}/v1/chat/completions`, lua: LUA, headers });

export function writeLuaScript(model: string): void {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
  writeFileSync(
    LUA,
    [
      '-- written by bench/proxy-overhead.ts',
      'wrk.method = "POST"',
      `wrk.body = '${body}'`,
      'wrk.headers["Content-Type"] = "application/json"',
      '',
    ].join('\n'),
  );
}

export function parseDuration(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1000;
    case 'ms': return n;
    case 's': return n * 1000;
    case 'm': return n * 60_000;
    default: throw new Error(`unknown wrk time unit '${unit}'`);
  }
}

export function runWrk(target: WrkTarget, connections: number, seconds: number): Promise<WrkResult> {
  const headers = Object.entries(target.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const [cmd, argv] = pinned(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', ...headers, ...(target.lua ? ['-s', target.lua] : []), target.url],
    CLIENT_CPU,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      const pct = (p: number) => {
        const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
        if (!m) throw new Error(`no ${p}% line in wrk output:\n${out}`);
        return parseDuration(m[1]!, m[2]!);
      };
      try {
        const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
        const total = /(\d+) requests in/.exec(out);
        if (!rps || !total) throw new Error(`no request count in wrk output:\n${out}`);
        const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
        const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
        const errors = non2xx + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
        resolve({ p50Ms: pct(50), p99Ms: pct(99), requestsPerSec: Number(rps[1]), requests: Number(total[1]), errors });
      } catch (err) {
        reject(err);
      }
    });
  });
}
