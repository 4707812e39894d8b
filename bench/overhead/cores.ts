// Cores and processes: pinning with taskset, a process's CPU time, keeping cores awake.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const CLIENT_CPU = 0;
export const PROXY_CPU = 1;
export const CPU_COUNT = os.availableParallelism(); // before this process pins itself to one core
export const PIN = CPU_COUNT >= 2 && hasCommand('taskset');

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function pinned(command: string, argv: string[], cpu: number): [string, string[]] {
  return PIN ? ['taskset', ['-c', String(cpu), command, ...argv]] : [command, argv];
}

export function pinPid(pid: number, cpu: number): void {
  if (PIN) execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** utime + stime of a process, in ms. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/PID/stat (1-based), counted here from field 3.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * A busy loop at SCHED_IDLE priority on each core: it runs only when nothing else wants the
 * core, so it takes no CPU from the processes measured, but the vCPU never halts. On a VM, waking
 * a halted vCPU costs a VM exit; a proxied request crosses cores four times (client → proxy →
 * backend → proxy → client), a direct one not at all. Measuring with and without these spinners
 * separates the VM's wake-up cost from the proxy's own.
 */
export function keepCoresAwake(): () => void {
  const spinners = [CLIENT_CPU, PROXY_CPU].map((cpu) =>
    spawn('taskset', ['-c', String(cpu), 'chrt', '--idle', '0', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }),
  );
  const stop = () => spinners.forEach((s) => s.exitCode === null && s.kill('SIGKILL'));
  process.once('exit', stop);
  return stop;
}
