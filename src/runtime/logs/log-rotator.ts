/**
 * Checks every registered live log on an interval and rotates the ones over the limit (see
 * rotate-log.ts). A check is one open + fstat per log, so the default interval is short (1 s, not
 * the kubelet's 10 s): the cap is soft by what a writer manages between two checks, and for an
 * interval after a rotation checks come sooner (`busyIntervalMs`) because a log that filled once fills again.
 * A writer faster than the copy loses bytes in the copytruncate window; that is logged as a warning,
 * at most once a minute per log, with what was lost since the last warning.
 */
import { sleep } from '../../lib/backoff.js';
import type { Logger } from '../../lib/logger.js';
import { silentLogger } from '../../lib/logger.js';
import type { RotationResult } from './rotate-log.js';
import { rotateLog } from './rotate-log.js';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;
export const DEFAULT_LOG_CHECK_INTERVAL_MS = 1000;
export const DEFAULT_LOG_BUSY_CHECK_INTERVAL_MS = 100;
const DROP_WARNING_INTERVAL_MS = 60_000;

export interface LogRotatorOptions {
  /** The trusted root of the log tree, `<dataDir>/pods` (see openLogFile). */
  root: string;
  /** Default 10 MiB, as the kubelet's containerLogMaxSize. */
  maxBytes?: number;
  /** Files per log including the live one; default 5, as the kubelet's containerLogMaxFiles. */
  maxFiles?: number;
  intervalMs?: number;
  /** The next check after a pass that rotated something. */
  busyIntervalMs?: number;
  /** Where a failed rotation of one log is reported (the others go on). */
  logger?: Logger;
}

export class LogRotator {
  readonly root: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly intervalMs: number;
  readonly busyIntervalMs: number;
  readonly #logger: Logger;
  readonly #files = new Set<string>();
  // One buffer for every copy: rotating never buffers a file in memory.
  readonly #buffer = Buffer.allocUnsafe(64 * 1024);
  #pass: Promise<RotationResult[]> | undefined;
  // Per log: bytes dropped since the last warning, and when that warning was.
  readonly #drops = new Map<string, { bytes: number; warnedAt: number }>();

  constructor(options: LogRotatorOptions) {
    this.root = options.root;
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.maxFiles = options.maxFiles ?? DEFAULT_LOG_MAX_FILES;
    this.intervalMs = options.intervalMs ?? DEFAULT_LOG_CHECK_INTERVAL_MS;
    this.busyIntervalMs = Math.min(options.busyIntervalMs ?? DEFAULT_LOG_BUSY_CHECK_INTERVAL_MS, this.intervalMs);
    this.#logger = options.logger ?? silentLogger;
    if (!(this.maxBytes > 0) || !Number.isSafeInteger(this.maxFiles) || this.maxFiles < 1) {
      throw new RangeError(`log rotation needs maxBytes > 0 and an integer maxFiles >= 1 (got ${this.maxBytes}, ${this.maxFiles})`);
    }
    if (!(this.intervalMs > 0) || !(this.busyIntervalMs > 0)) throw new RangeError('log rotation intervals must be positive');
  }

  /** Starts watching the live log of a container run (call it when the run starts). */
  add(file: string): void {
    this.#files.add(file);
  }

  /** Stops watching it (the run ended: its file no longer grows). */
  remove(file: string): void {
    this.#files.delete(file);
    this.#drops.delete(file);
  }

  get files(): readonly string[] {
    return [...this.#files];
  }

  /** One pass over every registered log now; passes never overlap. */
  checkNow(): Promise<RotationResult[]> {
    const previous = this.#pass ?? Promise.resolve([]);
    const pass = previous.then(() => this.#checkAll());
    this.#pass = pass;
    return pass;
  }

  /** Checks on the interval until `signal` aborts; resolves once the last pass has finished. */
  async run(signal: AbortSignal): Promise<void> {
    // Checks stay on the busy interval for a whole interval after a rotation: a log that fills in a
    // few hundred milliseconds would otherwise grow unchecked for a second after each busy check
    // that found it still under the limit.
    let lastRotation = -Infinity;
    while (!signal.aborted) {
      const results = await this.checkNow();
      if (results.some((result) => result.rotated)) lastRotation = performance.now();
      await sleep(performance.now() - lastRotation < this.intervalMs ? this.busyIntervalMs : this.intervalMs, signal);
    }
  }

  async #checkAll(): Promise<RotationResult[]> {
    const results: RotationResult[] = [];
    for (const file of this.#files) {
      try {
        const result = await rotateLog(file, { root: this.root, maxBytes: this.maxBytes, maxFiles: this.maxFiles, buffer: this.#buffer });
        if (result.droppedBytes > 0) this.#noteDrop(file, result.droppedBytes);
        results.push(result);
      } catch (error) {
        this.#logger.warn('log rotation failed', { file, error });
      }
    }
    return results;
  }

  #noteDrop(file: string, bytes: number): void {
    const drops = this.#drops.get(file) ?? { bytes: 0, warnedAt: -Infinity };
    drops.bytes += bytes;
    this.#drops.set(file, drops);
    const now = performance.now();
    if (now - drops.warnedAt < DROP_WARNING_INTERVAL_MS) return;
    this.#logger.warn('log rotation dropped output: the container writes faster than rotation copies its log', { file, droppedBytes: drops.bytes });
    drops.bytes = 0;
    drops.warnedAt = now;
  }
}
