/**
 * A list-watch informer: a local, read-only cache of one resource kept current by LIST then WATCH,
 * with add/update/delete notifications. A small cousin of client-go's Reflector + SharedInformer.
 */
import { ApiError } from '../api/errors.js';
import { apiVersionOf } from '../api/resources.js';
import type { ResourceInfo } from '../api/resources.js';
import { objectKey } from '../api/meta.js';
import type { KubeObject, WatchEvent } from '../api/types.js';
import { isRecord } from '../api/types.js';
import { createBackoff, sleep } from '../lib/backoff.js';
import type { Backoff } from '../lib/backoff.js';
import { createLogger } from '../lib/logger.js';
import type { Logger } from '../lib/logger.js';
import type { ApiClient, WatchHandle } from './api-client.js';

export interface InformerHandlers {
  add: (object: KubeObject) => void;
  update: (oldObject: KubeObject, newObject: KubeObject) => void;
  /** Gets the last state seen; after a re-list that found the object gone, that state may be older than its deletion. */
  delete: (object: KubeObject) => void;
}

export type InformerEventName = keyof InformerHandlers;

export interface InformerOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Every this many ms, `update(object, object)` (the same object twice) for every cached object,
   * so work a handler dropped is retried. Off when absent or 0.
   */
  resyncMs?: number;
  /** Delays between failed attempts (default 200 ms doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** Watches end after a random time in this range, so streams recycle and load spreads (default 300–600 s, as client-go). */
  watchTimeoutSeconds?: { min: number; max: number };
  logger?: Logger;
}

/** Why one watch ended, which decides what the loop does next. */
type WatchOutcome =
  /** The revision was compacted (410): LIST again at once. */
  | { type: 'expired' }
  /** The server sent another ERROR: wait, then LIST again. */
  | { type: 'error'; status: unknown }
  /** The stream ended normally (timeout, server shutdown): WATCH again from the last revision. */
  | { type: 'ended'; eventful: boolean; elapsedMs: number };

/** A watch that ends quicker than this having sent nothing counts as a failure, so a flapping server is not hammered. */
const SHORT_WATCH_MS = 1000;

interface SyncWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Objects from `get`, `list` and the handlers are the cache's own, deep-frozen: clone them
 * (`clone` from src/api/meta.ts) before changing anything, and write back with their resourceVersion.
 */
export class Informer {
  readonly info: ResourceInfo;
  readonly #client: ApiClient;
  readonly #options: InformerOptions;
  readonly #logger: Logger;
  readonly #handlers: { [E in InformerEventName]: InformerHandlers[E][] } = { add: [], update: [], delete: [] };
  #cache = new Map<string, KubeObject>();
  #resourceVersion: string | undefined;
  #synced = false;
  #started = false;
  #stopped = false;
  readonly #syncWaiters = new Set<SyncWaiter>();

  constructor(client: ApiClient, info: ResourceInfo, options: InformerOptions = {}) {
    this.#client = client;
    this.info = info;
    this.#options = options;
    const component = { component: 'informer', resource: info.group ? `${info.resource}.${info.group}` : info.resource };
    this.#logger = (options.logger ?? createLogger({ level: 'warn' })).child(component);
  }

  /** Handlers run in event order, one at a time; one that throws is logged and does not stop the others. */
  on<E extends InformerEventName>(event: E, handler: InformerHandlers[E]): this {
    this.#handlers[event].push(handler);
    return this;
  }

