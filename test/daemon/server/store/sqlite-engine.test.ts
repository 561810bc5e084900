import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { StoreError } from '../../../../src/daemon/server/store/engine.js';
import { SqliteEngine } from '../../../../src/daemon/server/store/sqlite-engine.js';
import { Model, engineConformance, rejectsWithCode } from '../../../helpers/store-conformance.js';
import { waitFor } from '../../../helpers/wait.js';
import { SQLITE_LOCKER } from '../../../helpers/sqlite-locker.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

t.test('conformance', async (t) => {
  const dir = t.testdir();
  let files = 0;
  engineConformance(t, async () => {
    const path = join(dir, `store-${++files}.db`);
    return { engine: new SqliteEngine(path), reopen: async () => new SqliteEngine(path) };
  });
});

/** An engine on a fresh file in the test's directory, closed when the test ends. */
function openEngine(t: Test, options: ConstructorParameters<typeof SqliteEngine>[1] = {}): { engine: SqliteEngine; path: string } {
  const path = join(t.testdir(), 'store.db');
  const engine = new SqliteEngine(path, options);
  t.teardown(() => engine.close());
  return { engine, path };
}

/** A separate read-only connection, as an operator's sqlite3 shell would have. */
function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

interface Child {
  process: ChildProcessByStdio<Writable, Readable, null>;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node args…`, collecting whole stdout lines; the child is SIGKILLed (by pid) at teardown if still alive. */
function spawnNode(t: Test, args: string[]): Child {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { process: child, lines, exited };
}

t.test('durability pragmas are set and read back', async (t) => {
  const { engine, path } = openEngine(t);
  const pragmas = engine.pragmas();
  t.equal(pragmas.journal_mode, 'wal', 'journal_mode');
  t.equal(pragmas.synchronous, 2, 'synchronous = FULL');
  t.equal(pragmas.busy_timeout, 50, 'one synchronous busy wait is short; longer waits are retried asynchronously');
  t.equal(
    inspect(path, (db) => db.pragma('journal_mode', { simple: true })),
    'wal',
    'WAL is recorded in the file, so every connection uses it',
  );
  t.equal(openEngine(t, { busyTimeoutMs: 20 }).engine.pragmas().busy_timeout, 20, 'a busyTimeoutMs below the slice applies as is');
});

t.test('a new file gets schema version 1, and reopening does not migrate again', async (t) => {
  const { engine, path } = openEngine(t);
  await engine.create('/s/a', 'a');
  await engine.close();
  await new SqliteEngine(path).close();
  const versions = inspect(path, (db) => db.prepare('SELECT version FROM schema_version').all());
  t.same(versions, [{ version: 1 }]);
  const tables = inspect(path, (db) => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all());
  t.same(tables, ['current', 'log', 'meta', 'schema_version', 'sqlite_sequence']);
});

t.test('a schema newer than this build is refused', async (t) => {
  const { engine, path } = openEngine(t);
  await engine.close();
  const db = new Database(path);
  db.prepare('INSERT INTO schema_version (version) VALUES (2)').run();
  db.close();
  const error = catchError(() => new SqliteEngine(path));
  t.ok(error instanceof StoreError && error.code === 'config', 'config error', { error });
  t.match((error as Error).message, /schema is version 2/);
});

function catchError(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('a corrupt file is refused at startup with "restore from backup" and the path', async (t) => {
  const { engine, path } = openEngine(t);
  for (let index = 0; index < 300; index++) await engine.create(`/k/${index}`, JSON.stringify({ index, pad: 'x'.repeat(200) }));
  await engine.close();
  const pageSize = 4096;
  const size = statSync(path).size;
  t.ok(size > 10 * pageSize, 'the file has many pages');
  // Garbage over the middle of every page after the first (page 1 holds the header and schema).
  const garbage = Buffer.from(Array.from({ length: 1024 }, (_, index) => (index * 37 + 11) & 0xff));
  const fd = openSync(path, 'r+');
  for (let offset = pageSize + 1024; offset + garbage.length < size; offset += pageSize) writeSync(fd, garbage, 0, garbage.length, offset);
  closeSync(fd);
  const error = catchError(() => new SqliteEngine(path));
  t.ok(error instanceof StoreError, 'a StoreError', { error });
  t.equal((error as StoreError).code, 'corrupt');
  t.match((error as Error).message, 'database corrupt, restore from backup');
  t.match((error as Error).message, path);
  t.ok((error as Error).message.length < 1000, 'the message stays readable');
});

t.test('a file that is not a database is refused with a clear error', async (t) => {
  const path = join(t.testdir(), 'notes.db');
  writeFileSync(path, 'These are my notes, not a database. '.repeat(200));
  const error = catchError(() => new SqliteEngine(path));
  t.ok(error instanceof StoreError, 'a StoreError', { error });
  t.equal((error as StoreError).code, 'corrupt');
  t.match((error as Error).message, path);
  t.match((error as Error).message, 'is not an SQLite database');
});


t.test('a write blocked by another process holding the lock fails busy, and the engine recovers', async (t) => {
  const { engine, path } = openEngine(t, { busyTimeoutMs: 200 });
  const before = await engine.create('/busy/a', 'a');
  const locker = spawnNode(t, ['-e', SQLITE_LOCKER, betterSqlite, path]);
  await waitFor(() => locker.lines.includes('locked'), { what: 'the locker to take the lock' });
  const started = performance.now();
  // The event loop keeps turning while the write waits: count timer ticks meanwhile.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const error = await rejectsWithCode(t, engine.create('/busy/b', 'b'), 'busy', 'a write while another process holds the lock');
  clearInterval(ticker);
  const waited = performance.now() - started;
  t.ok(ticks >= 3, `the event loop ran while the write waited (${ticks} ticks of 10 ms in ${Math.round(waited)} ms)`);
  t.ok(waited >= 150, `the write waited for the busy timeout (${Math.round(waited)} ms)`);
  t.ok(waited < 1500, 'and not much longer');
  t.match(error?.message, path, 'the error names the database');
  t.same(await engine.get('/busy/a'), before, 'reads keep working under the lock');
  t.equal(await engine.currentRevision(), before.revision, 'the failed write left no trace');
  locker.process.stdin.write('release\n');
  t.same(await locker.exited, { code: 0, signal: null }, 'the locker committed and exited');
  const after = await engine.create('/busy/b', 'b');
  t.equal(after.revision, before.revision + 1, 'writes work again, and no revision was lost to the failed attempt');
  t.same((await engine.list('/busy/')).items, [before, after]);
});

t.test('integrity_check is ok after thousands of writes and a compaction', async (t) => {
  const { engine, path } = openEngine(t);
  const model = new Model(engine);
  for (let index = 0; index < 3000; index++) {
    const key = `/i/${index % 150}`;
    if (index % 11 === 10 && model.live.has(key)) await model.delete(key);
    else await model.put(key, JSON.stringify({ index }));
  }
  await engine.compact(model.lastRevision - 200);
  t.equal(inspect(path, (db) => db.pragma('integrity_check', { simple: true })), 'ok');
  t.same((await engine.list('/i/')).items, model.stateAt(model.lastRevision, '/i/'), 'every live key is intact');
});

t.test('compaction shrinks the log and keeps every live key readable', async (t) => {
  const { engine, path } = openEngine(t);
  const model = new Model(engine);
  for (let index = 0; index < 2500; index++) {
    const key = `/s/${index % 40}`;
    if (index % 17 === 16 && model.live.has(key)) await model.delete(key);
    else await model.put(key, `value-${index}`);
  }
  const countLog = (): number => inspect(path, (db) => db.prepare('SELECT COUNT(*) FROM log').pluck().get() as number);
  t.equal(countLog(), 2500, 'one log row per revision before compaction');
  const compactAt = model.lastRevision - 30;
  await engine.compact(compactAt);
  const expected = model.stateAt(compactAt).length + model.eventsAfter(compactAt).length;
  t.equal(countLog(), expected, 'the log keeps only the state at the compacted revision plus later events');
  for (const record of model.stateAt(model.lastRevision)) t.same(await engine.get(record.key), record, `${record.key} is readable`);
  t.same(await engine.list('/s/', { revision: compactAt }), { items: model.stateAt(compactAt, '/s/'), revision: compactAt });
});

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with its printed seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** The writer child runs the compiled engine; fail loudly rather than test a stale build. */
function checkBuild(t: Test): boolean {
  const sourceDir = join(root, 'src/daemon/server/store');
  const builtDir = join(root, 'dist/src/daemon/server/store');
  const stale = readdirSync(sourceDir)
    .filter((name) => name.endsWith('.ts'))
    .filter((name) => {
      const built = join(builtDir, name.replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(built).mtimeMs < statSync(join(sourceDir, name)).mtimeMs;
    });
  if (stale.length === 0) return true;
  t.fail(`dist is missing or older than src for ${stale.join(', ')}: run \`npx tsc -p tsconfig.build.json\` (npm test does)`);
  return false;
}

