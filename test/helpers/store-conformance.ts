/**
 * The one conformance suite every store engine must pass (the Hono habit: one interface, one
 * shared suite). Engine test files call `engineConformance` with a factory; this file lives in
 * test/helpers because tap runs every .ts under test/ except helpers and fixtures.
 */
import type { Test } from 'tap';
import type { Engine, StoreErrorCode, StoreEvent, StoredRecord, Watcher, WriteOptions } from '../../src/daemon/server/store/engine.js';
import { StoreError } from '../../src/daemon/server/store/engine.js';
import { waitFor } from './wait.js';

export interface EngineUnderTest {
  engine: Engine;
  /** Opens the same storage again; the caller closes the previous engine first. */
  reopen?: () => Promise<Engine>;
}

export type MakeEngine = () => Promise<EngineUnderTest>;


/** Asserts that `promise` rejects with a StoreError of `code`; returns the error. */
export async function rejectsWithCode(t: Test, promise: Promise<unknown>, code: StoreErrorCode, message: string): Promise<StoreError | undefined> {
  try {
    await promise;
  } catch (error) {
    t.ok(error instanceof StoreError, `${message}: rejects with a StoreError`, { error });
    t.equal((error as StoreError).code, code, `${message}: code ${code}`);
    return error as StoreError;
  }
  t.fail(`${message}: expected a StoreError '${code}', but it resolved`);
  return undefined;
}

async function microtasks(count: number): Promise<void> {
  for (let index = 0; index < count; index++) await Promise.resolve();
}

/**
 * Writes through the engine and keeps an independent model of what the store must contain: the
 * live records and the full event log, from which the state at any revision is derived.
 */
