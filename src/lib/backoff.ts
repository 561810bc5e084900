/** Exponential backoff with jitter, for reconnects and retries. */

export interface BackoffOptions {
  /** The first delay. */
  initialMs: number;
  /** No delay grows past this (before jitter). */
  maxMs: number;
  /** How much each delay grows over the previous one (default 2). */
  factor?: number;
  /** Up to this fraction of a delay is added at random, so many clients do not retry in step (default 0.1). */
  jitter?: number;
  /** Injectable for tests; returns a number in [0, 1). */
  random?: () => number;
}

export interface Backoff {
  /** The delay to wait before the next attempt; each call grows it. */
  next(): number;
  /** Back to the initial delay, after a success. */
  reset(): void;
}

export function createBackoff(options: BackoffOptions): Backoff {
  const { initialMs, maxMs, factor = 2, jitter = 0.1, random = Math.random } = options;
  if (!(initialMs >= 0) || !(maxMs >= initialMs)) throw new RangeError(`backoff needs 0 <= initialMs <= maxMs (got ${initialMs}, ${maxMs})`);
  if (!(factor >= 1)) throw new RangeError(`backoff factor must be at least 1 (got ${factor})`);
  if (!(jitter >= 0)) throw new RangeError(`backoff jitter must not be negative (got ${jitter})`);
  let delay = initialMs;
  return {
    next() {
      const base = delay;
      delay = Math.min(maxMs, delay * factor);
      return Math.round(base + base * jitter * random());
    },
    reset() {
      delay = initialMs;
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer behind either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
