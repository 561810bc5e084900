/**
 * Where container logs live: <dataDir>/pods/<namespace>_<name>_<uid>/<container>/<restartCount>.log,
 * rotated copies beside it as <restartCount>.log.1 (newest) … .log.N, and the rotation state as
 * <restartCount>.log.rotation. Names are validated so each one is exactly one path component.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { LogError, isErrno } from './log-error.js';

export interface PodLogIdentity {
  namespace: string;
  name: string;
  uid: string;
}

// DNS subdomain/label characters only: no '/', no '_' (our separator), never '.' or '..'.
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const UID = /^[A-Za-z0-9][-A-Za-z0-9]{0,127}$/;
const LIVE_FILE = /^(0|[1-9][0-9]{0,9})\.log$/;

function checkName(kind: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) throw new LogError('InvalidLogName', `${kind} ${JSON.stringify(value)} cannot name a log directory`);
}

/** `<dataDir>/pods`: the root below which every log path component is checked for symlinks. */
export function podsLogRoot(dataDir: string): string {
  return path.join(dataDir, 'pods');
}

/** The pod's log directory, `<dataDir>/pods/<namespace>_<name>_<uid>`. */
export function podLogDir(dataDir: string, pod: PodLogIdentity): string {
  checkName('namespace', pod.namespace, OBJECT_NAME);
  checkName('pod name', pod.name, OBJECT_NAME);
  checkName('pod uid', pod.uid, UID);
  return path.join(podsLogRoot(dataDir), `${pod.namespace}_${pod.name}_${pod.uid}`);
}

/** The live log file of one run of a container: `<podDir>/<container>/<restartCount>.log`. */
export function containerLogPath(podDir: string, container: string, restartCount: number): string {
  checkName('container name', container, OBJECT_NAME);
  if (!Number.isSafeInteger(restartCount) || restartCount < 0) {
    throw new LogError('InvalidLogName', `restart count ${restartCount} is not a non-negative integer`);
  }
  return path.join(podDir, container, `${restartCount}.log`);
}

/** The k-th rotated copy (1 = newest) of a live log file. */
export function rotatedLogPath(liveFile: string, index: number): string {
  return `${liveFile}.${index}`;
}

/** The small JSON file in which the rotator tells readers how the rotated copies map onto the stream. */
export function rotationStatePath(liveFile: string): string {
  return `${liveFile}.rotation`;
}

/** Restart counts that have a live log file in `<podDir>/<container>`, ascending; [] when none. */
export async function listLogRestarts(podDir: string, container: string): Promise<number[]> {
  checkName('container name', container, OBJECT_NAME);
  let entries;
  try {
    entries = await readdir(path.join(podDir, container), { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
  const restarts: number[] = [];
  for (const entry of entries) {
    // A symlink a pod planted is not a log of ours: only regular files count.
    const match = LIVE_FILE.exec(entry.name);
    if (match && entry.isFile()) restarts.push(Number(match[1]));
  }
  return restarts.sort((a, b) => a - b);
}