t.test('every acknowledged write survives SIGKILL of the writer', async (t) => {
  if (!checkBuild(t)) return;
  const seed = Number(process.env.PM8S_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`seed ${seed} (rerun with PM8S_TEST_SEED=${seed})`);
  const random = seededRandom(seed);
  const path = join(t.testdir(), 'durable.db');
  const acknowledged = new Map<string, { revision: number; sequence: number }>();
  let revisionAfterRestart = 0;
  for (let round = 0; round < 4; round++) {
    const killAfter = 20 + Math.floor(random() * 600);
    const writer = spawnNode(t, [join(root, 'test/fixtures/store-writer.mjs'), path, String(round)]);
    await waitFor(() => writer.lines.length >= killAfter, { timeout: 15_000, what: `${killAfter} acknowledged writes` });
    writer.process.kill('SIGKILL');
    t.equal((await writer.exited).signal, 'SIGKILL', `round ${round}: killed after at least ${killAfter} acknowledged writes`);

    const roundRevisions: number[] = [];
    for (const line of writer.lines) {
      const [key, revision, sequence] = line.split(' ');
      roundRevisions.push(Number(revision));
      const previous = acknowledged.get(key!);
      if (!previous || previous.revision < Number(revision)) acknowledged.set(key!, { revision: Number(revision), sequence: Number(sequence) });
    }
    t.ok(Math.min(...roundRevisions) > revisionAfterRestart, `round ${round}: revisions continue above the previous run's`);

    t.equal(inspect(path, (db) => db.pragma('integrity_check', { simple: true })), 'ok', `round ${round}: integrity_check`);
    const engine = new SqliteEngine(path);
    try {
      const lost: string[] = [];
      for (const [key, ack] of acknowledged) {
        const record = await engine.get(key);
        const value = record ? (JSON.parse(record.value) as { key: string; sequence: number }) : undefined;
        if (!record || record.revision < ack.revision || value?.key !== key || value.sequence < ack.sequence) {
          lost.push(`${key}: acknowledged ${JSON.stringify(ack)}, found ${JSON.stringify(record && { revision: record.revision, value })}`);
        }
      }
      t.same(lost, [], `round ${round}: all ${acknowledged.size} acknowledged keys are present at or above their revision`);
      const strays = (await engine.list('')).items.filter((record) => {
        const value = JSON.parse(record.value) as { key?: unknown };
        return !/^\/durable\/\d+\/\d\/\d+$/.test(record.key) || value.key !== record.key;
      });
      t.same(strays, [], `round ${round}: nothing was stored that the writer did not send`);
      revisionAfterRestart = await engine.currentRevision();
      t.ok(revisionAfterRestart >= Math.max(...roundRevisions), `round ${round}: the current revision covers every acknowledgement`);
    } finally {
      await engine.close();
    }
  }
});
