import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Engine, ListResult, StoreEvent, StoredRecord, Watcher, WriteOptions } from './engine.js';
import { StoreError } from './engine.js';
import { WatchHub } from './watch-hub.js';
import type { SqliteEngineOptions } from './sqlite-database.js';
import { BUSY_WAIT_SLICE_MS, openDatabase, prepare, translate } from './sqlite-database.js';

export type { SqliteEngineOptions };

const enum RowType {
  Create = 0,
  Update = 1,
  Delete = 2,
}

const TYPE_NAMES = ['create', 'update', 'delete'] as const;

interface LogRow {
  key: string;
  revision: number;
  type: RowType;
  create_revision: number;
  value: string;
  prev_value: string | null;
}

interface PendingWrite {
  body: () => { record: StoredRecord; event: StoreEvent };
  resolve: (record: StoredRecord) => void;
  reject: (error: unknown) => void;
}

/** Bounds one group commit, so a burst of writes never holds the event loop for long. */
const MAX_WRITES_PER_COMMIT = 256;

interface CurrentRow {
  key: string;
  revision: number;
  create_revision: number;
  value: string;
}


/**
 * The default engine: one SQLite file in WAL mode with synchronous=FULL, one connection, every
 * write a `BEGIN IMMEDIATE` transaction. `log` holds every revision; `current` indexes the live ones.
 */
export class SqliteEngine implements Engine {
  readonly name = 'sqlite';
  readonly path: string;
  readonly #db: Database.Database;
  readonly #hub: WatchHub;
  readonly #statements: ReturnType<typeof prepare>;
  #closed = false;
  readonly #queue: PendingWrite[] = [];
  #flushScheduled = false;
  /** When the current run of lock failures began; writes fail once it outlasts the busy budget. */
  #busySince: number | undefined;
  readonly #busyBudgetMs: number;

