/**
 * Opening log files without following anything a pod planted: every directory between the trusted
 * root and the file is checked with lstat (created when missing), the file itself is opened with
 * O_NOFOLLOW (a symlink there fails with ELOOP and its target is never touched), and after the open
 * the descriptor's real path is read back from /proc so a directory swapped in during the checks
 * is caught too. O_NONBLOCK keeps a planted FIFO from blocking the open forever.
 */
import { constants, fchmod, fstat, close, open as openCallback } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { LogError, isErrno } from './log-error.js';

const openFd = promisify(openCallback);
const fstatFd = promisify(fstat);
const fchmodFd = promisify(fchmod);
const closeFd = promisify(close);

export const LOG_FILE_MODE = 0o640;
/** Pod and container log directories: group-readable so a log shipper in the agent's group can read. */
export const LOG_DIR_MODE = 0o750;
/** The root of all pod logs (`<dataDir>/pods`). */
export const LOG_ROOT_MODE = 0o700;

export interface OpenLogFileOptions {
  /**
   * The trusted directory: it and its ancestors are the agent's (resolved once with realpath), every
   * component below it is checked. Default: the log root of the standard layout, three levels above
   * the file (`<dataDir>/pods/<pod>/<container>/<n>.log`), so the pod directory is checked too.
   */
  root?: string;
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Creates the log's parent directories and opens it for a child's stdout/stderr: append-only, so
 * after the rotator truncates it every write lands at the new end (no sparse file). Returns the fd
 * for `spawn`'s stdio; the caller closes its own copy once the child has been spawned.
 */
export async function openLogFile(file: string, options: OpenLogFileOptions = {}): Promise<number> {
  const root = options.root ?? path.dirname(path.dirname(path.dirname(file)));
  const expected = await checkedPath(root, file, true);
  let fd: number;
  try {
    fd = await openFd(expected, WRITE_FLAGS, LOG_FILE_MODE);
  } catch (error) {
    throw unsafeOr(error, expected);
  }
  try {
    await verifyDescriptor(fd, expected);
    // The umask may have narrowed the mode, and a file left by an earlier run may differ: fix it
    // through the descriptor, which cannot be redirected by a symlink.
    await fchmodFd(fd, LOG_FILE_MODE);
    return fd;
  } catch (error) {
    await closeFd(fd);
    throw error;
  }
}

/** Opens an existing log (live or rotated) for reading, with the same checks; ENOENT passes through. */
export function openLogForReading(file: string, root: string): Promise<FileHandle> {
  return openExistingLog(file, root, READ_FLAGS);
}

/** Opens an existing live log for the rotator, which reads it and truncates it. */
export function openLogForRotation(file: string, root: string): Promise<FileHandle> {
  return openExistingLog(file, root, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
}

async function openExistingLog(file: string, root: string, flags: number): Promise<FileHandle> {
  const expected = await checkedPath(root, file, false);
  let handle: FileHandle;
  try {
    handle = await open(expected, flags);
  } catch (error) {
    throw unsafeOr(error, expected);
  }
  try {
    await verifyDescriptor(handle.fd, expected);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The directory a rotator or reader may work in, checked like the log's own parents. */
export async function checkedLogDir(root: string, dir: string): Promise<string> {
  return path.dirname(await checkedPath(root, path.join(dir, 'x'), false));
}

/**
 * Resolves `root` (trusted) and walks each component from it to the file's parent: created when
 * `create` (mode 0750), and refused when it is a symlink or not a directory. Returns the path the
 * file must have once opened.
 */
async function checkedPath(root: string, file: string, create: boolean): Promise<string> {
  const relative = path.relative(path.resolve(root), path.resolve(file));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new LogError('UnsafeLogPath', `log file ${file} is not inside its log root ${root}`);
  }
  if (create) await mkdir(root, { recursive: true, mode: LOG_ROOT_MODE });
  let current = await realpath(root);
  const parts = relative.split(path.sep);
  const base = parts.pop()!;
  for (const part of parts) {
    current = path.join(current, part);
    if (create) {
      try {
        await mkdir(current, { mode: LOG_DIR_MODE });
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
    }
    const stats = await lstat(current);
    if (stats.isSymbolicLink() || !stats.isDirectory()) {
      throw new LogError('UnsafeLogPath', `${current} is ${stats.isSymbolicLink() ? 'a symlink' : 'not a directory'}; refusing to use it for logs`);
    }
  }
  return path.join(current, base);
}

/** After the open: a regular file, really in `expected`'s directory (catches a parent swapped for a symlink). */
async function verifyDescriptor(fd: number, expected: string): Promise<void> {
  const stats = await fstatFd(fd);
  if (!stats.isFile()) throw new LogError('UnsafeLogPath', `${expected} is not a regular file; refusing to use it for logs`);
  let actual: string;
  try {
    actual = await readlink(`/proc/self/fd/${fd}`);
  } catch (error) {
    // Without /proc (not Linux) the lstat walk above is the only check.
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  // The file itself may have been renamed or replaced since (a rotation shifted it, a state file was
  // rewritten): what must hold is that it was opened in the directory that was checked.
  if (path.dirname(actual) !== path.dirname(expected)) {
    throw new LogError('UnsafeLogPath', `${expected} resolved to ${actual} while it was opened; refusing it`);
  }
}

function unsafeOr(error: unknown, file: string): unknown {
  // ELOOP is what O_NOFOLLOW reports for a symlink at the path; ENXIO is a FIFO without a reader.
  if (isErrno(error, 'ELOOP') || isErrno(error, 'ENXIO')) {
    return new LogError('UnsafeLogPath', `${file} is a symlink or special file; refusing to follow it`, { cause: error });
  }
  return error;
}
