/**
 * The rotator's note to readers, `<n>.log.rotation`: how many bytes of the stream have left the live
 * file (`rotatedBytes`, so live offset p is stream position rotatedBytes + p, and the rotated copies
 * end exactly there) and a `sequence` that is odd while a rotation is under way — a seqlock: a
 * reader that saw the same even sequence before and after a read knows no truncation came between.
 * `droppedBytes` counts what rotations lost: bytes a writer faster than the copy appended after the
 * copy's last read and before the truncation. They are not part of the stream (rotatedBytes skips them).
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LogError, isErrno } from './log-error.js';
import { rotationStatePath } from './log-paths.js';
import { LOG_FILE_MODE, openLogForReading } from './open-log-file.js';

export interface RotationState {
  sequence: number;
  rotatedBytes: number;
  droppedBytes: number;
}

export const INITIAL_ROTATION_STATE: RotationState = { sequence: 0, rotatedBytes: 0, droppedBytes: 0 };

/** The state of `liveFile`'s rotation; the initial state when it was never rotated. */
export async function readRotationState(liveFile: string, root: string): Promise<RotationState> {
  let text: string;
  try {
    const handle = await openLogForReading(rotationStatePath(liveFile), root);
    try {
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return INITIAL_ROTATION_STATE;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const state = value as Partial<RotationState> | undefined;
  // droppedBytes is absent from states written before it was counted.
  const droppedBytes = state?.droppedBytes ?? 0;
  if (!state || !Number.isSafeInteger(state.sequence) || !Number.isSafeInteger(state.rotatedBytes) || !Number.isSafeInteger(droppedBytes)) {
    throw new LogError('UnsafeLogPath', `${rotationStatePath(liveFile)} does not hold a rotation state`);
  }
  return { sequence: state.sequence!, rotatedBytes: state.rotatedBytes!, droppedBytes };
}

/**
 * Replaces the state by rename (readers see the old or the new one, and a symlink planted at the
 * path is replaced, not followed). No fsync: a fast writer is rotated every few hundred milliseconds,
 * the state only matters to readers of this boot, and after a power loss the copies are suspect anyway.
 */
export async function writeRotationState(liveFile: string, state: RotationState): Promise<void> {
  const target = rotationStatePath(liveFile);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(state), { mode: LOG_FILE_MODE, flag: 'wx' });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