export class Model {
  readonly live = new Map<string, StoredRecord>();
  readonly #log: StoreEvent[] = [];
  readonly #creates = new Map<number, number>();
  engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** Every committed event, in revision order. */
  get log(): StoreEvent[] {
    return [...this.#log].sort((a, b) => a.revision - b.revision);
  }

  get lastRevision(): number {
    return this.#log.reduce((max, event) => Math.max(max, event.revision), 0);
  }

  async create(key: string, value: string, options?: WriteOptions): Promise<StoredRecord> {
    const record = await this.engine.create(key, value, options);
    this.live.set(key, record);
    this.#creates.set(record.revision, record.createRevision);
    this.#log.push({ type: 'create', key, revision: record.revision, value });
    return record;
  }

  async update(key: string, value: string, options?: WriteOptions): Promise<StoredRecord> {
    const previous = this.#require(key);
    const record = await this.engine.update(key, value, previous.revision, options);
    this.live.set(key, record);
    this.#creates.set(record.revision, record.createRevision);
    this.#log.push({ type: 'update', key, revision: record.revision, value, prevValue: previous.value });
    return record;
  }

  /** Creates the key, or updates it when the model has it. */
  async put(key: string, value: string): Promise<StoredRecord> {
    return this.live.has(key) ? this.update(key, value) : this.create(key, value);
  }

  async delete(key: string): Promise<StoredRecord> {
    const previous = this.#require(key);
    const tombstone = await this.engine.delete(key, previous.revision);
    this.live.delete(key);
    this.#log.push({ type: 'delete', key, revision: tombstone.revision, value: previous.value, prevValue: previous.value });
    return tombstone;
  }

  /** Records a delete the engine did by itself (ttl expiry). */
  expired(key: string, revision: number): void {
    const previous = this.#require(key);
    this.live.delete(key);
    this.#log.push({ type: 'delete', key, revision, value: previous.value, prevValue: previous.value });
  }

  /** The live records under `prefix` at `revision`, in key order, derived from the model's log. */
  stateAt(revision: number, prefix = ''): StoredRecord[] {
    const state = new Map<string, StoredRecord>();
    for (const event of this.log) {
      if (event.revision > revision) break;
      if (event.type === 'delete') state.delete(event.key);
      else state.set(event.key, { key: event.key, value: event.value, revision: event.revision, createRevision: this.#creates.get(event.revision)! });
    }
    return [...state.values()].filter((record) => record.key.startsWith(prefix)).sort(byKeyBytes);
  }

  /** The events a watch of `prefix` after `revision` must deliver. */
  eventsAfter(revision: number, prefix = ''): StoreEvent[] {
    return this.log.filter((event) => event.revision > revision && event.key.startsWith(prefix));
  }

  #require(key: string): StoredRecord {
    const record = this.live.get(key);
    if (!record) throw new Error(`test bug: the model has no ${key}`);
    return record;
  }
}

/** Key order as SQLite's BINARY collation sees it: by UTF-8 bytes. */
export function byKeyBytes(a: { key: string }, b: { key: string }): number {
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}

interface Collector {
  events: StoreEvent[];
  watcher: Watcher;
}

async function collect(engine: Engine, prefix: string, afterRevision: number): Promise<Collector> {
  const events: StoreEvent[] = [];
  const watcher = await engine.watch(prefix, afterRevision, (event) => void events.push(event));
  return { events, watcher };
}

async function caughtUp(collector: Collector, revision: number, what: string): Promise<void> {
  await waitFor(() => (collector.events.at(-1)?.revision ?? 0) >= revision, { interval: 5, what: `${what} to reach revision ${revision}` });
}

export function engineConformance(t: Test, makeEngine: MakeEngine): void {
  const open = async (t: Test): Promise<EngineUnderTest & { model: Model }> => {
    const made = await makeEngine();
    const engines: Engine[] = [made.engine];
    t.teardown(async () => {
      for (const engine of engines) await engine.close();
    });
    const model = new Model(made.engine);
    const reopen = made.reopen;
    if (!reopen) return { ...made, model };
    return {
      engine: made.engine,
      model,
      reopen: async () => {
        const engine = await reopen();
        engines.push(engine);
        return engine;
      },
    };
  };

  t.test('create, get and list', async (t) => {
    const { engine, model } = await open(t);
    t.equal(await engine.currentRevision(), 0, 'a new store is at revision 0');
    t.same(await engine.list(''), { items: [], revision: 0 }, 'a new store lists nothing');
    const b = await model.create('/r/b', '{"n":"b"}');
    const a = await model.create('/r/a', '{"n":"a"}');
    t.equal(b.createRevision, b.revision, 'a created record has createRevision = revision');
    t.same(a, { key: '/r/a', value: '{"n":"a"}', revision: b.revision + 1, createRevision: b.revision + 1 });
    t.same(await engine.get('/r/a'), a, 'get returns what create returned');
    t.equal(await engine.get('/r/missing'), undefined, 'get of a missing key is undefined');
    const listed = await engine.list('/r/');
    t.same(listed, { items: [a, b], revision: a.revision }, 'list is in key order and carries the current revision');
    t.same(await engine.list('/r/', { revision: 0 }), listed, 'revision 0 means the current state');
    t.same(await engine.list('/r/', { revision: a.revision }), listed, 'the current revision given explicitly');
    await rejectsWithCode(t, engine.list('/r/', { revision: a.revision + 5 }), 'future-revision', 'list at a revision not reached yet');
    const got = await engine.get('/r/a');
    got!.value = 'mutated';
    t.equal((await engine.get('/r/a'))?.value, '{"n":"a"}', 'returned records are copies');
  });

  t.test('create of an existing key fails with exists and changes nothing', async (t) => {
    const { engine, model } = await open(t);
    const first = await model.create('/x/k', 'one');
    await rejectsWithCode(t, engine.create('/x/k', 'two'), 'exists', 'second create');
    t.same(await engine.get('/x/k'), first, 'the first value is kept');
    t.equal(await engine.currentRevision(), first.revision, 'a failed write does not move the revision');
  });

  t.test('compare-and-swap: of two writers from the same revision exactly one wins', async (t) => {
    const { engine, model } = await open(t);
    const base = await model.create('/cas/k', 'base');
    const results = await Promise.allSettled([engine.update('/cas/k', 'first', base.revision), engine.update('/cas/k', 'second', base.revision)]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    t.equal(won.length, 1, 'one writer wins');
    t.equal(lost.length, 1, 'one writer loses');
    const loser = lost[0]?.reason as unknown;
    t.ok(loser instanceof StoreError && loser.code === 'conflict', 'the loser gets conflict', { loser });
    const winner = won[0]!.value;
    t.same(await engine.get('/cas/k'), winner, 'the stored value is the winner');
    t.equal(winner.createRevision, base.revision, 'update keeps createRevision');
    await rejectsWithCode(t, engine.update('/cas/k', 'third', base.revision), 'conflict', 'a later update from the stale revision');
    t.same(await engine.get('/cas/k'), winner, 'the conflicting update changed nothing');
  });

  t.test('compare-and-swap: 20 concurrent updaters, exactly one success', async (t) => {
    const { engine, model } = await open(t);
    const base = await model.create('/cas/many', 'base');
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => engine.update('/cas/many', `writer-${index}`, base.revision)));
    const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const codes = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as StoreError).code] : []));
    t.equal(won.length, 1, 'exactly one update succeeds');
    t.same(codes, Array.from({ length: 19 }, () => 'conflict'), 'the other 19 get conflict');
    t.same(await engine.get('/cas/many'), won[0], 'the store holds the single winner');
    t.equal(await engine.currentRevision(), base.revision + 1, 'only one revision was written');
  });

  t.test('update and delete of a missing key fail with not-found', async (t) => {
    const { engine, model } = await open(t);
    await rejectsWithCode(t, engine.update('/nf/k', 'v', 1), 'not-found', 'update of a never-created key');
    await rejectsWithCode(t, engine.delete('/nf/k', 1), 'not-found', 'delete of a never-created key');
    const record = await model.create('/nf/k', 'v');
    await model.delete('/nf/k');
    await rejectsWithCode(t, engine.update('/nf/k', 'v2', record.revision), 'not-found', 'update of a deleted key');
    await rejectsWithCode(t, engine.delete('/nf/k', record.revision), 'not-found', 'delete of a deleted key');
    t.equal(await engine.currentRevision(), model.lastRevision, 'failed writes do not move the revision');
  });

  t.test('delete with a stale revision fails with conflict', async (t) => {
    const { engine, model } = await open(t);
    const first = await model.create('/del/k', 'v1');
    const second = await model.update('/del/k', 'v2');
    await rejectsWithCode(t, engine.delete('/del/k', first.revision), 'conflict', 'delete from the old revision');
    t.same(await engine.get('/del/k'), second, 'the key is still there, unchanged');
  });

  t.test('revisions strictly increase across all keys', async (t) => {
    const { engine, model } = await open(t);
    const revisions: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const key of ['/rev/a', '/rev/b', '/other/c']) revisions.push((await model.put(key, `${key}@${round}`)).revision);
      revisions.push((await model.delete('/rev/b')).revision);
    }
    const increasing = revisions.every((revision, index) => index === 0 || revision > revisions[index - 1]!);
    t.ok(increasing, 'each write gets a revision above every earlier one', { revisions });
    t.equal(await engine.currentRevision(), revisions.at(-1), 'currentRevision is the last write');
    const listed = await engine.list('');
    t.equal(listed.revision, revisions.at(-1), 'list reflects the last write');
  });

  t.test('list at a past revision reflects exactly the state then', async (t) => {
    const { engine, model } = await open(t);
    await model.create('/h/a', 'a1');
    await model.create('/h/b', 'b1');
    await model.update('/h/a', 'a2');
    await model.create('/h/gone', 'g1');
    await model.update('/h/gone', 'g2');
    await model.delete('/h/b');
    await model.create('/h/late', 'l1');
    await model.delete('/h/gone');
    await model.create('/h/b', 'b-again');
    await model.update('/h/late', 'l2');
    await model.create('/other/x', 'x');
    const current = await engine.currentRevision();
    t.equal(current, model.lastRevision);
    for (let revision = 1; revision <= current; revision++) {
      const listed = await engine.list('/h/', { revision });
      t.same(listed, { items: model.stateAt(revision, '/h/'), revision }, `list /h/ at revision ${revision}`);
    }
    t.same((await engine.list('')).items, model.stateAt(current), 'list of everything at the current revision');
  });

  t.test('list and watch prefixes are isolated (/a/ vs /ab/)', async (t) => {
    const { engine, model } = await open(t);
    const seen = await collect(engine, '/a/', 0);
    t.teardown(() => seen.watcher.close());
    await model.create('/a/1', 'a1');
    await model.create('/ab/1', 'ab1');
    await model.create('/a', 'bare');
    await model.create('/a/2', 'a2');
    await model.create('/b/1', 'b1');
    await model.update('/ab/1', 'ab1b');
    await model.update('/a/1', 'a1b');
    t.same((await engine.list('/a/')).items.map((record) => record.key), ['/a/1', '/a/2'], 'list /a/ has only /a/ keys');
    t.same((await engine.list('/ab/')).items.map((record) => record.key), ['/ab/1'], 'list /ab/ has only /ab/ keys');
    t.same((await engine.list('/a/', { revision: 4 })).items.map((record) => record.key), ['/a/1', '/a/2'], 'same at a past revision');
    await caughtUp(seen, model.lastRevision, 'the /a/ watch');
    t.same(seen.events, model.eventsAfter(0, '/a/'), 'watch /a/ sees only /a/ events');
  });

  t.test('keys with non-ASCII characters list under their prefix in the same order in every engine', async (t) => {
    const { engine, model } = await open(t);
    for (const key of ['/u/z', '/u/é', '/u/\uffef', '/u/😀', '/u/a', '/v/a']) await model.create(key, key);
    const listed = await engine.list('/u/');
    t.same(listed.items, model.stateAt(model.lastRevision, '/u/'), 'every /u/ key, in UTF-8 byte order');
    t.same((await engine.list('/u/', { revision: model.lastRevision - 1 })).items, model.stateAt(model.lastRevision - 1, '/u/'));
  });

  t.test('watch delivers every later event exactly once, in order, across many keys', async (t) => {
    const { engine, model } = await open(t);
    for (let index = 0; index < 10; index++) await model.create(`/w/k${index}`, 'v0');
    const after = model.lastRevision - 4;
    for (let index = 0; index < 10; index++) await model.update(`/w/k${index}`, 'v1');
    await model.delete('/w/k3');
    const seen = await collect(engine, '/w/', after);
    t.teardown(() => seen.watcher.close());
    for (let index = 0; index < 10; index++) if (index !== 3) await model.update(`/w/k${index}`, 'v2');
    await model.create('/w/k3', 'back');
    await caughtUp(seen, model.lastRevision, 'the watch');
    t.same(seen.events, model.eventsAfter(after, '/w/'), 'replay then live, exactly once and in order');
    const from = await collect(engine, '/w/', model.lastRevision);
    t.teardown(() => from.watcher.close());
    await model.update('/w/k0', 'v3');
    await caughtUp(from, model.lastRevision, 'a watch from the current revision');
    t.same(from.events, model.eventsAfter(model.lastRevision - 1, '/w/'), 'a watch from now sees only new events');
  });

  t.test('watch started while writes are committing misses and repeats nothing', async (t) => {
    const { engine, model } = await open(t);
    for (let index = 0; index < 8; index++) await model.create(`/race/k${index}`, 'v0');
    // Writers issue a write on every microtask without waiting for it, so writes commit at every
    // point of the watch's subscribe / replay / drain; head starts move where the watch begins.
    for (const headStart of [0, 1, 2, 3, 5, 10, 40]) {
      const after = model.lastRevision - 3;
      const writes: Array<Promise<StoredRecord>> = [];
      const writers = Array.from({ length: 4 }, (_, writer) =>
        (async () => {
          for (let index = 0; index < 30; index++) {
            writes.push(model.create(`/race/${headStart}/${writer}/${index}`, `w${writer}-${index}`));
            await microtasks(1);
          }
        })(),
      );
      const updater = (async () => {
        for (let index = 0; index < 10; index++) await model.put(`/race/k${index % 8}`, `u${headStart}-${index}`);
      })();
      await microtasks(headStart);
      const seen = await collect(engine, '/race/', after);
      await Promise.all([...writers, updater]);
      await Promise.all(writes);
      await caughtUp(seen, model.lastRevision, `the watch with head start ${headStart}`);
      seen.watcher.close();
      t.same(seen.events, model.eventsAfter(after, '/race/'), `head start ${headStart}: every event once, in order`);
    }
  });

  t.test('writes committed during the watch replay are delivered once, after the replay', async (t) => {
    const { engine, model } = await open(t);
    for (let index = 0; index < 6; index++) await model.create(`/rp/k${index}`, 'v0');
    const replayEnd = model.lastRevision;
    const during: Array<Promise<StoredRecord>> = [];
    const events: StoreEvent[] = [];
    const watcher = await engine.watch('/rp/', 0, (event) => {
      events.push(event);
      // Writing from inside the replay commits while the watch is still starting.
      if (event.revision <= replayEnd && event.revision % 2 === 0) during.push(model.create(`/rp/during-${event.revision}`, 'd'));
    });
    t.teardown(() => watcher.close());
    await Promise.all(during);
    t.equal(during.length, 3, 'writes happened during the replay');
    await caughtUp({ events, watcher }, model.lastRevision, 'the watch');
    t.same(events, model.eventsAfter(0, '/rp/'), 'replayed, then the writes made during replay, each once');
  });

  t.test('a listener that writes does not reorder or drop events for other watchers', async (t) => {
    const { engine, model } = await open(t);
    const writes: Array<Promise<StoredRecord>> = [];
    const writer = await engine.watch('/re/trigger', 0, (event) => {
      if (event.type === 'create') writes.push(model.create(`/re/echo-${event.revision}`, 'echo'));
    });
    t.teardown(() => writer.close());
    const observer = await collect(engine, '/re/', 0);
    t.teardown(() => observer.watcher.close());
    await model.create('/re/trigger', 't');
    await model.create('/re/after', 'a');
    await Promise.all(writes);
    await caughtUp(observer, model.lastRevision, 'the observer');
    t.same(observer.events, model.eventsAfter(0, '/re/'), 'the observer sees every event in revision order');
  });

  t.test('delete returns a tombstone with the last value; the delete event carries it', async (t) => {
    const { engine, model } = await open(t);
    const created = await model.create('/d/k', 'first');
    const updated = await model.update('/d/k', 'last');
    const seen = await collect(engine, '/d/', updated.revision);
    t.teardown(() => seen.watcher.close());
    const tombstone = await model.delete('/d/k');
    t.same(tombstone, { key: '/d/k', value: 'last', revision: updated.revision + 1, createRevision: created.revision }, 'the tombstone');
    t.equal(await engine.get('/d/k'), undefined, 'the key is gone');
    t.same((await engine.list('/d/')).items, [], 'and not listed');
    await caughtUp(seen, tombstone.revision, 'the watch');
    t.same(seen.events, [{ type: 'delete', key: '/d/k', revision: tombstone.revision, value: 'last', prevValue: 'last' }], 'the delete event');
  });

  t.test('re-create after delete starts a new life for the key', async (t) => {
    const { engine, model } = await open(t);
    const first = await model.create('/rc/k', 'one');
    await model.delete('/rc/k');
    const again = await model.create('/rc/k', 'two');
    t.ok(again.revision > first.revision, 'a new revision');
    t.equal(again.createRevision, again.revision, 'a new createRevision');
    t.same(await engine.get('/rc/k'), again);
    await model.update('/rc/k', 'three');
    await model.delete('/rc/k');
    await model.create('/rc/k', 'four');
    const seen = await collect(engine, '/rc/', 0);
    t.teardown(() => seen.watcher.close());
    await caughtUp(seen, model.lastRevision, 'the watch');
    t.same(seen.events, model.eventsAfter(0, '/rc/'), 'every life of the key is in the history');
    for (let revision = 1; revision <= model.lastRevision; revision++) {
      t.same((await engine.list('/rc/', { revision })).items, model.stateAt(revision, '/rc/'), `state at ${revision}`);
    }
  });

  t.test('compaction drops old history but keeps every live key', async (t) => {
    const { engine, model } = await open(t);
    await model.create('/c/quiet', 'written once, long ago');
    await model.create('/c/busy', 'b0');
    for (let index = 1; index <= 5; index++) await model.update('/c/busy', `b${index}`);
    await model.create('/c/dead', 'd');
    await model.delete('/c/dead');
    await model.create('/c/reborn', 'r1');
    await model.delete('/c/reborn');
    await model.create('/c/edge', 'e0');
    const compactAt = model.lastRevision;
    await model.update('/c/busy', 'b6');
    await model.create('/c/reborn', 'r2');
    await model.create('/c/new', 'n');
    await model.update('/c/edge', 'e1');
    await model.delete('/c/new');
    await engine.compact(compactAt);
    t.equal(await engine.compactedRevision(), compactAt, 'the compacted revision is recorded');
    await rejectsWithCode(t, engine.list('/c/', { revision: compactAt - 1 }), 'too-old', 'list just below the compacted revision');
    await rejectsWithCode(t, engine.list('/c/', { revision: 1 }), 'too-old', 'list at revision 1');
    await rejectsWithCode(t, engine.watch('/c/', compactAt - 1, () => undefined), 'too-old', 'watch just below the compacted revision');
    await rejectsWithCode(t, engine.watch('/c/', 0, () => undefined), 'too-old', 'watch from the beginning');
    t.same(await engine.list('/c/'), { items: model.stateAt(model.lastRevision, '/c/'), revision: model.lastRevision }, 'the current list');
    t.same(await engine.get('/c/quiet'), model.live.get('/c/quiet'), 'a key last written before the compaction is readable');
    for (let revision = compactAt; revision <= model.lastRevision; revision++) {
      t.same(await engine.list('/c/', { revision }), { items: model.stateAt(revision, '/c/'), revision }, `list at ${revision}`);
    }
    const seen = await collect(engine, '/c/', compactAt);
    t.teardown(() => seen.watcher.close());
    await caughtUp(seen, model.lastRevision, 'a watch from the compacted revision');
    t.same(seen.events, model.eventsAfter(compactAt, '/c/'), 'the watch replays everything after the compacted revision');
    await engine.compact(compactAt - 2);
    t.equal(await engine.compactedRevision(), compactAt, 'compacting to an older revision changes nothing');
    await engine.compact(model.lastRevision + 100);
    t.equal(await engine.compactedRevision(), model.lastRevision, 'compaction stops at the current revision');
    t.same(await engine.list('/c/', { revision: model.lastRevision }), { items: model.stateAt(model.lastRevision, '/c/'), revision: model.lastRevision });
    await model.update('/c/quiet', 'after full compaction');
    t.same((await engine.list('/c/', { revision: model.lastRevision - 1 })).items, model.stateAt(model.lastRevision - 1, '/c/'), 'list at the fully compacted revision');
  });

  t.test('compaction across thousands of revisions, in steps and in one go', async (t) => {
    const { engine, model } = await open(t);
    await model.create('/big/doomed', 'd');
    await model.create('/big/kept', 'k');
    await model.create('/big/ttl-less', 'x');
    for (let index = 0; index < 1200; index++) await model.put('/big/hot', `h${index}`);
    await model.delete('/big/doomed');
    await model.update('/big/kept', 'k2');
    for (let index = 0; index < 1200; index++) await model.put(`/big/many-${index % 7}`, `m${index}`);
    await model.delete('/big/many-3');
    const firstStep = 700;
    await engine.compact(firstStep);
    t.same(await engine.list('/big/', { revision: firstStep }), { items: model.stateAt(firstStep, '/big/'), revision: firstStep }, 'state at the first step');
    const target = model.lastRevision;
    await model.update('/big/hot', 'after');
    await engine.compact(target);
    t.equal(await engine.compactedRevision(), target);
    t.same(await engine.list('/big/', { revision: target }), { items: model.stateAt(target, '/big/'), revision: target }, 'state at the compacted revision');
    t.same(await engine.list('/big/'), { items: model.stateAt(model.lastRevision, '/big/'), revision: model.lastRevision }, 'the current state');
    const seen = await collect(engine, '/big/', target);
    t.teardown(() => seen.watcher.close());
    await caughtUp(seen, model.lastRevision, 'a watch from the compacted revision');
    t.same(seen.events, model.eventsAfter(target, '/big/'));
    await model.create('/big/doomed', 'back');
    t.same(await engine.get('/big/doomed'), model.live.get('/big/doomed'), 're-create of a key whose history was compacted away');
  });

  t.test('ttl expiry deletes the key with a delete event', async (t) => {
    const { engine, model } = await open(t);
    await model.create('/t/short', 'short-lived', { ttlSeconds: 0 });
    await model.create('/t/long', 'long-lived', { ttlSeconds: 3600 });
    await model.create('/t/none', 'forever');
    await model.create('/t/renewed', 'r0', { ttlSeconds: 0 });
    await model.update('/t/renewed', 'r1', { ttlSeconds: 3600 });
    await model.update('/t/none', 'now with a ttl', { ttlSeconds: 0 });
    const seen = await collect(engine, '/t/', model.lastRevision);
    t.teardown(() => seen.watcher.close());
    t.equal(await engine.expire(new Date(Date.now() - 60_000)), 0, 'nothing is due a minute ago');
    const before = model.lastRevision;
    t.equal(await engine.expire(new Date(Date.now() + 1000)), 2, 'two keys are due');
    t.equal(await engine.get('/t/short'), undefined, 'the short-lived key is gone');
    t.equal(await engine.get('/t/none'), undefined, 'a ttl given on update applies');
    t.ok(await engine.get('/t/long'), 'the long-lived key stays');
    t.same(await engine.get('/t/renewed'), model.live.get('/t/renewed'), 'an update with a longer ttl replaces the short one');
    await caughtUp(seen, before + 2, 'the watch');
    t.same(seen.events.map((event) => [event.type, event.key, event.value]).sort(), [['delete', '/t/none', 'now with a ttl'], ['delete', '/t/short', 'short-lived']]);
    t.same(seen.events.map((event) => event.revision).sort(), [before + 1, before + 2], 'expiry deletes get the next revisions');
    for (const event of seen.events) model.expired(event.key, event.revision);
    t.same((await engine.list('/t/')).items, model.stateAt(model.lastRevision, '/t/'));
    t.equal(await engine.expire(new Date(Date.now() + 1000)), 0, 'a second sweep finds nothing');
  });

  t.test('a listener that throws does not break writes or other watchers', async (t) => {
    const { engine, model } = await open(t);
    const reported = t.capture(console, 'error');
    const boom = new Error('listener failure');
    let thrown = 0;
    const bad = await engine.watch('/l/', 0, () => {
      thrown++;
      throw boom;
    });
    t.teardown(() => bad.close());
    const good = await collect(engine, '/l/', 0);
    t.teardown(() => good.watcher.close());
    await model.create('/l/a', 'a');
    await model.create('/l/b', 'b');
    await model.update('/l/a', 'a2');
    t.same(await engine.get('/l/a'), model.live.get('/l/a'), 'the writes committed');
    await caughtUp(good, model.lastRevision, 'the healthy watch');
    t.same(good.events, model.eventsAfter(0, '/l/'), 'the healthy watcher got every event');
    t.equal(thrown, 1, 'the throwing listener is dropped after its first failure');
    t.ok(
      reported.args().some((args) => args.includes(boom)),
      'the failure is reported, not swallowed',
    );
  });

  t.test('a closed watcher gets nothing more', async (t) => {
    const { engine, model } = await open(t);
    const seen = await collect(engine, '/cl/', 0);
    await model.create('/cl/a', 'a');
    await caughtUp(seen, model.lastRevision, 'the watch');
    seen.watcher.close();
    await model.create('/cl/b', 'b');
    const witness = await collect(engine, '/cl/', 0);
    await caughtUp(witness, model.lastRevision, 'a second watch');
    witness.watcher.close();
    t.equal(seen.events.length, 1, 'only the event before close');
  });

  t.test('a closed engine refuses everything with closed', async (t) => {
    const { engine, model } = await open(t);
    const record = await model.create('/z/k', 'v');
    await engine.close();
    await rejectsWithCode(t, engine.get('/z/k'), 'closed', 'get');
    await rejectsWithCode(t, engine.list('/z/'), 'closed', 'list');
    await rejectsWithCode(t, engine.create('/z/new', 'v'), 'closed', 'create');
    await rejectsWithCode(t, engine.update('/z/k', 'v2', record.revision), 'closed', 'update');
    await rejectsWithCode(t, engine.delete('/z/k', record.revision), 'closed', 'delete');
    await rejectsWithCode(t, engine.watch('/z/', 0, () => undefined), 'closed', 'watch');
    await rejectsWithCode(t, engine.compact(1), 'closed', 'compact');
    await rejectsWithCode(t, engine.expire(), 'closed', 'expire');
    await rejectsWithCode(t, engine.currentRevision(), 'closed', 'currentRevision');
    await rejectsWithCode(t, engine.compactedRevision(), 'closed', 'compactedRevision');
    await engine.close();
    t.pass('closing twice is harmless');
  });

  t.test('data, revisions and compaction survive close and reopen', async (t) => {
    const { engine, model, reopen } = await open(t);
    if (!reopen) {
      t.plan(0, `the ${engine.name} engine keeps nothing across close`);
      return;
    }
    await model.create('/p/a', 'a');
    await model.create('/p/b', 'b');
    await model.update('/p/a', 'a2');
    await model.create('/p/c', 'c', { ttlSeconds: 0 });
    await model.delete('/p/b');
    const compactAt = model.lastRevision - 1;
    await model.create('/p/d', 'd');
    await engine.compact(compactAt);
    const revision = model.lastRevision;
    await engine.close();
    const again = await reopen();
    model.engine = again;
    t.equal(await again.currentRevision(), revision, 'the revision survives');
    t.equal(await again.compactedRevision(), compactAt, 'the compacted revision survives');
    t.same(await again.list('/p/'), { items: model.stateAt(revision, '/p/'), revision }, 'every live key survives');
    for (let at = compactAt; at <= revision; at++) t.same((await again.list('/p/', { revision: at })).items, model.stateAt(at, '/p/'), `history at ${at}`);
    await rejectsWithCode(t, again.list('/p/', { revision: compactAt - 1 }), 'too-old', 'history below the compacted revision stays gone');
    const seen = await collect(again, '/p/', compactAt);
    t.teardown(() => seen.watcher.close());
    const next = await model.update('/p/a', 'a3');
    t.ok(next.revision > revision, 'revisions keep increasing after reopen');
    await caughtUp(seen, next.revision, 'a watch after reopen');
    t.same(seen.events, model.eventsAfter(compactAt, '/p/'), 'replay after reopen, then live');
    const expiredCount = await again.expire(new Date(Date.now() + 1000));
    t.equal(expiredCount, 1, 'a ttl survives reopen');
    t.equal(await again.get('/p/c'), undefined);
  });
}
