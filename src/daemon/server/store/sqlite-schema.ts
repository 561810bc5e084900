/** SQLite schema migrations; entry N brings schema_version from N to N+1. Append only. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE log (
     revision INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL,
     type INTEGER NOT NULL,
     create_revision INTEGER NOT NULL,
     prev_revision INTEGER NOT NULL,
     value TEXT NOT NULL
   );
   CREATE UNIQUE INDEX log_key_prev_revision ON log (key, prev_revision);
   CREATE INDEX log_key_revision ON log (key, revision);
   CREATE TABLE current (
     key TEXT PRIMARY KEY,
     revision INTEGER NOT NULL,
     create_revision INTEGER NOT NULL,
     expires_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX current_expires_at ON current (expires_at) WHERE expires_at IS NOT NULL;
   CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`,
];
