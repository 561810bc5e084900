/** Opening the SQLite file: pragmas read back, integrity checked, schema migrated, statements prepared. */
import Database from 'better-sqlite3';
import { StoreError } from './engine.js';
import { MIGRATIONS } from './sqlite-schema.js';

/** One synchronous wait for a lock held by another connection; longer waits are retried asynchronously. */
export const BUSY_WAIT_SLICE_MS = 50;

export interface SqliteEngineOptions {
  /** Milliseconds a write waits for a lock held by another connection before failing `busy`. */
  busyTimeoutMs?: number;
  /** Runs `PRAGMA quick_check` at open and refuses a corrupt file. */
  checkIntegrity?: boolean;
  /** Where a watch listener's exception is reported (the listener is dropped); default console.error. */
  onListenerError?: (error: unknown) => void;
}

export function openDatabase(path: string, options: SqliteEngineOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    throw new StoreError('config', `cannot open the database ${path}: ${(error as Error).message}`);
  }
  try {
    // SQLite's busy wait blocks the whole event loop, so it stays short; the engine retries
    // asynchronously until `busyTimeoutMs` is spent.
    db.pragma(`busy_timeout = ${Math.min(BUSY_WAIT_SLICE_MS, options.busyTimeoutMs ?? 5000)}`);
    if (options.checkIntegrity !== false && path !== ':memory:') {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        // quick_check can list hundreds of damaged cells; the first few lines say enough.
        const detail = String(check).split('\n').slice(0, 3).join('; ');
        throw new StoreError('corrupt', `database corrupt, restore from backup: ${path} (quick_check: ${detail})`);
      }
    }
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Read back: a pragma that did not take would silently weaken durability.
    const journal = db.pragma('journal_mode', { simple: true });
    if (path !== ':memory:' && journal !== 'wal') throw new StoreError('config', `PRAGMA journal_mode is ${String(journal)}, pm8s requires wal (${path})`);
    const synchronous = db.pragma('synchronous', { simple: true });
    if (synchronous !== 2) throw new StoreError('config', `PRAGMA synchronous is ${String(synchronous)}, pm8s requires 2 (FULL) (${path})`);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw translate(error, path);
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const version = db.prepare('SELECT MAX(version) AS version FROM schema_version');
  const known = MIGRATIONS.length;
  // One transaction per step, reading the version inside it: a second process starting at the same
  // time waits for the lock and then sees the step done instead of running it twice.
  for (;;) {
    const done = db.transaction(() => {
      const from = (version.get() as { version: number | null }).version ?? 0;
      if (from > known) throw new StoreError('config', `the database schema is version ${from}, newer than this pm8s knows (${known}); upgrade pm8s`);
      if (from === known) return true;
      db.exec(MIGRATIONS[from]!);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(from + 1);
      return false;
    }).immediate();
    if (done) return;
  }
}

export function prepare(db: Database.Database) {
  return {
    revision: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'"),
    getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    current: db.prepare('SELECT revision FROM current WHERE key = ?'),
    get: db.prepare('SELECT c.key, c.revision, c.create_revision, l.value FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?'),
    list: db.prepare(
      'SELECT c.key, c.revision, c.create_revision, l.value FROM current c JOIN log l ON l.revision = c.revision WHERE c.key >= ? AND c.key < ? ORDER BY c.key',
    ),
    listAt: db.prepare(
      `SELECT l.key, l.revision, CASE WHEN l.type = 0 THEN l.revision ELSE l.create_revision END AS create_revision, l.value FROM log l
       WHERE l.key >= @low AND l.key < @high AND l.type != 2
         AND l.revision = (SELECT MAX(n.revision) FROM log n WHERE n.key = l.key AND n.revision <= @revision)
       ORDER BY l.key`,
    ),
    history: db.prepare(
      `SELECT l.key, l.revision, l.type, l.create_revision, l.value, p.value AS prev_value
       FROM log l LEFT JOIN log p ON p.revision = l.prev_revision AND p.key = l.key AND l.type != 0
       WHERE l.revision > @after AND l.key >= @low AND l.key < @high ORDER BY l.revision`,
    ),
    lastRevisionOfKey: db.prepare('SELECT MAX(revision) AS revision FROM log WHERE key = ? HAVING revision IS NOT NULL'),
    append: db.prepare('INSERT INTO log (key, type, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?)'),
    upsertCurrent: db.prepare(
      `INSERT INTO current (key, revision, create_revision, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, create_revision = excluded.create_revision, expires_at = excluded.expires_at`,
    ),
    deleteCurrent: db.prepare('DELETE FROM current WHERE key = ?'),
    expired: db.prepare('SELECT key, revision FROM current WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 1000'),
    // For every key written in (low, high]: drop its rows superseded at `high` (including rows at or
    // below `low`, which earlier batches had to keep), and its last row too when that is a delete.
    compact: db.prepare(
      `DELETE FROM log WHERE revision <= @high
         AND key IN (SELECT key FROM log WHERE revision > @low AND revision <= @high)
         AND (type = 2 OR EXISTS (SELECT 1 FROM log n WHERE n.key = log.key AND n.revision > log.revision AND n.revision <= @high))`,
    ),
  };
}

export function translate(error: unknown, path: string): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const message = (error as Error).message;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new StoreError('busy', `the database ${path} is locked by another writer; retry`);
  if (code === 'SQLITE_CORRUPT') return new StoreError('corrupt', `database corrupt, restore from backup: ${path} (${message})`);
  if (code === 'SQLITE_NOTADB') return new StoreError('corrupt', `database corrupt, restore from backup: ${path} is not an SQLite database (${message})`);
  return error;
}
