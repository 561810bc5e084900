/**
 * One copytruncate rotation of one live log. The writer keeps its O_APPEND descriptor, so the file
 * cannot be renamed away; instead its content is appended to the rotated copies — .1 is topped up to
 * `maxBytes`, then new copies of `maxBytes` each take its place (older ones shift up, the oldest
 * beyond `maxFiles - 1` is dropped) — and the live file is truncated to 0. The copy streams through
 * one reused buffer and keeps reading until it reaches the end of the file (so a slow writer loses
 * nothing), giving up on catching up after max(maxBytes, 4 MiB) more than it found: bytes written between its
 * last read and the truncation are lost, which only a writer faster than the copy makes many. The
 * copy then ends at its last whole line (the cut line is dropped with the rest), and the count (from
 * an fstat just before the truncation) is reported and kept in the rotation state's droppedBytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isErrno } from './log-error.js';
import { rotatedLogPath } from './log-paths.js';
import { LOG_FILE_MODE, checkedLogDir, openLogForRotation } from './open-log-file.js';
import { readRotationState, writeRotationState } from './rotation-state.js';

/** How far past the size it found the copy chases a writer before it truncates regardless. */
const CATCH_UP_BYTES = 4 * 1024 * 1024;

export interface RotateLogOptions {
  /** The trusted root (see openLogFile). */
  root: string;
  /** A live file larger than this is rotated; rotated chunks are at most this big. */
  maxBytes: number;
  /** Files kept per log, the live one included (Kubernetes' containerLogMaxFiles); at least 1. */
  maxFiles: number;
  /** The copy buffer, reused across rotations so memory stays flat (default: 64 KiB, allocated). */
  buffer?: Buffer;
}

export interface RotationResult {
  file: string;
  rotated: boolean;
  /** Size of the live file when the check found it. */
  sizeBefore: number;
  /** Bytes copied into rotated chunks. */
  copiedBytes: number;
  /** Oldest bytes not copied because they would have been dropped at once (more than the cap). */
  skippedBytes: number;
  /** Whether the copy reached the end of the file before the truncation. */
  caughtUp: boolean;
  /** Bytes written after the copy's last read and lost to the truncation (0 when it caught up). */
  droppedBytes: number;
  durationMs: number;
}

/** Rotates `file` when it is over `maxBytes`; a file that is gone (container removed) is no rotation. */
export async function rotateLog(file: string, options: RotateLogOptions): Promise<RotationResult> {
  const { root, maxBytes, maxFiles } = options;
  if (!(maxBytes > 0) || !Number.isSafeInteger(maxFiles) || maxFiles < 1) {
    throw new RangeError(`log rotation needs maxBytes > 0 and an integer maxFiles >= 1 (got ${maxBytes}, ${maxFiles})`);
  }
  const started = performance.now();
  const result: RotationResult = { file, rotated: false, sizeBefore: 0, copiedBytes: 0, skippedBytes: 0, caughtUp: true, droppedBytes: 0, durationMs: 0 };
  let live: FileHandle;
  try {
    live = await openLogForRotation(file, root);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return result;
    throw error;
  }
  try {
    const { size } = await live.stat();
    result.sizeBefore = size;
    if (size <= maxBytes) return result;
    const dir = await checkedLogDir(root, path.dirname(file));
    const keep = maxFiles - 1;
    const state = await readRotationState(file, root);
    // An odd sequence left by a rotator that died mid-way: its copies stay, readers resume (see docs).
    const sequence = state.sequence % 2 === 0 ? state.sequence : state.sequence + 1;
    await writeRotationState(file, { ...state, sequence: sequence + 1 });
    let end: number;
    if (keep === 0) {
      await countRotated(path.join(dir, path.basename(file)), 0);
      end = fstatSync(live.fd).size;
      ftruncateSync(live.fd, 0);
      result.skippedBytes = end;
    } else {
      const copy = await copyAndTruncate(live, file, dir, size, keep, maxBytes, options.buffer ?? Buffer.allocUnsafe(64 * 1024));
      end = copy.end;
      result.copiedBytes = copy.end - copy.start;
      result.skippedBytes = copy.start;
      result.caughtUp = copy.caughtUp;
      result.droppedBytes = copy.dropped;
    }
    await writeRotationState(file, { sequence: sequence + 2, rotatedBytes: state.rotatedBytes + end, droppedBytes: state.droppedBytes + result.droppedBytes });
    result.rotated = true;
    return result;
  } finally {
    await live.close();
    result.durationMs = performance.now() - started;
  }
}

