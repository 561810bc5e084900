/**
 * The agent's durable record of the containers it runs (REFERENCE D7): one row per container in a
 * small SQLite file in the agent's data dir. `put` returns only after the commit is fsynced (WAL,
 * synchronous=FULL), so the agent can record {pid, start time, cgroup} before it reports Running and
 * a crash right after never leaves a Running container the next agent does not know.
 *
 * A missing or corrupt file is not fatal: the state starts empty and says why (`startedEmpty`), and
 * re-adoption falls back to scanning the cgroups. A corrupt file is moved aside, not deleted, so an
 * operator can still look at it.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CodedError } from '../../lib/coded-error.js';
import type { ProcessRecord } from '../../runtime/process/process-handle.js';
import type { RestartTrackerState } from '../../runtime/restart-tracker.js';

export const LOCAL_STATE_FILE = 'agent-state.db';
/** Bumped when the table changes shape; a newer file than this code knows is refused, not rewritten. */
const SCHEMA_VERSION = 2;
/** How long a lazy write (a pod object) waits for a durable write to share its commit. */
const LAZY_FLUSH_MS = 100;

export interface ContainerRecord {
  podUid: string;
  namespace: string;
  podName: string;
  containerName: string;
  restartCount: number;
  /** The wrapper's `ProcessHandle.toJSON()`; absent while no instance runs (back-off, terminated). */
  process?: ProcessRecord;
  /** Epoch ms the running instance started. */
  startedAt?: number;
  /** The last instance's `pm8s://<pid>-<startTime>`. */
  containerID?: string;
  /** The container's cgroup (`CgroupDriver.createContainer`), absent when limits are not enforced. */
  cgroupHandle?: string;
  /** The cgroup's OOM kill count when this process started: a later, higher count means this run was OOM-killed. */
  oomKillsAtStart?: number;
  tracker: RestartTrackerState;
  logPath: string;
  /** ISO 8601; set by `put` when absent. */
  updatedAt?: string;
}

export type StartedEmpty =
  /** No state file: a first start, or the file was deleted. */
  | { reason: 'missing'; message: string }
  /** The file could not be read as a state database; it was moved to `movedTo`. */
  | { reason: 'corrupt'; message: string; movedTo?: string };

export type LocalStateErrorCode =
  /** The file is from a newer pm8s. */
  | 'LocalStateTooNew'
  /** A record lacks a field the agent needs. */
  | 'LocalStateInvalidRecord';

export class LocalStateError extends CodedError<LocalStateErrorCode> {}

export interface OpenLocalStateOptions {
  /** The file name inside the data dir; default `agent-state.db`. */
  fileName?: string;
}

type Row = { value: string };

export class LocalState {
  readonly file: string;
  /** Set when this state started empty although it may have known containers: adoption must scan cgroups. */
  readonly startedEmpty: StartedEmpty | undefined;
  readonly #db: Database.Database;
  readonly #statements: ReturnType<typeof prepare>;

  private constructor(file: string, db: Database.Database, startedEmpty: StartedEmpty | undefined) {
    this.file = file;
    this.#db = db;
    this.startedEmpty = startedEmpty;
    this.#statements = prepare(db);
  }

  /** Opens (or creates) the state in `dataDir`. Never fails for a missing or corrupt file; see `startedEmpty`. */
  static async open(dataDir: string, options: OpenLocalStateOptions = {}): Promise<LocalState> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, options.fileName ?? LOCAL_STATE_FILE);
    let startedEmpty: StartedEmpty | undefined = existsSync(file) ? undefined : { reason: 'missing', message: `no agent state at ${file}; re-adopting containers from the cgroup scan` };
    let db: Database.Database;
    try {
      db = openStateDatabase(file);
    } catch (error) {
      if (error instanceof LocalStateError) throw error;
      const movedTo = `${file}.corrupt-${Date.now()}`;
      const moved = await moveAside(file, movedTo);
      startedEmpty = {
        reason: 'corrupt',
        message: `agent state ${file} is unreadable (${(error as Error).message})${moved ? `; moved to ${movedTo}` : ''}; re-adopting containers from the cgroup scan`,
        ...(moved ? { movedTo } : {}),
      };
      db = openStateDatabase(file);
    }
    return new LocalState(file, db, startedEmpty);
  }

  /** Records a container; durable (fsynced) when the promise resolves. */
  async put(record: ContainerRecord): Promise<void> {
    checkRecord(record);
    const value: ContainerRecord = { ...record, updatedAt: record.updatedAt ?? new Date().toISOString() };
    return this.#write(() => this.#statements.put.run(record.podUid, record.containerName, JSON.stringify(value)));
  }

  /**
   * Group commit: writes asked for in one turn of the event loop share one transaction, so one
   * fsync (~2 ms, blocking) covers a burst of pod starts instead of one per write.
   */
  #write(operation: () => unknown, lazy = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ operation, resolve, reject });
      if (!lazy && !this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      } else if (lazy) {
        this.#lazyTimer ??= setTimeout(() => this.#flush(), LAZY_FLUSH_MS).unref();
      }
    });
  }

  #flushScheduled = false;
  #lazyTimer: NodeJS.Timeout | undefined;

  #flush(): void {
    this.#flushScheduled = false;
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    try {
      this.#db.transaction(() => {
        for (const write of batch) write.operation();
      }).immediate();
    } catch {
      // One bad write must not fail the others: the transaction rolled back, so replay them one by one.
      for (const write of batch) {
        try {
          write.operation();
          write.resolve();
        } catch (error) {
          write.reject(error);
        }
      }
      return;
    }
    for (const write of batch) write.resolve();
  }

  readonly #pending: Array<{ operation: () => unknown; resolve: () => void; reject: (error: unknown) => void }> = [];

  get(podUid: string, containerName: string): ContainerRecord | undefined {
    const row = this.#statements.get.get(podUid, containerName) as Row | undefined;
    return row === undefined ? undefined : parseRecord(row.value);
  }

  /** Every readable record, by pod UID and container name. */
  list(): ContainerRecord[] {
    const records: ContainerRecord[] = [];
    for (const row of this.#statements.list.all() as Row[]) {
      const record = parseRecord(row.value);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  /** Forgets one container; resolves whether it was known. */
  async remove(podUid: string, containerName: string): Promise<boolean> {
    let changes = 0;
    await this.#write(() => (changes = this.#statements.remove.run(podUid, containerName).changes));
    return changes > 0;
  }

  /** Forgets a pod and every container of it; resolves how many containers there were. */
  async removePod(podUid: string): Promise<number> {
    let changes = 0;
    await this.#write(() => {
      this.#statements.forgetPod.run(podUid);
      changes = this.#statements.removePod.run(podUid).changes;
    });
    return changes;
  }

  /**
   * Keeps the pod object (spec and all) so the agent can supervise it after a restart without a
   * server. Lazy: it commits with the next container record (or within 100 ms), so starting a pod
   * costs one fsync, not two; writes commit in order, so the pod is never durable later than its
   * containers' records.
   */
  async putPod(uid: string, pod: object): Promise<void> {
    const text = JSON.stringify(pod);
    return this.#write(() => this.#statements.putPod.run(uid, text), true);
  }

  /** Every stored pod; unreadable rows are skipped. */
  listPods(): unknown[] {
    const pods: unknown[] = [];
    for (const row of this.#statements.listPods.all() as Row[]) {
      try {
        pods.push(JSON.parse(row.value));
      } catch {
        // A hand-edited row: the server's copy replaces it once the agent syncs.
      }
    }
    return pods;
  }

  close(): void {
    this.#flush();
    if (this.#db.open) this.#db.close();
  }
}