  constructor(path: string, options: SqliteEngineOptions = {}) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#db = openDatabase(path, options);
    this.#busyBudgetMs = options.busyTimeoutMs ?? 5000;
    this.#statements = prepare(this.#db);
    this.#hub = new WatchHub(options.onListenerError);
  }

  /** Pragmas as read back from the open connection, for the startup log. */
  pragmas(): Record<string, unknown> {
    return {
      journal_mode: this.#db.pragma('journal_mode', { simple: true }),
      synchronous: this.#db.pragma('synchronous', { simple: true }),
      foreign_keys: this.#db.pragma('foreign_keys', { simple: true }),
      busy_timeout: this.#db.pragma('busy_timeout', { simple: true }),
    };
  }

  async currentRevision(): Promise<number> {
    return this.#run(() => this.#revisionNow());
  }

  async compactedRevision(): Promise<number> {
    return this.#run(() => this.#compacted());
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    return this.#run(() => {
      const row = this.#statements.get.get(key) as CurrentRow | undefined;
      return row ? toRecord(row) : undefined;
    });
  }

  async list(prefix: string, options: { revision?: number } = {}): Promise<ListResult> {
    return this.#run(() =>
      this.#db.transaction(() => {
        const current = this.#revisionNow();
        const asked = options.revision;
        if (asked === undefined || asked === 0 || asked === current) {
          const rows = this.#statements.list.all(prefix, upperBound(prefix)) as CurrentRow[];
          return { items: rows.map(toRecord), revision: current };
        }
        if (asked > current) throw new StoreError('future-revision', `revision ${asked} is newer than the current revision ${current}`);
        if (asked < this.#compacted()) throw tooOld(asked, this.#compacted());
        const rows = this.#statements.listAt.all({ low: prefix, high: upperBound(prefix), revision: asked }) as CurrentRow[];
        return { items: rows.map(toRecord), revision: asked };
      })(),
    );
  }

  async create(key: string, value: string, options: WriteOptions = {}): Promise<StoredRecord> {
    return this.#write(() => {
      const existing = this.#statements.current.get(key) as { revision: number } | undefined;
      if (existing) throw new StoreError('exists', `key ${key} already exists`);
      const lastDelete = this.#statements.lastRevisionOfKey.get(key) as { revision: number } | undefined;
      const revision = this.#append(key, RowType.Create, 0, lastDelete?.revision ?? 0, value);
      this.#statements.upsertCurrent.run(key, revision, revision, expiry(options));
      const record = { key, value, revision, createRevision: revision };
      return { record, event: { type: 'create', key, revision, value } satisfies StoreEvent };
    });
  }

  async update(key: string, value: string, expectedRevision: number, options: WriteOptions = {}): Promise<StoredRecord> {
    return this.#write(() => {
      const existing = this.#statements.get.get(key) as CurrentRow | undefined;
      if (!existing) throw new StoreError('not-found', `key ${key} not found`);
      if (existing.revision !== expectedRevision) {
        throw new StoreError('conflict', `key ${key} is at revision ${existing.revision}, not ${expectedRevision}`);
      }
      const revision = this.#append(key, RowType.Update, existing.create_revision, existing.revision, value);
      this.#statements.upsertCurrent.run(key, revision, existing.create_revision, expiry(options));
      const record = { key, value, revision, createRevision: existing.create_revision };
      const event: StoreEvent = { type: 'update', key, revision, value, prevValue: existing.value };
      return { record, event };
    });
  }

  async delete(key: string, expectedRevision: number): Promise<StoredRecord> {
    return this.#write(() => {
      const existing = this.#statements.get.get(key) as CurrentRow | undefined;
      if (!existing) throw new StoreError('not-found', `key ${key} not found`);
      if (existing.revision !== expectedRevision) {
        throw new StoreError('conflict', `key ${key} is at revision ${existing.revision}, not ${expectedRevision}`);
      }
      const revision = this.#append(key, RowType.Delete, existing.create_revision, existing.revision, existing.value);
      this.#statements.deleteCurrent.run(key);
      const record = { key, value: existing.value, revision, createRevision: existing.create_revision };
      const event: StoreEvent = { type: 'delete', key, revision, value: existing.value, prevValue: existing.value };
      return { record, event };
    });
  }

  async watch(prefix: string, afterRevision: number, listener: (event: StoreEvent) => void, onClose?: () => void): Promise<Watcher> {
    this.#assertOpen();
    return this.#hub.watch(prefix, afterRevision, async (watched, after) => this.#run(() => this.#history(watched, after)), listener, onClose);
  }

  async compact(revision: number): Promise<void> {
    const target = this.#run(() => Math.min(revision, this.#revisionNow()));
    // Small batches keep each write transaction short, so API writes never wait long behind compaction.
    // Each batch re-reads where compaction stands, so two concurrent compactions never move it backwards.
    for (;;) {
      const done = this.#run(() =>
        this.#db.transaction(() => {
          const from = this.#compacted();
          if (from >= target) return true;
          const to = Math.min(target, from + 1000);
          this.#statements.compact.run({ low: from, high: to });
          this.#statements.setMeta.run('compacted_revision', to);
          return false;
        }).immediate(),
      );
      if (done) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async expire(now = new Date()): Promise<number> {
    const expired = this.#run(() => this.#statements.expired.all(now.getTime()) as Array<{ key: string; revision: number }>);
    // Issued together so they share one group commit.
    const results = await Promise.allSettled(expired.map(({ key, revision }) => this.delete(key, revision)));
    let count = 0;
    for (const result of results) {
      if (result.status === 'fulfilled') count++;
      // Rewritten or deleted since we looked: the next sweep sees its new expiry.
      else if (!(result.reason instanceof StoreError && (result.reason.code === 'conflict' || result.reason.code === 'not-found'))) throw result.reason;
    }
    return count;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#queue.length > 0) this.#flush();
    this.#closed = true;
    this.#hub.closeAll();
    this.#db.close();
  }

  #history(prefix: string, afterRevision: number): StoreEvent[] {
    return this.#db.transaction(() => {
      const compacted = this.#compacted();
      if (afterRevision < compacted) throw tooOld(afterRevision, compacted);
      const rows = this.#statements.history.all({ low: prefix, high: upperBound(prefix), after: afterRevision }) as LogRow[];
      return rows.map((row) => {
        const event: StoreEvent = { type: TYPE_NAMES[row.type], key: row.key, revision: row.revision, value: row.value };
        if (row.prev_value !== null) event.prevValue = row.prev_value;
        return event;
      });
    })();
  }

  #append(key: string, type: RowType, createRevision: number, prevRevision: number, value: string): number {
    const result = this.#statements.append.run(key, type, createRevision, prevRevision, value);
    return Number(result.lastInsertRowid);
  }

  #revisionNow(): number {
    const row = this.#statements.revision.get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  #compacted(): number {
    const row = this.#statements.getMeta.get('compacted_revision') as { value: number } | undefined;
    return row?.value ?? 0;
  }

  /**
   * Group commit: writes arriving in the same turn of the event loop share one transaction and one
   * fsync. Each runs in its own savepoint, so one failing write (a conflict) leaves the others; each
   * promise settles only after COMMIT, and events are published in revision order after it.
   */
  #write<T extends StoredRecord>(body: () => { record: T; event: StoreEvent }): Promise<T> {
    this.#assertOpen();
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ body, resolve: resolve as (record: StoredRecord) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0, MAX_WRITES_PER_COMMIT);
    if (this.#queue.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    if (batch.length === 0) return;
    if (this.#closed) {
      for (const write of batch) write.reject(new StoreError('closed', 'the store is closed'));
      return;
    }
    const outcomes: Array<{ record: StoredRecord; event: StoreEvent } | { error: unknown }> = [];
    try {
      this.#db
        .transaction(() => {
          for (const write of batch) {
            try {
              outcomes.push(this.#db.transaction(write.body)());
            } catch (error) {
              outcomes.push({ error: translate(error, this.path) });
            }
          }
        })
        .immediate();
    } catch (error) {
      // BEGIN or COMMIT failed: nothing in this batch is durable.
      const failure = translate(error, this.path);
      if (failure instanceof StoreError && failure.code === 'busy' && Date.now() - (this.#busySince ??= Date.now()) < this.#busyBudgetMs) {
        // Another process holds the lock: try the same batch again shortly, without blocking the loop.
        this.#queue.unshift(...batch);
        if (!this.#flushScheduled) {
          this.#flushScheduled = true;
          setTimeout(() => this.#flush(), BUSY_WAIT_SLICE_MS);
        }
        return;
      }
      this.#busySince = undefined;
      for (const write of batch) write.reject(failure);
      return;
    }
    this.#busySince = undefined;
    batch.forEach((write, index) => {
      const outcome = outcomes[index]!;
      if ('error' in outcome) {
        write.reject(outcome.error);
        return;
      }
      this.#hub.publish(outcome.event);
      write.resolve(outcome.record);
    });
  }

  #run<T>(body: () => T): T {
    this.#assertOpen();
    try {
      return body();
    } catch (error) {
      throw translate(error, this.path);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('closed', 'the store is closed');
  }
}

function toRecord(row: CurrentRow): StoredRecord {
  return { key: row.key, value: row.value, revision: row.revision, createRevision: row.create_revision };
}

function expiry(options: WriteOptions): number | null {
  return options.ttlSeconds === undefined ? null : Date.now() + options.ttlSeconds * 1000;
}

/**
 * A string above every key starting with `prefix` in SQLite's BINARY (UTF-8 byte) order: U+10FFFF
 * is the largest code point, so only keys continuing with U+10FFFF itself (a noncharacter) escape.
 */
export function upperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

function tooOld(asked: number, compacted: number): StoreError {
  return new StoreError('too-old', `revision ${asked} is compacted (oldest available is ${compacted})`);
}

