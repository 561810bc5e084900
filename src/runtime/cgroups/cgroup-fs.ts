/** cgroupfs primitives both the v1 and v2 drivers use: small files, process lists, directories. */
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CgroupError, parseHandle, type ScannedContainer } from './cgroup-driver.js';

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** The directory of cgroup `path` (such as `/pm8s/pod-1/web`) in the hierarchy mounted at `mount`. */
export function cgroupDir(mount: string, path: string): string {
  return path === '/' ? mount : join(mount, path);
}

/** A cgroup file's text, or undefined when the file does not exist (controller absent, cgroup gone). */
export async function readCgroupFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENODEV') return undefined;
    throw error;
  }
}

/** One write(2) per value, as the kernel expects; a refusal becomes `CgroupWriteFailed` naming the file. */
export async function writeCgroupFile(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (error) {
    throw new CgroupError('CgroupWriteFailed', `cannot write ${JSON.stringify(value)} to ${file}: ${errorCode(error) ?? String(error)}`, { cause: error });
  }
}

/** `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control) as a map. */
export function parseFlatKeyed(text: string | undefined): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value && /^\d+$/.test(value)) values.set(key, BigInt(value));
  }
  return values;
}

/** Creates a cgroup directory; one that exists is fine (creation is idempotent). */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return;
    throw new CgroupError('CgroupWriteFailed', `cannot create cgroup ${dir}: ${errorCode(error) ?? String(error)}`, { cause: error });
  }
}

/** The processes of the cgroup at `dir` and of every cgroup below it, sorted; none when it does not exist. */
export async function readProcs(dir: string): Promise<number[]> {
  const pids = new Set<number>();
  const visit = async (current: string): Promise<void> => {
    const text = await readCgroupFile(join(current, 'cgroup.procs'));
    if (text === undefined) return;
    for (const line of text.split('\n')) if (line) pids.add(Number(line));
    for (const child of await subdirectories(current)) await visit(join(current, child));
  };
  await visit(dir);
  return [...pids].sort((a, b) => a - b);
}

export async function subdirectories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Removes an empty cgroup directory; a missing one is fine. Processes that were just killed leave
 * the cgroup a moment after they vanish from cgroup.procs, so EBUSY is retried for a short while.
 */
export async function removeCgroupDir(dir: string, { busyMs = 2_000 }: { busyMs?: number } = {}): Promise<'removed' | 'missing' | 'busy'> {
  const deadline = Date.now() + busyMs;
  for (;;) {
    try {
      await rmdir(dir);
      return 'removed';
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 'missing';
      if (errorCode(error) !== 'EBUSY' && errorCode(error) !== 'ENOTEMPTY') throw error;
      if (Date.now() > deadline) return 'busy';
      await delay(20);
    }
  }
}

/** A process that exited since its pid was read is not an error. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (errorCode(error) !== 'ESRCH') throw error;
  }
}

/**
 * Signals every process `listPids` reports. SIGKILL then goes on for processes forked meanwhile
 * until the cgroup is empty (or `timeoutMs` passes), using the v2 `cgroup.kill` file when there is
 * one: the kernel then kills forks atomically. Any other signal goes once to the processes there
 * are: a process that forks in answer to SIGTERM (a shell trap running its cleanup command) must
 * not have that command killed by the same stop; what outlives the grace period gets SIGKILL.
 */
export async function signalCgroup(
  listPids: () => Promise<number[]>,
  signal: NodeJS.Signals,
  { killFile, timeoutMs = 5_000 }: { killFile?: string; timeoutMs?: number } = {},
): Promise<number> {
  if (signal !== 'SIGKILL') {
    const pids = await listPids();
    for (const pid of pids) signalPid(pid, signal);
    return pids.length;
  }
  // cgroup.kill (kernel 5.14+) is write-only: its existence is the only thing to check.
  const killPath = killFile !== undefined && (await access(killFile).then(() => true, () => false)) ? killFile : undefined;
  const signalled = new Set<number>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await listPids();
    if (pids.length === 0 || Date.now() > deadline) return signalled.size;
    for (const pid of pids) signalled.add(pid);
    if (killPath !== undefined) await writeCgroupFile(killPath, '1');
    else for (const pid of pids) signalPid(pid, 'SIGKILL');
    await delay(10);
  }
}

/** The container cgroups below `rootDir` (pod-<uid>/<name>) with their processes. */
export async function scanContainers(rootDir: string, rootPath: string): Promise<ScannedContainer[]> {
  const found: ScannedContainer[] = [];
  for (const pod of (await subdirectories(rootDir)).sort()) {
    if (!pod.startsWith('pod-')) continue;
    for (const containerName of (await subdirectories(join(rootDir, pod))).sort()) {
      const handle = `${rootPath === '/' ? '' : rootPath}/${pod}/${containerName}`;
      if (!isHandle(rootPath, handle)) continue; // not ours: never adopt what we could not have made
      found.push({ podUid: pod.slice('pod-'.length), containerName, handle, pids: await readProcs(join(rootDir, pod, containerName)) });
    }
  }
  return found;
}

function isHandle(rootPath: string, handle: string): boolean {
  try {
    parseHandle(rootPath, handle);
    return true;
  } catch (error) {
    if (error instanceof CgroupError && error.code === 'CgroupInvalidHandle') return false;
    throw error;
  }
}

/** A path in single quotes for sh; cgroup paths here never hold a quote, but a mount point could. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** `{ echo $$ > a && echo $$ > b; } || exit 125`: the shell joins every hierarchy or does not run the command. */
export function joinSnippet(procsFiles: string[]): string {
  return `{ ${procsFiles.map((file) => `echo $$ > ${shellQuote(file)}`).join(' && ')}; } || exit 125`;
}