function openStateDatabase(file: string): Database.Database {
  const db = new Database(file);
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`quick_check: ${String(check).split('\n')[0]}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // Read back, as the store does: a pragma that did not take would silently weaken durability.
    if (db.pragma('journal_mode', { simple: true }) !== 'wal' || db.pragma('synchronous', { simple: true }) !== 2) {
      throw new Error('cannot set journal_mode=WAL and synchronous=FULL');
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new LocalStateError('LocalStateTooNew', `agent state ${file} is schema version ${version}, newer than this pm8s knows (${SCHEMA_VERSION}); upgrade pm8s`);
    if (version < SCHEMA_VERSION) {
      db.transaction(() => {
        db.exec('CREATE TABLE IF NOT EXISTS containers (pod_uid TEXT NOT NULL, container_name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (pod_uid, container_name)) WITHOUT ROWID');
        // Version 2: the pods themselves, so a restarted agent supervises them before any server answers.
        db.exec('CREATE TABLE IF NOT EXISTS pods (pod_uid TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function prepare(db: Database.Database) {
  return {
    put: db.prepare('INSERT INTO containers (pod_uid, container_name, value) VALUES (?, ?, ?) ON CONFLICT (pod_uid, container_name) DO UPDATE SET value = excluded.value'),
    get: db.prepare('SELECT value FROM containers WHERE pod_uid = ? AND container_name = ?'),
    list: db.prepare('SELECT value FROM containers ORDER BY pod_uid, container_name'),
    remove: db.prepare('DELETE FROM containers WHERE pod_uid = ? AND container_name = ?'),
    removePod: db.prepare('DELETE FROM containers WHERE pod_uid = ?'),
    putPod: db.prepare('INSERT INTO pods (pod_uid, value) VALUES (?, ?) ON CONFLICT (pod_uid) DO UPDATE SET value = excluded.value'),
    listPods: db.prepare('SELECT value FROM pods ORDER BY pod_uid'),
    forgetPod: db.prepare('DELETE FROM pods WHERE pod_uid = ?'),
  };
}

/** Moves the database and its WAL/SHM files aside; false when there was nothing to move. */
async function moveAside(file: string, to: string): Promise<boolean> {
  let moved = false;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      await rename(`${file}${suffix}`, `${to}${suffix}`);
      moved = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return moved;
}

function checkRecord(record: ContainerRecord): void {
  const problem = recordProblem(record);
  if (problem !== undefined) throw new LocalStateError('LocalStateInvalidRecord', `container record: ${problem}`);
}

function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const key of ['podUid', 'namespace', 'podName', 'containerName', 'logPath'] as const) {
    if (typeof record[key] !== 'string' || record[key] === '') return `${key} must be a non-empty string`;
  }
  if (!Number.isSafeInteger(record.restartCount)) return 'restartCount must be an integer';
  const process = record.process as Partial<ProcessRecord> | undefined;
  if (process !== undefined && (typeof process !== 'object' || process === null || !Number.isSafeInteger(process.pid) || typeof process.startTime !== 'string' || typeof process.statusFile !== 'string')) {
    return 'process must be { pid, startTime, statusFile }';
  }
  if (record.cgroupHandle !== undefined && typeof record.cgroupHandle !== 'string') return 'cgroupHandle must be a string';
  if (typeof record.tracker !== 'object' || record.tracker === null) return 'tracker must be a RestartTracker state';
  return undefined;
}

/** A stored row back into a record; a row that is not one (hand-edited, partial) reads as absent. */
function parseRecord(text: string): ContainerRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return recordProblem(value) === undefined ? (value as ContainerRecord) : undefined;
  } catch {
    return undefined;
  }
}
