import { CodedError } from '../../../lib/coded-error.js';
/**
 * The store engine: a small key/value interface over an append-only revision log (the kine model).
 * Every write gets the next global revision; watch replays the log from a revision and then follows.
 */

export interface StoredRecord {
  key: string;
  /** The object as JSON text, without its resourceVersion (the revision is the resourceVersion). */
  value: string;
  /** The revision of the last write to this key. */
  revision: number;
  createRevision: number;
}

export type StoreEventType = 'create' | 'update' | 'delete';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  revision: number;
  /** The value after the write; for a delete, the last value the key had. */
  value: string;
  /** The value before the write, for update and delete. */
  prevValue?: string;
}

export interface ListResult {
  items: StoredRecord[];
  /** The revision the list reflects. */
  revision: number;
}

export interface WriteOptions {
  /** The key is deleted (with a delete event) after this many seconds. Used for Events. */
  ttlSeconds?: number;
}

export interface Watcher {
  close(): void;
  /**
   * Every event under the prefix up to this revision has been delivered: what a BOOKMARK may
   * report, even when nothing under the prefix changed (so quiet watchers keep up with compaction).
   */
  progressRevision(): number;
}

export type StoreErrorCode = 'exists' | 'not-found' | 'conflict' | 'too-old' | 'future-revision' | 'busy' | 'closed' | 'corrupt' | 'config';

/** A store failure with a stable code; the API layer maps codes to Statuses. */
export class StoreError extends CodedError<StoreErrorCode> {}

export interface Engine {
  readonly name: string;
  currentRevision(): Promise<number>;
  /** Revisions at or below this one are compacted: no watch or list can start there. */
  compactedRevision(): Promise<number>;
  get(key: string): Promise<StoredRecord | undefined>;
  /** Keys starting with `prefix`, in key order; at `revision` when given (must not be compacted). */
  list(prefix: string, options?: { revision?: number }): Promise<ListResult>;
  create(key: string, value: string, options?: WriteOptions): Promise<StoredRecord>;
  /** Compare-and-swap: fails with `conflict` unless the key's revision is `expectedRevision`. */
  update(key: string, value: string, expectedRevision: number, options?: WriteOptions): Promise<StoredRecord>;
  /** Returns the tombstone: the revision of the delete, with the last value. */
  delete(key: string, expectedRevision: number): Promise<StoredRecord>;
  /**
   * Delivers, in order and exactly once, every event under `prefix` with a revision above
   * `afterRevision`, then every later one, until the watcher is closed. Fails with `too-old`
   * when `afterRevision` is compacted. `onClose` is called if the engine closes while it runs.
   */
  watch(prefix: string, afterRevision: number, listener: (event: StoreEvent) => void, onClose?: () => void): Promise<Watcher>;
  /** Drops history at or below `revision`, keeping the latest version of every live key. */
  compact(revision: number): Promise<void>;
  /** Deletes keys whose ttl has passed; returns how many. */
  expire(now?: Date): Promise<number>;
  close(): Promise<void>;
}
