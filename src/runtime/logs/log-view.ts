/**
 * A consistent picture of one log as a byte stream: the rotated copies (oldest first) and the live
 * file, each placed at its stream position. Positions are stable across rotations: live offset p is
 * position rotatedBytes + p, and the copies end exactly at rotatedBytes (see rotation-state.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { isErrno } from './log-error.js';
import { rotatedLogPath } from './log-paths.js';
import { openLogForReading } from './open-log-file.js';
import { readRotationState } from './rotation-state.js';

export interface LogSegment {
  handle: FileHandle;
  /** Stream position of the segment's first byte. */
  start: number;
  size: number;
  mtimeMs: number;
}

export interface LogView {
  sequence: number;
  rotatedBytes: number;
  /** Oldest first; contiguous, ending at rotatedBytes. */
  rotated: LogSegment[];
  live: LogSegment;
  /** The oldest position still on disk. */
  start: number;
  /** The position after the last byte seen. */
  end: number;
}

/**
 * Opens the rotated copies and sizes the live file between two reads of the rotation state; returns
 * undefined when a rotation is under way or came in between (the caller retries after a moment).
 * The live handle is the caller's; the rotated ones are closed by closeLogView.
 */
export async function openLogView(file: string, root: string, live: FileHandle): Promise<LogView | undefined> {
  const state = await readRotationState(file, root);
  if (state.sequence % 2 === 1) return undefined;
  const handles: FileHandle[] = [];
  try {
    for (let index = 1; ; index++) {
      try {
        handles.push(await openLogForReading(rotatedLogPath(file, index), root));
      } catch (error) {
        if (isErrno(error, 'ENOENT')) break;
        throw error;
      }
    }
    const liveStats = await live.stat();
    const stats = await Promise.all(handles.map((handle) => handle.stat()));
    if ((await readRotationState(file, root)).sequence !== state.sequence) {
      await Promise.all(handles.map((handle) => handle.close()));
      return undefined;
    }
    // Once opened, a copy's content never changes (renames and unlinks do not touch an open file).
    const rotated: LogSegment[] = [];
    let start = state.rotatedBytes;
    for (const [index, handle] of handles.entries()) {
      const { size, mtimeMs } = stats[index]!;
      start -= size;
      rotated.unshift({ handle, start, size, mtimeMs });
    }
    const liveSegment = { handle: live, start: state.rotatedBytes, size: liveStats.size, mtimeMs: liveStats.mtimeMs };
    return { sequence: state.sequence, rotatedBytes: state.rotatedBytes, rotated, live: liveSegment, start, end: state.rotatedBytes + liveStats.size };
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()));
    throw error;
  }
}

export async function closeLogView(view: LogView): Promise<void> {
  await Promise.all(view.rotated.map((segment) => segment.handle.close()));
}

/** Whether no rotation began since the view was taken (so what was read from the live file is true). */
export async function logViewStillValid(file: string, root: string, view: LogView): Promise<boolean> {
  return (await readRotationState(file, root)).sequence === view.sequence;
}

/** The position where the last `lines` lines begin, reading backwards through `buffer`-sized blocks. */
export async function tailStart(view: LogView, lines: number, buffer: Buffer): Promise<number> {
  if (lines === 0) return view.end;
  let found = 0;
  for (const segment of [...view.rotated, view.live].reverse()) {
    let blockEnd = segment.size;
    while (blockEnd > 0) {
      const length = Math.min(buffer.length, blockEnd);
      const from = blockEnd - length;
      const read = await readFully(segment.handle, buffer, length, from);
      for (let index = read - 1; index >= 0; index--) {
        if (buffer[index] !== 0x0a) continue;
        const position = segment.start + from + index;
        // The newline that ends the last line does not start another one.
        if (position === view.end - 1) continue;
        if (++found === lines) return position + 1;
      }
      blockEnd = from;
    }
  }
  return view.start;
}

/**
 * The start of the oldest file last written at or after `sinceMs`. Files carry one time (mtime), so
 * the filter is as coarse as a file: lines older than `since` in that file are included.
 */
export function sinceStart(view: LogView, sinceMs: number): number {
  for (const segment of [...view.rotated, view.live]) {
    if (segment.size > 0 && segment.mtimeMs >= sinceMs) return segment.start;
  }
  return view.end;
}

/** Reads `length` bytes at `position` unless the file ends first; returns how many were read. */
export async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