/**
 * Copies the live file from `start` into chunks and truncates it. The copy runs asynchronously while
 * it is far behind; near the end it switches to synchronous reads so that the read that finds the
 * end and the ftruncate are back to back (a window of microseconds, not of event-loop turns).
 */
async function copyAndTruncate(live: FileHandle, file: string, dir: string, size: number, keep: number, maxBytes: number, buffer: Buffer) {
  // What is older than the newest `keep` chunks' worth would be dropped right away: skip it.
  const start = Math.max(0, size - keep * maxBytes);
  const giveUpAt = size + Math.max(maxBytes, CATCH_UP_BYTES);
  const base = path.join(dir, path.basename(file));
  const tmp = path.join(dir, `.${path.basename(file)}.rotating`);
  let offset = start;
  let chunk: FileHandle | undefined;
  let chunkBytes = 0;
  // Whether `chunk` is the existing .1 being topped up rather than a new copy.
  let appending = false;
  let caughtUp = false;
  let dropped = 0;
  let copies = await countRotated(base, keep);
  if (start === 0 && copies > 0) {
    // The copies end where the live file begins, so .1 can simply be continued: every copy but .1
    // is then full, and a rotation just over the limit does not waste a slot on a sliver.
    const newest = await open(rotatedLogPath(base, 1), constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      (error: unknown) => {
        // Something planted in place of .1 is not continued; it is shifted out like any copy.
        if (isErrno(error, 'ELOOP') || isErrno(error, 'ENXIO')) return undefined;
        throw error;
      },
    );
    const newestSize = newest ? (await newest.stat()).size : maxBytes;
    if (newest && newestSize < maxBytes) {
      chunk = newest;
      chunkBytes = newestSize;
      appending = true;
    } else {
      await newest?.close();
    }
  }
  const newChunk = async () => {
    // unlink first: whatever sits there (a stale copy, a planted symlink) is replaced, never followed.
    await rm(tmp, { force: true });
    chunk = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, LOG_FILE_MODE);
    chunkBytes = 0;
    appending = false;
    return chunk;
  };
  const finishChunk = async () => {
    const current = chunk!;
    chunk = undefined;
    if (chunkBytes === 0) {
      await current.close();
      await rm(tmp, { force: true });
      return;
    }
    // The copy's mtime is the live file's: `since` filters judge a copy by its last line's time.
    const { mtime } = await live.stat();
    await current.utimes(mtime, mtime);
    await current.close();
    if (appending) return;
    if (copies === keep) await rm(rotatedLogPath(base, copies--), { force: true });
    for (let index = copies; index >= 1; index--) await rename(rotatedLogPath(base, index), rotatedLogPath(base, index + 1));
    await rename(tmp, rotatedLogPath(base, 1));
    copies++;
  };
  // The last read is buffer[0, lastRead); its final bytes end the current chunk (tailInChunk of
  // them) or, when that chunk filled up with them, the newest copy .1 (tailInNewest).
  let lastRead = 0;
  let tailInChunk = 0;
  let tailInNewest = 0;
  try {
    for (let truncated = false; !truncated; ) {
      const { bytesRead } = await live.read(buffer, 0, buffer.length, offset);
      let copied = 0;
      let piece = 0;
      let previousPiece = 0;
      while (copied < bytesRead) {
        const target = chunk ?? (await newChunk());
        previousPiece = piece;
        piece = Math.min(bytesRead - copied, maxBytes - chunkBytes);
        await writeFully(target, buffer, copied, piece);
        copied += piece;
        chunkBytes += piece;
        if (chunkBytes === maxBytes) await finishChunk();
      }
      offset += bytesRead;
      lastRead = bytesRead;
      // The read's last piece is in the current chunk, or in .1 if that piece filled it; a read split
      // across a chunk boundary has its piece before in .1.
      tailInChunk = chunk ? piece : 0;
      tailInNewest = chunk ? previousPiece : piece;
      if (bytesRead === buffer.length && offset < giveUpAt) continue;
      const target = chunk ?? (await newChunk());
      for (let reads = 0; reads < 16 && chunkBytes < maxBytes; reads++) {
        if (offset >= giveUpAt) {
          // The writer outruns the copy: stop here, losing what it wrote since the last read.
          const size = fstatSync(live.fd).size;
          ftruncateSync(live.fd, 0);
          // The copy ends at the last whole line it holds: the cut line's start goes with the rest
          // of it, so no reader sees half of one line joined to the next file's first.
          const newline = lastRead > 0 ? buffer.lastIndexOf(0x0a, lastRead - 1) : -1;
          const partial = lastRead - newline - 1;
          if (newline >= 0 && partial > 0 && partial <= tailInChunk + tailInNewest) {
            const fromChunk = Math.min(partial, tailInChunk);
            if (fromChunk > 0) ftruncateSync(target.fd, chunkBytes - fromChunk);
            chunkBytes -= fromChunk;
            if (partial > fromChunk) cutEnd(rotatedLogPath(base, 1), partial - fromChunk);
            offset -= partial;
          }
          dropped = size - offset;
          truncated = true;
          break;
        }
        const read = readSync(live.fd, buffer, 0, Math.min(buffer.length, maxBytes - chunkBytes), offset);
        if (read === 0) {
          ftruncateSync(live.fd, 0);
          truncated = caughtUp = true;
          break;
        }
        writeFullySync(target.fd, buffer, read);
        offset += read;
        chunkBytes += read;
        lastRead = tailInChunk = read;
        tailInNewest = 0;
      }
      if (truncated || chunkBytes === maxBytes) await finishChunk();
    }
  } finally {
    if (chunk) {
      await chunk.close();
      await rm(tmp, { force: true });
    }
  }
  return { start, end: offset, caughtUp, dropped };
}

