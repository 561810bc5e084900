/**
 * A `node -e` script that holds an SQLite database's write lock (BEGIN IMMEDIATE) until told to let
 * go on stdin, or after 15 s so it can never linger. Arguments: the better-sqlite3 path, the db path.
 */
export const SQLITE_LOCKER = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
const release = () => { db.exec('COMMIT'); db.close(); process.exit(0); };
process.stdin.once('data', release);
setTimeout(release, 15000).unref();
`;
