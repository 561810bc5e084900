/**
 * How a container ended, as data (execa's habit): the wrapper's status file read back into the
 * fields Kubernetes reports in `state.terminated`.
 */
import { constants } from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import type { ProcessHandle } from './process-handle.js';
import { sleep } from '../../lib/backoff.js';

export type ExitReason = 'Completed' | 'Error' | 'OOMKilled' | 'ContainerStatusUnknown';

export interface ExitResult {
  exitCode: number;
  /** The signal that ended the command (`SIGKILL`), when its status says it died by one. */
  signal?: NodeJS.Signals;
  reason: ExitReason;
  message?: string;
  /** When the status was recorded (the status file's mtime); absent when unknown. */
  finishedAt?: Date;
}

export interface ExitedOptions {
  /** Stops the wait; `exited` then resolves undefined. */
  signal?: AbortSignal;
  /** Poll interval while the wrapper runs; default 200 ms. */
  intervalMs?: number;
  /** Asked once the process is gone: whether the container's cgroup counted an OOM kill. */
  oomKilled?: () => Promise<boolean>;
}

/** Kubernetes' text for a container whose status could not be found (kubelet `ContainerStatusUnknown`). */
export const STATUS_UNKNOWN_MESSAGE = 'The container could not be located when the pod was terminated';

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/** Parses `<exitCode> [<SIGNAME without SIG>]`; a status above 128 names a signal as shells report it. */
export function parseStatus(text: string): { exitCode: number; signal?: NodeJS.Signals } | undefined {
  const [code] = text.trim().split(/\s+/);
  const exitCode = Number(code);
  if (code === undefined || code === '' || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) return undefined;
  const signal = exitCode > 128 ? SIGNAL_NAMES.get(exitCode - 128) : undefined;
  return signal === undefined ? { exitCode } : { exitCode, signal };
}

/** Reads the status file of an exited process into a result. */
export async function readExitResult(statusFile: string, oomKilled?: () => Promise<boolean>): Promise<ExitResult> {
  let text: string;
  let finishedAt: Date | undefined;
  try {
    text = await readFile(statusFile, 'utf8');
    finishedAt = (await stat(statusFile)).mtime;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '';
  }
  const oom = oomKilled === undefined ? false : await oomKilled();
  const status = parseStatus(text);
  if (status === undefined) {
    // The wrapper itself was killed (or the file lost): nothing says how the command ended.
    return oom ? { exitCode: 137, signal: 'SIGKILL', reason: 'OOMKilled' } : { exitCode: 137, reason: 'ContainerStatusUnknown', message: STATUS_UNKNOWN_MESSAGE };
  }
  const reason: ExitReason = oom ? 'OOMKilled' : status.exitCode === 0 ? 'Completed' : 'Error';
  return { ...status, reason, ...(finishedAt === undefined ? {} : { finishedAt }) };
}

/**
 * Waits until the wrapper is gone (polling /proc: a re-adopted process is not our child, so there
 * is no exit event), then reads how the command ended. Resolves undefined when aborted.
 */
export async function exited(handle: ProcessHandle, options: ExitedOptions = {}): Promise<ExitResult | undefined> {
  const intervalMs = options.intervalMs ?? 200;
  while (await handle.alive()) {
    if (options.signal?.aborted) return undefined;
    await sleep(intervalMs, options.signal);
  }
  if (options.signal?.aborted) return undefined;
  return readExitResult(handle.statusFile, options.oomKilled);
}
