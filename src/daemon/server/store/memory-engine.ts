import type { Engine, ListResult, StoreEvent, StoredRecord, Watcher, WriteOptions } from './engine.js';
import { StoreError } from './engine.js';
import { WatchHub } from './watch-hub.js';

interface LogEntry {
  event: StoreEvent;
  createRevision: number;
}

interface Entry {
  record: StoredRecord;
  expiresAt: number | undefined;
}

/** The same contract as the SQLite engine, in memory: for tests and throwaway servers. */
export class MemoryEngine implements Engine {
  readonly name = 'memory';
  readonly #current = new Map<string, Entry>();
  /** Every event since the compacted revision, plus the latest write of each live key, in revision order. */
  #log: LogEntry[] = [];
  #revision = 0;
  #compacted = 0;
  readonly #hub: WatchHub;
  #closed = false;

  /** `onListenerError` receives a watch listener's exception (the listener is dropped); default console.error. */
  constructor(options: { onListenerError?: (error: unknown) => void } = {}) {
    this.#hub = new WatchHub(options.onListenerError);
  }

  async currentRevision(): Promise<number> {
    this.#assertOpen();
    return this.#revision;
  }

  async compactedRevision(): Promise<number> {
    this.#assertOpen();
    return this.#compacted;
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    this.#assertOpen();
    const entry = this.#current.get(key);
    return entry ? { ...entry.record } : undefined;
  }

  async list(prefix: string, options: { revision?: number } = {}): Promise<ListResult> {
    this.#assertOpen();
    const asked = options.revision;
    if (asked === undefined || asked === 0 || asked === this.#revision) {
      const items = [...this.#current.values()]
        .filter((entry) => entry.record.key.startsWith(prefix))
        .map((entry) => ({ ...entry.record }))
        .sort(byKey);
      return { items, revision: this.#revision };
    }
    if (asked > this.#revision) throw new StoreError('future-revision', `revision ${asked} is newer than the current revision ${this.#revision}`);
    if (asked < this.#compacted) throw tooOld(asked, this.#compacted);
    // Start from now and undo every event after the asked revision, newest first.
    const state = new Map<string, StoredRecord | undefined>();
    for (const entry of this.#current.values()) if (entry.record.key.startsWith(prefix)) state.set(entry.record.key, entry.record);
    for (let index = this.#log.length - 1; index >= 0; index--) {
      const { event } = this.#log[index]!;
      if (event.revision <= asked) break;
      if (!event.key.startsWith(prefix)) continue;
      if (event.type === 'create') state.set(event.key, undefined);
      else state.set(event.key, this.#recordBefore(event, index));
    }
    const items = [...state.values()].filter((record): record is StoredRecord => record !== undefined).sort(byKey);
    return { items: items.map((record) => ({ ...record })), revision: asked };
  }

  async create(key: string, value: string, options: WriteOptions = {}): Promise<StoredRecord> {
    this.#assertOpen();
    if (this.#current.has(key)) throw new StoreError('exists', `key ${key} already exists`);
    const revision = ++this.#revision;
    const record = { key, value, revision, createRevision: revision };
    this.#current.set(key, { record, expiresAt: expiry(options) });
    this.#emit({ type: 'create', key, revision, value }, revision);
    return { ...record };
  }

  async update(key: string, value: string, expectedRevision: number, options: WriteOptions = {}): Promise<StoredRecord> {
    const existing = this.#expect(key, expectedRevision);
    const revision = ++this.#revision;
    const record = { key, value, revision, createRevision: existing.createRevision };
    this.#current.set(key, { record, expiresAt: expiry(options) });
    this.#emit({ type: 'update', key, revision, value, prevValue: existing.value }, existing.createRevision);
    return { ...record };
  }

  async delete(key: string, expectedRevision: number): Promise<StoredRecord> {
    const existing = this.#expect(key, expectedRevision);
    const revision = ++this.#revision;
    this.#current.delete(key);
    this.#emit({ type: 'delete', key, revision, value: existing.value, prevValue: existing.value }, existing.createRevision);
    return { key, value: existing.value, revision, createRevision: existing.createRevision };
  }

  async watch(prefix: string, afterRevision: number, listener: (event: StoreEvent) => void, onClose?: () => void): Promise<Watcher> {
    this.#assertOpen();
    return this.#hub.watch(
      prefix,
      afterRevision,
      async (watched, after) => {
        if (after < this.#compacted) throw tooOld(after, this.#compacted);
        return this.#log.map((entry) => entry.event).filter((event) => event.revision > after && event.key.startsWith(watched));
      },
      listener,
      onClose,
    );
  }

  async compact(revision: number): Promise<void> {
    this.#assertOpen();
    const target = Math.min(revision, this.#revision);
    if (target <= this.#compacted) return;
    // Like the SQLite engine: drop what is superseded at the target, keep each live key's latest write.
    const latest = new Map<string, number>();
    this.#log.forEach((entry, index) => {
      if (entry.event.revision <= target) latest.set(entry.event.key, index);
    });
    this.#log = this.#log.filter(
      (entry, index) => entry.event.revision > target || (latest.get(entry.event.key) === index && entry.event.type !== 'delete'),
    );
    this.#compacted = target;
  }

  async expire(now = new Date()): Promise<number> {
    this.#assertOpen();
    const due = [...this.#current.values()].filter((entry) => entry.expiresAt !== undefined && entry.expiresAt <= now.getTime());
    let count = 0;
    for (const { record } of due) {
      try {
        await this.delete(record.key, record.revision);
        count++;
      } catch (error) {
        // Rewritten or deleted since we looked (as in the SQLite engine): the next sweep sees its new expiry.
        if (!(error instanceof StoreError && (error.code === 'conflict' || error.code === 'not-found'))) throw error;
      }
    }
    return count;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#hub.closeAll();
  }

  #recordBefore(event: StoreEvent, index: number): StoredRecord {
    // The previous write to this key is in the log (it is newer than the compacted revision) or is the create.
    for (let earlier = index - 1; earlier >= 0; earlier--) {
      const previous = this.#log[earlier]!;
      if (previous.event.key === event.key) {
        return { key: event.key, value: previous.event.value, revision: previous.event.revision, createRevision: previous.createRevision };
      }
    }
    throw new StoreError('too-old', `history of ${event.key} before revision ${event.revision} is compacted`);
  }

  #expect(key: string, expectedRevision: number): StoredRecord {
    this.#assertOpen();
    const existing = this.#current.get(key)?.record;
    if (!existing) throw new StoreError('not-found', `key ${key} not found`);
    if (existing.revision !== expectedRevision) {
      throw new StoreError('conflict', `key ${key} is at revision ${existing.revision}, not ${expectedRevision}`);
    }
    return existing;
  }

  #emit(event: StoreEvent, createRevision: number): void {
    this.#log.push({ event, createRevision });
    this.#hub.publish(event);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('closed', 'the store is closed');
  }
}

/** SQLite's BINARY collation order (UTF-8 bytes), which differs from JavaScript's UTF-16 order. */
const byKey = (a: StoredRecord, b: StoredRecord): number => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

function expiry(options: WriteOptions): number | undefined {
  return options.ttlSeconds === undefined ? undefined : Date.now() + options.ttlSeconds * 1000;
}

function tooOld(asked: number, compacted: number): StoreError {
  return new StoreError('too-old', `revision ${asked} is compacted (oldest available is ${compacted})`);
}
