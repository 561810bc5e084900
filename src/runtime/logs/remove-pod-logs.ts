/**
 * Garbage collection of logs: a pod's whole log directory once the pod is gone, and the runs of a
 * container older than the ones `kubectl logs` can still ask for (the current and the previous).
 */
import { readdir, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { LogError, isErrno } from './log-error.js';
import type { PodLogIdentity } from './log-paths.js';
import { listLogRestarts } from './log-paths.js';
import { checkedLogDir } from './open-log-file.js';

/**
 * Removes `podDir` (a direct child of the log root) and everything in it. A directory that is
 * already gone is fine.
 */
export async function removePodLogs(podDir: string, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? path.dirname(podDir);
  const relative = path.relative(path.resolve(root), path.resolve(podDir));
  if (relative === '' || relative.startsWith('..') || relative.includes(path.sep) || path.isAbsolute(relative)) {
    throw new LogError('UnsafeLogPath', `${podDir} is not a pod log directory directly under ${root}`);
  }
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  // rm works with lstat: a symlink (at podDir or inside it) is unlinked, its target left alone.
  await rm(path.join(realRoot, relative), { recursive: true, force: true });
}

export interface PodLogDirectory extends PodLogIdentity {
  dir: string;
}

/** The pod log directories under `root` (`<dataDir>/pods`), for finding the ones whose pod is gone. */
export async function listPodLogDirs(root: string): Promise<PodLogDirectory[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const pods: PodLogDirectory[] = [];
  for (const entry of entries) {
    const parts = entry.name.split('_');
    if (!entry.isDirectory() || parts.length !== 3) continue;
    const [namespace, name, uid] = parts as [string, string, string];
    pods.push({ namespace, name, uid, dir: path.join(root, entry.name) });
  }
  return pods;
}

/** Removes the log files (live, rotated, rotation state) of every run but the newest `keepRuns`. */
export async function pruneContainerLogs(podDir: string, container: string, keepRuns = 2, options: { root?: string } = {}): Promise<number[]> {
  if (!Number.isSafeInteger(keepRuns) || keepRuns < 1) throw new RangeError(`keepRuns must be a positive integer (got ${keepRuns})`);
  const restarts = await listLogRestarts(podDir, container);
  const removed = restarts.slice(0, Math.max(0, restarts.length - keepRuns));
  if (removed.length === 0) return [];
  const dir = await checkedLogDir(options.root ?? path.dirname(podDir), path.join(podDir, container));
  const prefixes = removed.map((restart) => `${restart}.log`);
  for (const name of await readdir(dir)) {
    if (prefixes.some((prefix) => name === prefix || name.startsWith(`${prefix}.`))) await rm(path.join(dir, name), { force: true });
  }
  return removed;
}
