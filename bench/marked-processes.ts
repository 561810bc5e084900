/**
 * The benchmark's own processes, found and stopped by PID: each carries a marker in its
 * environment, so whatever outlives a phase is found in /proc, and children are stopped by PID with
 * an escalation to SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { rssMiB } from './processes.js';

export const MARKER_VARIABLE = 'PM8S_BENCH_POD_START';

const delay = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** PIDs of live processes whose environment carries the marker (the wrappers and commands we caused). */
export function markedProcesses(marker: string): number[] {
  const needle = `\0${MARKER_VARIABLE}=${marker}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    let stat: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch (error) {
      // Ended between readdir and read, or not ours to read (so not one we started).
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') continue;
      throw error;
    }
    // A zombie has ended; its parent has yet to reap it.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== 'Z' && `\0${environ}`.includes(needle)) found.push(Number(entry));
  }
  return found;
}

export function killMarked(marker: string): number[] {
  const pids = markedProcesses(marker);
  for (const pid of pids) signal(pid, 'SIGKILL');
  return pids;
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Signals a child by PID and waits for its exit, escalating to SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, first: NodeJS.Signals, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  signal(child.pid, first);
  const timer = setTimeout(() => signal(child.pid!, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Waits for a process that is not our child to end, killing it with `name` after `graceMs`. */
export async function stopPid(pid: number, name: NodeJS.Signals, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH' || code === 'ENOENT') return false;
      throw error;
    }
  };
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await delay(20);
  if (alive()) signal(pid, name);
}

export function memoryOf(pid: number): { current: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peak = /VmHWM:\s+(\d+) kB/.exec(status);
  return { current: rssMiB(pid), peak: peak ? Number(peak[1]) / 1024 : Number.NaN };
}

