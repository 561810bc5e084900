/**
 * The controllers' work queue (client-go's workqueue): a key is never handed to two workers at
 * once, repeated adds collapse into one, failures retry with per-key exponential backoff under a
 * global rate limit, and delayed adds wait on one timer per key.
 */

export interface WorkQueueOptions {
  /** First retry delay after a failure (default 5 ms), doubling per consecutive failure... */
  baseDelayMs?: number;
  /** ...up to this (default 1000 s, as client-go). */
  maxDelayMs?: number;
  /** Global retry budget: this many retries per second on average (default 10)... */
  retriesPerSecond?: number;
  /** ...with bursts of this many (default 100). */
  retryBurst?: number;
  now?: () => number;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  /** Keys waiting to be processed (queued, or re-added while processing). */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  readonly #options: Required<Omit<WorkQueueOptions, 'now'>>;
  readonly #now: () => number;
  #tokens: number;
  #tokensAt: number;
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#options = {
      baseDelayMs: options.baseDelayMs ?? 5,
      maxDelayMs: options.maxDelayMs ?? 1_000_000,
      retriesPerSecond: options.retriesPerSecond ?? 10,
      retryBurst: options.retryBurst ?? 100,
    };
    this.#now = options.now ?? Date.now;
    this.#tokens = this.#options.retryBurst;
    this.#tokensAt = this.#now();
  }

  get length(): number {
    return this.#queue.length;
  }

  get isShutDown(): boolean {
    return this.#shutDown;
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#queue.push(key);
    }
  }

  /** Adds `key` after `delayMs`; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { at, timer });
  }

  /** Re-adds a key whose processing failed, after its backoff (and the global limit) allow. */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const perKey = Math.min(this.#options.maxDelayMs, this.#options.baseDelayMs * 2 ** failures);
    this.addAfter(key, Math.max(perKey, this.#takeToken()));
  }

  /** How many times in a row `key` has failed. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to process, or undefined once the queue is shut down. Call `done(key)` after. */
  get(): Promise<string | undefined> {
    // After shutdown nothing more is handed out, even what was queued: the caches are stopping.
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (!this.#dirty.has(key)) return;
    this.#dirty.delete(key);
    this.add(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** Milliseconds until the global token bucket has a token for this retry (and takes it). */
  #takeToken(): number {
    const now = this.#now();
    const { retriesPerSecond, retryBurst } = this.#options;
    this.#tokens = Math.min(retryBurst, this.#tokens + ((now - this.#tokensAt) / 1000) * retriesPerSecond);
    this.#tokensAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / retriesPerSecond) * 1000);
  }
}
