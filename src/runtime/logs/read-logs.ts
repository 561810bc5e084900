/**
 * Reading a container's log the way `kubectl logs` asks: tailLines, sinceSeconds/sinceTime,
 * limitBytes, previous, and follow. The result is an async iterable of byte chunks read through one
 * small buffer with fs/promises, polling for growth (fs.watch misses events and says nothing about
 * truncation). Following survives rotation: positions are stream positions (log-view.ts), so after a
 * truncation the reader takes what it had not yet read from the rotated copy and goes on at the start
 * of the live file, with no duplicate and no gap unless the copy itself lost bytes. Where bytes were
 * lost (rotated away before they were read, or the read starts after the oldest byte on disk), the
 * output goes on at the next whole line, and a line cut short by the loss is ended there: readers
 * never get two halves of different lines joined into one.
 */
import type { FileHandle } from 'node:fs/promises';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../lib/backoff.js';
import { LogError, isErrno } from './log-error.js';
import { containerLogPath, listLogRestarts } from './log-paths.js';
import type { LogView } from './log-view.js';
import { closeLogView, logViewStillValid, openLogView, readFully, sinceStart, tailStart } from './log-view.js';
import { openLogForReading } from './open-log-file.js';
import { readRotationState } from './rotation-state.js';

export interface ReadLogsOptions {
  /** The trusted root (see openLogFile); default: the directory holding the pod's log directory. */
  root?: string;
  /** Which run of the container; default the newest one on disk. */
  restartCount?: number;
  /** The run before the selected one (the container's previous instance). */
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: Date | string;
  limitBytes?: number;
  /** Not available: the process writes the file directly, so no line carries a time. */
  timestamps?: boolean;
  follow?: boolean;
  /** Ends a follow (and any read) early. */
  signal?: AbortSignal;
  /** Resolves when the container has exited: a follow drains what is left, then ends. */
  done?: Promise<unknown>;
  pollIntervalMs?: number;
  /** Resume at a stream position an earlier LogStream reported (after tail/since, whichever is later). */
  startAt?: number;
  /** The read buffer (default 64 KiB); every chunk is at most this big. */
  chunkBytes?: number;
  /** Injectable clock for sinceSeconds. */
  now?: () => number;
}

/** Opens the log a request names; fails before any byte is streamed (so the API can answer 4xx). */
export async function readLogs(podDir: string, container: string, options: ReadLogsOptions = {}): Promise<LogStream> {
  if (options.timestamps) {
    throw new LogError('TimestampsUnsupported', 'log lines carry no timestamps: containers write their log files directly');
  }
  const sinceMs = sinceOption(options);
  for (const name of ['tailLines', 'limitBytes', 'startAt', 'sinceSeconds'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new LogError('InvalidLogOptions', `${name} must be a non-negative integer (got ${value})`);
    }
  }
  const restarts = await listLogRestarts(podDir, container);
  const newest = restarts.at(-1);
  let restartCount = options.restartCount ?? newest;
  if (restartCount === undefined || !restarts.includes(restartCount)) {
    throw new LogError('LogNotFound', `no log for container ${container}${options.restartCount === undefined ? '' : ` run ${options.restartCount}`}`);
  }
  if (options.previous) {
    const earlier = restarts.filter((restart) => restart < restartCount!).at(-1);
    if (earlier === undefined) throw new LogError('PreviousLogNotFound', `previous terminated container ${container} not found`);
    restartCount = earlier;
  }
  const file = containerLogPath(podDir, container, restartCount);
  const root = options.root ?? path.dirname(podDir);
  let live: FileHandle;
  try {
    live = await openLogForReading(file, root);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw new LogError('LogNotFound', `no log for container ${container} run ${restartCount}`);
    throw error;
  }
  // An older run's file no longer grows: following it just reads it (as kubectl logs -f --previous).
  const follow = Boolean(options.follow) && restartCount === newest;
  return new LogStream(file, root, live, restartCount, { ...options, follow, sinceMs });
}

function sinceOption(options: ReadLogsOptions): number | undefined {
  const now = options.now ?? Date.now;
  if (options.sinceTime !== undefined && options.sinceSeconds !== undefined) {
    throw new LogError('InvalidLogOptions', 'at most one of sinceSeconds and sinceTime');
  }
  if (options.sinceSeconds !== undefined) return now() - options.sinceSeconds * 1000;
  if (options.sinceTime === undefined) return undefined;
  const time = new Date(options.sinceTime).getTime();
  if (Number.isNaN(time)) throw new LogError('InvalidLogOptions', `sinceTime ${String(options.sinceTime)} is not a time`);
  return time;
}