/** Cuts the last `bytes` off a copy this rotation just finished (never following a link). */
function cutEnd(file: string, bytes: number): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    ftruncateSync(fd, fstatSync(fd).size - bytes);
  } finally {
    closeSync(fd);
  }
}

function writeFullySync(fd: number, buffer: Buffer, length: number): void {
  for (let done = 0; done < length; ) done += writeSync(fd, buffer, done, length - done);
}

async function writeFully(handle: FileHandle, buffer: Buffer, offset: number, length: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(buffer, offset + done, length - done);
    done += bytesWritten;
  }
}

/** Drops rotated copies beyond `keep` (left by a larger maxFiles) and counts the ones from .1 on. */
async function countRotated(base: string, keep: number): Promise<number> {
  const dir = path.dirname(base);
  const pattern = new RegExp(`^${path.basename(base).replace(/\./g, '\\.')}\\.([1-9][0-9]*)$`);
  const present = new Set<number>();
  for (const name of await readdir(dir)) {
    const match = pattern.exec(name);
    if (!match) continue;
    const index = Number(match[1]);
    if (index > keep) await rm(path.join(dir, name), { force: true });
    else present.add(index);
  }
  let count = 0;
  while (present.has(count + 1)) count++;
  // A copy after a hole is not reachable by readers (they stop at the hole): drop it.
  for (const index of present) if (index > count) await rm(rotatedLogPath(base, index), { force: true });
  return count;
}
