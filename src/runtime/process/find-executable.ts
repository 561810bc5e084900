/**
 * The executable check made before a container is spawned, so a missing or non-executable binary
 * is a StartError with the runtime's wording (runc/Go exec.LookPath) instead of a wrapper that
 * exits 127. It resolves like execvp: a name with a slash is a path (relative to the working
 * directory), anything else is searched in the container's own PATH.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';

/** runc's default when the container's env has no PATH. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type FindResult = { ok: true; file: string } | { ok: false; message: string };

export interface FindOptions {
  /** The container's PATH (DEFAULT_PATH when undefined). */
  pathEnv?: string;
  cwd?: string;
  /** The user the command will run as; execute permission is judged for them. */
  uid?: number;
  gid?: number;
}

type Access = 'ok' | 'missing' | 'denied';

async function access(file: string, uid: number, gid: number): Promise<Access> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return 'denied';
    return 'missing';
  }
  // execve refuses directories and other non-regular files with EACCES.
  if (!info.isFile()) return 'denied';
  const mode = info.mode;
  // root may execute a file when any execute bit is set.
  const executable = uid === 0 ? (mode & 0o111) !== 0 : info.uid === uid ? (mode & 0o100) !== 0 : info.gid === gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0;
  return executable ? 'ok' : 'denied';
}

export async function findExecutable(file: string, options: FindOptions = {}): Promise<FindResult> {
  const quoted = JSON.stringify(file);
  if (file === '') return { ok: false, message: 'exec: no command' };
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const gid = options.gid ?? process.getgid?.() ?? 0;
  if (file.includes('/')) {
    const full = path.resolve(options.cwd ?? process.cwd(), file);
    const result = await access(full, uid, gid);
    if (result === 'ok') return { ok: true, file };
    return { ok: false, message: result === 'missing' ? `exec: ${quoted}: stat ${file}: no such file or directory` : `exec: ${quoted}: permission denied` };
  }
  let denied = false;
  for (const dir of (options.pathEnv ?? DEFAULT_PATH).split(':')) {
    // An empty PATH entry means the working directory, as for execvp.
    const candidate = path.resolve(options.cwd ?? process.cwd(), dir === '' ? '.' : dir, file);
    const result = await access(candidate, uid, gid);
    if (result === 'ok') return { ok: true, file: candidate };
    if (result === 'denied') denied = true;
  }
  return { ok: false, message: denied ? `exec: ${quoted}: permission denied` : `exec: ${quoted}: executable file not found in $PATH` };
}