interface StreamSettings extends ReadLogsOptions {
  follow: boolean;
  sinceMs: number | undefined;
}

const NEWLINE = 0x0a;
/** How far a reader looks for the next line start after a loss before it gives up and emits as is. */
const RESYNC_LIMIT_BYTES = 1024 * 1024;

/** One read of one log; iterate it once. `position` lets a later reader resume where this one stopped. */
export class LogStream implements AsyncIterable<Buffer> {
  readonly file: string;
  readonly restartCount: number;
  readonly #root: string;
  readonly #settings: StreamSettings;
  #live: FileHandle;
  #position = 0;
  #lostBytes = 0;
  #started = false;

  constructor(file: string, root: string, live: FileHandle, restartCount: number, settings: StreamSettings) {
    this.file = file;
    this.restartCount = restartCount;
    this.#root = root;
    this.#live = live;
    this.#settings = settings;
  }

  /** Stream position after the last byte emitted. */
  get position(): number {
    return this.#position;
  }

  /** Bytes skipped because they had been rotated away before they were read (and the rest of a line cut by that). */
  get lostBytes(): number {
    return this.#lostBytes;
  }

  /** Releases the file when the stream is dropped without being iterated. */
  async close(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#live.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#started) throw new LogError('InvalidLogOptions', 'a LogStream can be iterated once');
    this.#started = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<Buffer, void, undefined> {
    const settings = this.#settings;
    const { signal, follow } = settings;
    const poll = settings.pollIntervalMs ?? 250;
    // A rotation in progress takes milliseconds: retry soon, not a whole poll later.
    const busyDelay = Math.min(poll, 10);
    const buffer = Buffer.allocUnsafe(settings.chunkBytes ?? 64 * 1024);
    let budget = settings.limitBytes ?? Number.POSITIVE_INFINITY;
    let exited = false;
    settings.done?.then(
      () => (exited = true),
      () => (exited = true),
    );
    // Whether the next bytes may begin inside a line whose start was lost: skip to the next line.
    let resync = false;
    let resyncSkipped = 0;
    let lastByte: number | undefined;
    /** The part of `data` (read at the current position) to send; advances the position past all of it. */
    const emit = (data: Buffer): Buffer => {
      let from = 0;
      if (resync) {
        const newline = data.indexOf(NEWLINE);
        from = newline < 0 ? data.length : newline + 1;
        this.#lostBytes += from;
        this.#position += from;
        resyncSkipped += from;
        if (newline >= 0 || resyncSkipped >= RESYNC_LIMIT_BYTES) resync = false;
      }
      const rest = data.subarray(from);
      const out = rest.length > budget ? rest.subarray(0, budget) : rest;
      budget -= out.length;
      this.#position += out.length;
      if (out.length > 0) lastByte = out[out.length - 1];
      return out;
    };
    /** After a loss: ends the line it cut short (the caller yields it, if any), and resyncs when asked. */
    const lineBreakAfterLoss = (resyncNext: boolean): Buffer | undefined => {
      if (resyncNext) {
        resync = true;
        resyncSkipped = 0;
      }
      if (lastByte === undefined || lastByte === NEWLINE || budget <= 0) return undefined;
      budget -= 1;
      lastByte = NEWLINE;
      return Buffer.from('\n');
    };
    try {
      const first = await this.#start(buffer, busyDelay);
      if (!first) return;
      this.#position = first.start;
      resync = first.resync;
      const snapshotEnd = first.end;
      let sequence = first.sequence;
      // Offset of the live file's origin from rotatedBytes after a truncation nobody announced.
      let shift = 0;
      let backwards = 0;
      while (!signal?.aborted && budget > 0) {
        const finishing = exited || !follow;
        if (!follow && this.#position >= snapshotEnd) return;
        const state = await readRotationState(this.file, this.#root);
        if (state.sequence % 2 === 1) {
          await sleep(busyDelay, signal);
          continue;
        }
        if (state.sequence < sequence && backwards++ < 100) {
          // The state went back: its file vanished (the pod's logs are being removed) or was reset.
          // Never rewind into bytes already sent; end when the live file goes too.
          if (!(await this.#sameFile())) return;
          await sleep(busyDelay, signal);
          continue;
        }
        backwards = 0;
        if (state.sequence !== sequence) {
          // Bytes read past the copy's end fell in the truncation window: they are in no file now.
          // The live file starts with a new write, so the line they cut is ended, nothing skipped.
          if (this.#position > state.rotatedBytes) {
            this.#position = state.rotatedBytes;
            const lineBreak = lineBreakAfterLoss(false);
            if (lineBreak) yield lineBreak;
          }
          sequence = state.sequence;
          shift = 0;
        }
        if (this.#position < state.rotatedBytes) {
          const view = await openLogView(this.file, this.#root, this.#live);
          if (!view || view.sequence !== sequence) {
            if (view) await closeLogView(view);
            await sleep(busyDelay, signal);
            continue;
          }
          try {
            if (this.#position < view.start) {
              this.#lostBytes += view.start - this.#position;
              this.#position = view.start;
              const lineBreak = lineBreakAfterLoss(true);
              if (lineBreak) yield lineBreak;
            }
            for (const segment of view.rotated) {
              while (budget > 0 && this.#position < segment.start + segment.size && this.#position >= segment.start) {
                const length = Math.min(buffer.length, segment.start + segment.size - this.#position);
                const read = await readFully(segment.handle, buffer, length, this.#position - segment.start);
                if (read === 0) break;
                const out = emit(Buffer.from(buffer.subarray(0, read)));
                if (out.length > 0) yield out;
              }
            }
          } finally {
            await closeLogView(view);
          }
          continue;
        }
        let offset = this.#position - state.rotatedBytes - shift;
        const { size } = await this.#live.stat();
        if (offset > size) {
          // Truncated without a rotation of ours (an outside logrotate): go on from its start.
          shift += offset;
          offset = 0;
        }
        const { bytesRead } = await this.#live.read(buffer, 0, buffer.length, offset);
        if ((await readRotationState(this.file, this.#root)).sequence !== sequence) continue;
        if (bytesRead > 0) {
          const out = emit(Buffer.from(buffer.subarray(0, bytesRead)));
          if (out.length > 0) yield out;
          continue;
        }
        if (finishing) return;
        if (!(await this.#sameFile())) return;
        await sleep(poll, signal);
      }
    } finally {
      await this.#live.close();
    }
  }

  /**
   * Where the read begins (tail/since/startAt) and where "now" ends, from one consistent view, and
   * whether that start may be inside a line (the byte before it is not a newline, or is gone).
   */
  async #start(buffer: Buffer, busyDelay: number): Promise<{ start: number; end: number; sequence: number; resync: boolean } | undefined> {
    const { tailLines, sinceMs, startAt, signal } = this.#settings;
    while (!signal?.aborted) {
      const view = await openLogView(this.file, this.#root, this.#live);
      if (!view) {
        await sleep(busyDelay, signal);
        continue;
      }
      try {
        const start = await this.#startIn(view, tailLines, sinceMs, startAt, buffer);
        // A resumed reader continues exactly where the last one stopped, unless that was rotated away.
        const exact = startAt !== undefined && start === startAt;
        const resync = !exact && start > 0 && (await byteBefore(view, start, buffer)) !== NEWLINE;
        if (await logViewStillValid(this.file, this.#root, view)) return { start, end: view.end, sequence: view.sequence, resync };
      } finally {
        await closeLogView(view);
      }
    }
    return undefined;
  }

  async #startIn(view: LogView, tailLines: number | undefined, sinceMs: number | undefined, startAt: number | undefined, buffer: Buffer): Promise<number> {
    let start = view.start;
    if (tailLines !== undefined) start = Math.max(start, await tailStart(view, tailLines, buffer));
    if (sinceMs !== undefined) start = Math.max(start, sinceStart(view, sinceMs));
    if (startAt !== undefined) {
      if (startAt < view.start) this.#lostBytes += view.start - startAt;
      start = Math.max(start, Math.min(startAt, view.end));
    }
    return start;
  }

  /**
   * Whether the path still names the file being followed. Gone (the pod's logs were removed) ends
   * the follow; a new file there is followed from its start.
   */
  async #sameFile(): Promise<boolean> {
    let current;
    try {
      current = await lstat(this.file);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
    const followed = await this.#live.stat();
    if (current.ino === followed.ino && current.dev === followed.dev) return true;
    const replacement = await openLogForReading(this.file, this.#root);
    await this.#live.close();
    this.#live = replacement;
    return true;
  }
}

/** The byte just before stream position `position`, or undefined when it is no longer on disk. */
async function byteBefore(view: LogView, position: number, buffer: Buffer): Promise<number | undefined> {
  for (const segment of [...view.rotated, view.live]) {
    if (position - 1 < segment.start || position - 1 >= segment.start + segment.size) continue;
    const read = await readFully(segment.handle, buffer, 1, position - 1 - segment.start);
    return read === 1 ? buffer[0] : undefined;
  }
  return undefined;
}
