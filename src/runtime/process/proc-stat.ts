/**
 * Reading /proc/<pid>/stat: the start time (field 22, clock ticks since boot) is what makes a pid
 * an identity — a pid the kernel reused has another start time — and the process group (field 5)
 * lists everything a container's wrapper leads.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie: exited, not yet reaped), … */
  state: string;
  pgrp: number;
  /** Field 22, in clock ticks since boot; a string because it can exceed 2^53 on long-lived hosts in theory. */
  startTime: string;
}

/** Parses a stat line; the command name (field 2) may hold spaces and parentheses, so fields are read after the last ')'. */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  // After ')' come fields 3.. (state is field 3), so field N is at index N - 3.
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pgrp)) return undefined;
  return { pid, state, pgrp, startTime };
}

/** The process's stat, or undefined when there is no such process. */
export async function readProcStat(pid: number, procRoot = '/proc'): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(pid, await readFile(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
}

/** True while `pid` is the process that started at `startTime` and has not exited (a zombie has exited). */
export async function isSameLiveProcess(pid: number, startTime: string, procRoot = '/proc'): Promise<boolean> {
  const stat = await readProcStat(pid, procRoot);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z';
}

/** Every live (non-zombie) process whose process group is `pgid`. */
export async function groupMembers(pgid: number, procRoot = '/proc'): Promise<number[]> {
  const members: number[] = [];
  for (const name of await readdir(procRoot)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = await readProcStat(pid, procRoot);
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z') members.push(pid);
  }
  return members;
}

/** Sends a signal, treating "already gone" as done. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
