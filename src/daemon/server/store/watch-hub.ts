import type { StoreEvent, Watcher } from './engine.js';

interface Subscription {
  prefix: string;
  /** Events of revision at or below this were already delivered (dedupe between replay and live). */
  delivered: number;
  /** Live events arriving while the replay is still being read. */
  pending: StoreEvent[] | undefined;
  listener: (event: StoreEvent) => void;
  onClose: (() => void) | undefined;
  /** Dropped after its listener threw: it reports no further progress. */
  dropped: boolean;
}

/**
 * Fans committed events out to watchers. A watch subscribes first, then replays history, then
 * drains what arrived meanwhile, dropping anything already delivered (kine's watch order).
 */
export class WatchHub {
  readonly #subscriptions = new Set<Subscription>();
  readonly #onListenerError: (error: unknown) => void;
  /** Events published from inside a listener wait here, so every watcher sees revisions in order. */
  readonly #queue: StoreEvent[] = [];
  #publishing = false;
  /** The newest revision handed to every subscription not still replaying. */
  #fannedOut = 0;

  /** A listener that throws is dropped and reported here, so one bad watcher cannot fail a committed write. */
  constructor(onListenerError: (error: unknown) => void = (error) => console.error(error)) {
    this.#onListenerError = onListenerError;
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  publish(event: StoreEvent): void {
    this.#queue.push(event);
    if (this.#publishing) return;
    this.#publishing = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        this.#fanOut(next);
        this.#fannedOut = next.revision;
      }
    } finally {
      this.#publishing = false;
    }
  }

  #fanOut(event: StoreEvent): void {
    for (const subscription of this.#subscriptions) {
      if (!event.key.startsWith(subscription.prefix)) continue;
      if (subscription.pending) {
        subscription.pending.push(event);
        continue;
      }
      try {
        deliver(subscription, event);
      } catch (error) {
        this.#subscriptions.delete(subscription);
        subscription.dropped = true;
        this.#onListenerError(error);
        // Its owner must learn the watch ended, or it would wait (and report progress) forever.
        subscription.onClose?.();
      }
    }
  }

  async watch(
    prefix: string,
    afterRevision: number,
    history: (prefix: string, afterRevision: number) => Promise<StoreEvent[]>,
    listener: (event: StoreEvent) => void,
    onClose?: () => void,
  ): Promise<Watcher> {
    const subscription: Subscription = { prefix, delivered: afterRevision, pending: [], listener, onClose, dropped: false };
    this.#subscriptions.add(subscription);
    try {
      for (const event of await history(prefix, afterRevision)) deliver(subscription, event);
      // Drain while still marked pending: a write made by the listener here queues behind older events.
      const pending = subscription.pending ?? [];
      for (let next = pending.shift(); next; next = pending.shift()) deliver(subscription, next);
      subscription.pending = undefined;
    } catch (error) {
      this.#subscriptions.delete(subscription);
      throw error;
    }
    return {
      close: () => void this.#subscriptions.delete(subscription),
      progressRevision: () =>
        subscription.pending || subscription.dropped ? subscription.delivered : Math.max(subscription.delivered, this.#fannedOut),
    };
  }

  /** Ends every watch, telling each owner (the engine is closing). */
  closeAll(): void {
    const closing = [...this.#subscriptions];
    this.#subscriptions.clear();
    for (const subscription of closing) subscription.onClose?.();
  }
}

function deliver(subscription: Subscription, event: StoreEvent): void {
  if (event.revision <= subscription.delivered) return;
  subscription.delivered = event.revision;
  subscription.listener(event);
}