  /** Runs until `signal` aborts; then leaves no timer, watch or pending rejection behind. */
  start(signal: AbortSignal): void {
    if (this.#started) throw new Error('an informer can be started only once');
    this.#started = true;
    this.#run(signal)
      .catch((error: unknown) => this.#logger.error('informer loop failed', { error }))
      .finally(() => {
        this.#stopped = true;
        if (this.#synced) return;
        for (const waiter of this.#syncWaiters) waiter.reject(new Error('the informer stopped before its first list'));
        this.#syncWaiters.clear();
      });
  }

  /** True once the first LIST has been applied; stays true through later re-lists. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first LIST; rejects if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#stopped) return Promise.reject(new Error('the informer stopped before its first list'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => waiter.reject(signal?.reason);
      const waiter: SyncWaiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#syncWaiters.delete(waiter);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          this.#syncWaiters.delete(waiter);
          reject(error);
        },
      };
      this.#syncWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The cached object (read-only: clone before changing it). */
  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#cache.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Every cached object (read-only: clone before changing one). */
  list(): KubeObject[] {
    return [...this.#cache.values()];
  }

  /** The revision the cache reflects: from the last LIST, watch event or BOOKMARK. */
  get lastSyncResourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const backoff = createBackoff({ initialMs: 200, maxMs: 30_000, ...this.#options.backoff });
    const resync = this.#startResync(signal);
    let needList = true;
    let expiredInARow = 0;
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            await this.#listAndReplace(signal);
            needList = false;
            backoff.reset();
            if (signal.aborted) break;
          }
          const outcome = await this.#watchOnce(signal, backoff);
          if (signal.aborted) break;
          if (outcome.type === 'expired') {
            this.#logger.debug('resourceVersion too old; listing again', { resourceVersion: this.#resourceVersion });
            needList = true;
            // A second 410 right after a fresh LIST means the list itself raced compaction: slow down.
            if (++expiredInARow > 1) await sleep(backoff.next(), signal);
            continue;
          }
          expiredInARow = 0;
          if (outcome.type === 'error') {
            this.#logger.warn('watch failed; listing again', { status: outcome.status });
            needList = true;
            await sleep(backoff.next(), signal);
          } else if (!outcome.eventful && outcome.elapsedMs < SHORT_WATCH_MS) {
            await sleep(backoff.next(), signal);
          }
        } catch (error) {
          if (signal.aborted) break;
          if (isGone(error)) {
            this.#logger.debug('resourceVersion too old; listing again', { resourceVersion: this.#resourceVersion });
            needList = true;
            if (++expiredInARow > 1) await sleep(backoff.next(), signal);
            continue;
          }
          expiredInARow = 0;
          const delayMs = backoff.next();
          this.#logger.warn(needList ? 'list failed; retrying' : 'watch broke; reconnecting', { error, delayMs, resourceVersion: this.#resourceVersion });
          await sleep(delayMs, signal);
        }
      }
    } finally {
      if (resync) clearInterval(resync);
    }
  }

  /** LIST, then make the cache exactly the list, telling handlers every difference (deletes first). */
  async #listAndReplace(signal: AbortSignal): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.#options;
    const list = await this.#client.list(this.info, namespace, {
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    });
    if (signal.aborted) return;
    const previous = this.#cache;
    const next = new Map<string, KubeObject>();
    for (const item of list.items) {
      // Kubernetes lists may leave out each item's apiVersion and kind.
      item.apiVersion ??= apiVersionOf(this.info);
      item.kind ??= this.info.kind;
      next.set(objectKey(item), deepFreeze(item));
    }
    this.#cache = next;
    this.#resourceVersion = list.metadata.resourceVersion;
    for (const [key, old] of previous) {
      if (!next.has(key)) this.#emit('delete', old);
    }
    for (const [key, object] of next) {
      const old = previous.get(key);
      if (!old) {
        this.#emit('add', object);
      } else if (old.metadata.uid !== object.metadata.uid) {
        // Deleted and created again while we were not watching: two events, as a watch would have sent.
        this.#emit('delete', old);
        this.#emit('add', object);
      } else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
        this.#emit('update', old, object);
      }
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of [...this.#syncWaiters]) waiter.resolve();
    }
  }

  /** One WATCH from the cache's revision, until it ends, breaks or `signal` aborts. */
  async #watchOnce(signal: AbortSignal, backoff: Backoff): Promise<WatchOutcome> {
    const { namespace, labelSelector, fieldSelector } = this.#options;
    const range = this.#options.watchTimeoutSeconds ?? { min: 300, max: 600 };
    const timeoutSeconds = Math.round(range.min + Math.random() * (range.max - range.min));
    const started = Date.now();
    let ended: WatchOutcome | undefined;
    let eventful = false;
    let handle: WatchHandle | undefined;
    const onEvent = (event: WatchEvent) => {
      if (ended || signal.aborted) return;
      if (event.type === 'ERROR' || !isRecord(event.object) || !isRecord(event.object.metadata)) {
        // A malformed event is treated like an ERROR: the cache cannot follow it, so start over from a LIST.
        ended = event.type === 'ERROR' && isGone(event.object) ? { type: 'expired' } : { type: 'error', status: event.object };
        handle?.stop();
        return;
      }
      if (!eventful) {
        eventful = true;
        backoff.reset();
      }
      this.#apply(event);
    };
    const onAbort = () => handle?.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      handle = await this.#client.watch(
        this.info,
        namespace,
        {
          ...(labelSelector ? { labelSelector } : {}),
          ...(fieldSelector ? { fieldSelector } : {}),
          ...(this.#resourceVersion === undefined ? {} : { resourceVersion: this.#resourceVersion }),
          allowWatchBookmarks: true,
          timeoutSeconds,
        },
        onEvent,
      );
      // An abort or ERROR that came before the handle did.
      if (signal.aborted || ended) handle.stop();
      try {
        await handle.done;
      } catch (error) {
        // Stopping a stream may fail it; that is our doing, not a broken transport.
        if (!ended && !signal.aborted) throw error;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return ended ?? { type: 'ended', eventful, elapsedMs: Date.now() - started };
  }

  /** Applies one watch event; an event not newer than the cached object is a duplicate and is dropped. */
  #apply(event: WatchEvent): void {
    const object = event.object;
    const version = object.metadata.resourceVersion;
    if (event.type !== 'BOOKMARK') {
      const key = objectKey(object);
      const cached = this.#cache.get(key);
      if (!cached || isNewer(version, cached.metadata.resourceVersion)) {
        if (event.type === 'DELETED') {
          if (cached) {
            this.#cache.delete(key);
            this.#emit('delete', deepFreeze(object));
          }
        } else {
          this.#cache.set(key, deepFreeze(object));
          if (cached) this.#emit('update', cached, object);
          else this.#emit('add', object);
        }
      }
    }
    if (version !== undefined && isNewer(version, this.#resourceVersion)) this.#resourceVersion = version;
  }

  #emit<E extends InformerEventName>(event: E, ...objects: Parameters<InformerHandlers[E]>): void {
    for (const handler of this.#handlers[event]) {
      try {
        (handler as (...args: KubeObject[]) => void)(...objects);
      } catch (error) {
        const object = objects[objects.length - 1];
        this.#logger.error('informer handler failed', { event, key: object ? objectKey(object) : undefined, error });
      }
    }
  }

  #startResync(signal: AbortSignal): NodeJS.Timeout | undefined {
    const every = this.#options.resyncMs;
    if (!every || every <= 0 || signal.aborted) return undefined;
    return setInterval(() => {
      if (!this.#synced || signal.aborted) return;
      for (const object of this.#cache.values()) this.#emit('update', object, object);
    }, every);
  }
}

/** Whether a 410 came back, as a thrown ApiError or as the Status of an ERROR event. */
function isGone(value: unknown): boolean {
  if (value instanceof ApiError) return value.code === 410;
  return isRecord(value) && value.code === 410;
}

/** Revisions are decimal strings of any length; anything else only counts as newer when different. */
function isNewer(version: string | undefined, than: string | undefined): boolean {
  if (version === undefined) return false;
  if (than === undefined) return true;
  if (!/^\d+$/.test(version) || !/^\d+$/.test(than)) return version !== than;
  const a = version.replace(/^0+(?=\d)/, '');
  const b = than.replace(/^0+(?=\d)/, '');
  return a.length !== b.length ? a.length > b.length : a > b;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
