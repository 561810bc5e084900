/**
 * exec probe (Kubernetes pkg/probe/exec): runs the command as an argv — no shell unless the user
 * wrote one — with the container's env, cwd and user; exit 0 is healthy; stdout and stderr share
 * one 10 KiB buffer that becomes the message. The command runs in its own process group, and a
 * timeout or abort kills that whole group, so a probe never leaves a grandchild behind.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ProbeResult } from './probe-result.js';
import { abortedResult, PROBE_OUTPUT_LIMIT } from './probe-result.js';

export interface ExecProbeOptions {
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export function runExecProbe(command: string[], options: ExecProbeOptions): Promise<ProbeResult> {
  const [file, ...args] = command;
  if (file === undefined || file === '') return Promise.resolve({ outcome: 'unknown', message: 'exec probe has no command' });
  if (options.signal.aborted) return Promise.resolve(abortedResult());
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      // Its own process group, so one kill(-pid) reaches everything the command forked.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return Promise.resolve({ outcome: 'failure', message: spawnErrorMessage(file, error as NodeJS.ErrnoException) });
  }
  return new Promise((resolve) => {
    const pid = child.pid;
    const chunks: Buffer[] = [];
    let length = 0;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let stopped: 'timeout' | 'abort' | undefined;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;

    const collect = (chunk: Buffer) => {
      const room = PROBE_OUTPUT_LIMIT - length;
      if (room > 0) chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
      // Keep draining past the limit: a blocked pipe would hang the command instead of ending it.
      length += chunk.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);

    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(result);
    };
    const verdict = (): ProbeResult => {
      if (stopped === 'abort') return abortedResult();
      // Kubernetes' timeout text (remote_runtime ExecSync) names the whole command.
      if (stopped === 'timeout') return { outcome: 'failure', message: `command ${JSON.stringify(command.join(' '))} timed out` };
      const output = Buffer.concat(chunks).toString('utf8');
      return { outcome: exit?.code === 0 ? 'success' : 'failure', message: output };
    };
    const stop = (why: 'timeout' | 'abort') => {
      if (exit !== undefined || settled) return;
      stopped = why;
      // The leader is alive (not yet reaped), so the group id cannot belong to anyone else.
      killGroup(pid);
    };
    const timer = setTimeout(() => {
      stop('timeout');
      // After the kill, give the pipes a moment to close, but never wait on a process that escaped the group.
      grace = setTimeout(() => finish(verdict()), 100);
    }, options.timeoutMs);
    const onAbort = () => {
      stop('abort');
      finish(abortedResult());
    };
    options.signal.addEventListener('abort', onAbort, { once: true });

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (pid !== undefined) return; // a started process reports through 'exit'
      finish({ outcome: 'failure', message: spawnErrorMessage(file, error) });
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Stragglers that stayed in the group die with the probe. Node reaped the leader just now, and
      // a group id stays allocated while any member lives, so this cannot hit an unrelated process
      // unless the group is already empty and its id reused within these microseconds.
      if (stopped === undefined) killGroup(pid);
    });
    child.once('close', () => finish(verdict()));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    // ESRCH: the group is already empty, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The runtime's wording for a command that cannot start (runc: `exec: "x": executable file not found in $PATH`). */
function spawnErrorMessage(file: string, error: NodeJS.ErrnoException): string {
  const quoted = JSON.stringify(file);
  if (error.code === 'ENOENT') return file.includes('/') ? `exec: ${quoted}: stat ${file}: no such file or directory` : `exec: ${quoted}: executable file not found in $PATH`;
  if (error.code === 'EACCES') return `exec: ${quoted}: permission denied`;
  return `exec: ${quoted}: ${error.message}`;
}
