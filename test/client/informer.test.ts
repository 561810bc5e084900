import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { gone } from '../../src/api/errors.js';
import { clone } from '../../src/api/meta.js';
import { resourceForKind } from '../../src/api/resources.js';
import type { ResourceInfo } from '../../src/api/resources.js';
import type { KubeList, KubeObject, WatchEvent } from '../../src/api/types.js';
import type { ApiClient, DeleteQuery, ListQuery, PatchType, WatchHandle, WatchQuery, WriteQuery } from '../../src/client/api-client.js';
import { HttpClient } from '../../src/client/http-client.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import { Informer } from '../../src/client/informer.js';
import type { InformerOptions } from '../../src/client/informer.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import { startServer } from '../../src/daemon/server/server.js';
import type { ServerOptions } from '../../src/daemon/server/server.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const configMaps = resourceForKind('v1', 'ConfigMap')!;
const secrets = resourceForKind('v1', 'Secret')!;

const configMap = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

/** A real client with faults the test can switch on: watches cut mid-stream, the server unreachable, a rewound watch. */
class FaultyClient implements ApiClient {
  lists = 0;
  /** The resourceVersion each WATCH asked for, in order. */
  readonly watchedFrom: (string | undefined)[] = [];
  unreachable = false;
  /** The next WATCH starts here instead of where the informer asked: the server replays what it already sent. */
  rewindNextWatchTo: string | undefined;
  /** The next WATCH fails with this at its start. */
  failNextWatchWith: unknown;
  readonly #inner: ApiClient;
  readonly #cutters = new Set<() => void>();

  constructor(inner: ApiClient) {
    this.#inner = inner;
  }

  get activeWatches(): number {
    return this.#cutters.size;
  }

  /** Breaks every open watch as a reset connection would. */
  cut(): void {
    for (const cutter of [...this.#cutters]) cutter();
  }

  #reachable(): void {
    if (this.unreachable) throw new Error('connect ECONNREFUSED (simulated)');
  }

  get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.#inner.get(info, namespace, name);
  }
  async list(info: ResourceInfo, namespace: string | undefined, query?: ListQuery): Promise<KubeList> {
    this.lists++;
    this.#reachable();
    return this.#inner.list(info, namespace, query);
  }
  create(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query?: WriteQuery): Promise<KubeObject> {
    return this.#inner.create(info, namespace, object, query);
  }
  update(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query?: WriteQuery & { subresource?: 'status' }): Promise<KubeObject> {
    return this.#inner.update(info, namespace, object, query);
  }
  patch(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, query?: WriteQuery & { subresource?: 'status' | 'scale' }): Promise<KubeObject> {
    return this.#inner.patch(info, namespace, name, type, patch, query);
  }
  delete(info: ResourceInfo, namespace: string | undefined, name: string, query?: DeleteQuery & WriteQuery): Promise<KubeObject> {
    return this.#inner.delete(info, namespace, name, query);
  }

  bind(info: ResourceInfo, namespace: string | undefined, name: string, nodeName: string, query?: WriteQuery): Promise<void> {
    return this.#inner.bind(info, namespace, name, nodeName, query);
  }
  async watch(info: ResourceInfo, namespace: string | undefined, query: WatchQuery, onEvent: (event: WatchEvent) => void): Promise<WatchHandle> {
    this.watchedFrom.push(query.resourceVersion);
    this.#reachable();
    if (this.failNextWatchWith !== undefined) {
      const failure = this.failNextWatchWith;
      this.failNextWatchWith = undefined;
      throw failure;
    }
    const asked = this.rewindNextWatchTo === undefined ? query : { ...query, resourceVersion: this.rewindNextWatchTo };
    this.rewindNextWatchTo = undefined;
    const inner = await this.#inner.watch(info, namespace, asked, onEvent);
    let cut!: () => void;
    const done = new Promise<void>((resolve, reject) => {
      cut = () => {
        inner.stop();
        reject(new Error('connection reset (simulated)'));
      };
      inner.done.then(resolve, reject);
    });
    this.#cutters.add(cut);
    const forget = () => this.#cutters.delete(cut);
    done.then(forget, forget);
    return { stop: () => inner.stop(), done };
  }
}

type Recorded = string;

/** Every handler call as `add name`, `update name old->new`, `delete name`. */
function record(informer: Informer): Recorded[] {
  const calls: Recorded[] = [];
  informer.on('add', (object) => calls.push(`add ${object.metadata.name}`));
  informer.on('update', (old, object) => {
    if (old !== object) calls.push(`update ${object.metadata.name} ${old.metadata.resourceVersion}->${object.metadata.resourceVersion}`);
  });
  informer.on('delete', (object) => calls.push(`delete ${object.metadata.name}`));
  return calls;
}

const summary = (objects: KubeObject[]): string[] =>
  objects.map((object) => `${object.metadata.name}@${object.metadata.resourceVersion} ${object.metadata.uid}`).sort();

interface Setup {
  server: TestServer;
  /** The informer's client, with faults to switch on. */
  client: FaultyClient;
  /** Writes behind the informer's back, straight to the API. */
  writer: InProcessClient;
  start(options?: InformerOptions): Informer;
}

type ClientKind = 'in-process' | 'http';

async function setup(t: Test, kind: ClientKind, serverOptions: Partial<ServerOptions> = {}): Promise<Setup> {
  const server = await startTestServer(t, serverOptions);
  let inner: ApiClient;
  if (kind === 'http') {
    const http = await HttpClient.fromKubeconfig({ kubeconfig: server.kubeconfigPath });
    t.teardown(() => http.close());
    inner = http;
  } else {
    inner = new InProcessClient(server.api, { bookmarkIntervalMs: 100 });
  }
  const client = new FaultyClient(inner);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  return {
    server,
    client,
    writer: new InProcessClient(server.api),
    start(options = {}) {
      const informer = new Informer(client, configMaps, { namespace: 'default', backoff: { initialMs: 20, maxMs: 100 }, logger: silentLogger, ...options });
      informer.start(controller.signal);
      return informer;
    },
  };
}

async function serverSummary(writer: ApiClient, query: ListQuery = {}): Promise<{ items: string[]; resourceVersion: string }> {
  const list = await writer.list(configMaps, 'default', query);
  return { items: summary(list.items), resourceVersion: list.metadata.resourceVersion };
}

const exitCheckDir = process.env.EXIT_CHECK_DIR;
if (exitCheckDir) await exitCheckChild(exitCheckDir);
else defineTests();

function defineTests(): void {
  for (const kind of ['in-process', 'http'] as const) {
    t.test(`over the ${kind} client`, async (t) => {
      t.test('syncs what exists, then follows adds, updates and deletes in order', async (t) => {
        const { writer, start } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('one'));
        await writer.create(configMaps, 'default', configMap('two'));
        const informer = start();
        const calls = record(informer);
        t.notOk(informer.hasSynced());
        await informer.waitForSync(AbortSignal.timeout(10_000));
        t.ok(informer.hasSynced());
        const listed = await serverSummary(writer);
        t.same(summary(informer.list()), listed.items);
        t.same([...calls].sort(), ['add one', 'add two']);
        t.equal(informer.lastSyncResourceVersion, listed.resourceVersion);
        calls.length = 0;

        const three = await writer.create(configMaps, 'default', configMap('three'));
        const threeAgain = await writer.update(configMaps, 'default', { ...three, data: { k: 'v' } });
        await writer.delete(configMaps, 'default', 'one');
        const last = await writer.create(configMaps, 'default', configMap('four'));
        await waitFor(() => informer.get('default', 'four'), { what: 'the informer to see "four"' });
        t.same(calls, [
          'add three',
          `update three ${three.metadata.resourceVersion}->${threeAgain.metadata.resourceVersion}`,
          'delete one',
          'add four',
        ]);
        t.same(summary(informer.list()), (await serverSummary(writer)).items);
        t.equal(informer.get('default', 'one'), undefined);
        t.same(informer.get('default', 'three')?.data, { k: 'v' });
        t.equal(informer.lastSyncResourceVersion, last.metadata.resourceVersion);
      });

      t.test('cached objects are read-only; a clone is the caller\'s', async (t) => {
        const { writer, start } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('frozen', { k: 'v' }));
        const informer = start();
        await informer.waitForSync();
        const cached = informer.get('default', 'frozen');
        if (!cached) throw new Error('not cached');
        t.throws(() => {
          (cached.data as Record<string, string>).k = 'changed';
        }, TypeError);
        t.throws(() => {
          cached.metadata.labels = {};
        }, TypeError);
        const copy = clone(cached);
        (copy.data as Record<string, string>).k = 'mine';
        t.same(informer.get('default', 'frozen')?.data, { k: 'v' });
        // The documented write-back: the clone with the resourceVersion read.
        const written = await writer.update(configMaps, 'default', copy);
        await waitFor(() => informer.get('default', 'frozen')?.metadata.resourceVersion === written.metadata.resourceVersion, { what: 'the write-back to arrive' });
      });

      t.test('a label selector: objects leaving the selection are deleted from the cache', async (t) => {
        const { writer, start } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('in', {}, { tier: 'web' }));
        await writer.create(configMaps, 'default', configMap('out', {}, { tier: 'db' }));
        const informer = start({ labelSelector: 'tier=web' });
        const calls = record(informer);
        await informer.waitForSync();
        t.same(calls, ['add in']);
        await writer.patch(configMaps, 'default', 'in', 'application/merge-patch+json', { metadata: { labels: { tier: 'db' } } });
        await writer.patch(configMaps, 'default', 'out', 'application/merge-patch+json', { metadata: { labels: { tier: 'web' } } });
        await waitFor(() => informer.get('default', 'out') && !informer.get('default', 'in'), { what: 'the selection to swap' });
        t.same(calls, ['add in', 'delete in', 'add out']);
        t.same(summary(informer.list()), (await serverSummary(writer, { labelSelector: 'tier=web' })).items);
      });

      t.test('a broken stream re-watches from the last revision seen, with no re-list', async (t) => {
        const { client, writer, start } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('a'));
        const informer = start();
        const calls = record(informer);
        await informer.waitForSync();
        await waitFor(() => client.activeWatches === 1, { what: 'the first watch' });
        const seen = informer.lastSyncResourceVersion;

        client.unreachable = true;
        client.cut();
        await waitFor(() => client.watchedFrom.length >= 3, { what: 'reconnect attempts to fail' });
        t.equal(informer.lastSyncResourceVersion, seen);
        const a = await writer.get(configMaps, 'default', 'a');
        const updated = await writer.update(configMaps, 'default', { ...a, data: { during: 'gap' } });
        await writer.create(configMaps, 'default', configMap('b'));
        calls.length = 0;
        client.unreachable = false;

        await waitFor(() => informer.get('default', 'b'), { what: 'the events from the gap' });
        t.same(calls, [`update a ${a.metadata.resourceVersion}->${updated.metadata.resourceVersion}`, 'add b']);
        t.equal(client.lists, 1, 'the watch resumed; nothing was listed again');
        t.ok(client.watchedFrom.slice(1).every((version) => version === seen), 'every reconnect asked for the last revision seen');
        t.same(summary(informer.list()), (await serverSummary(writer)).items);
      });

      t.test('after compaction, a watch from an old revision gets 410 and the re-list reports every difference', async (t) => {
        const { server, client, writer, start } = await setup(t, kind, { compactRetainRevisions: 1 });
        for (const name of ['keep', 'change', 'remove', 'recreate']) await writer.create(configMaps, 'default', configMap(name));
        const informer = start();
        const calls = record(informer);
        await informer.waitForSync();
        await waitFor(() => client.activeWatches === 1, { what: 'the first watch' });
        const seen = informer.lastSyncResourceVersion;
        const recreatedUid = informer.get('default', 'recreate')?.metadata.uid;

        client.unreachable = true;
        client.cut();
        const change = await writer.get(configMaps, 'default', 'change');
        const changed = await writer.update(configMaps, 'default', { ...change, data: { v: '2' } });
        await writer.delete(configMaps, 'default', 'remove');
        await writer.delete(configMaps, 'default', 'recreate');
        await writer.create(configMaps, 'default', configMap('recreate', { second: 'life' }));
        await writer.create(configMaps, 'default', configMap('new'));
        // Unrelated writes after the last configmap one, so the list's revision is the newest.
        await writer.create(secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'later' } });
        await server.engine.compact(await server.engine.currentRevision());
        t.ok(Number(seen) < (await server.engine.compactedRevision()), 'the informer\'s revision is compacted');
        calls.length = 0;
        client.unreachable = false;

        const expected = await serverSummary(writer);
        await waitFor(() => summary(informer.list()).join() === expected.items.join(), { what: 'the cache to equal the server\'s list' });
        t.equal(client.lists, 2, 'listed again after the 410');
        t.ok(client.watchedFrom.includes(seen), 'tried to resume from the compacted revision first');
        t.same(
          [...calls].sort(),
          [
            'add new',
            'add recreate',
            'delete recreate',
            'delete remove',
            `update change ${change.metadata.resourceVersion}->${changed.metadata.resourceVersion}`,
          ],
          'the delete during the gap is reported, the recreated object is a delete and an add',
        );
        t.ok(calls.indexOf('delete recreate') < calls.indexOf('add recreate'));
        t.not(informer.get('default', 'recreate')?.metadata.uid, recreatedUid);
        t.ok(BigInt(informer.lastSyncResourceVersion ?? '0') >= BigInt(expected.resourceVersion));

        // And it keeps watching from the fresh list.
        await writer.create(configMaps, 'default', configMap('after'));
        await waitFor(() => informer.get('default', 'after'), { what: 'an event after the re-list' });
        t.same(summary(informer.list()), (await serverSummary(writer)).items);
      });

      t.test('a 410 thrown when a watch starts also re-lists', async (t) => {
        const { client, writer, start } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('a'));
        const informer = start();
        await informer.waitForSync();
        await waitFor(() => client.activeWatches === 1, { what: 'the first watch' });
        client.failNextWatchWith = gone('too old resource version (simulated)');
        client.cut();
        await waitFor(() => client.lists === 2 && client.activeWatches === 1, { what: 'a re-list and a new watch' });
        await writer.create(configMaps, 'default', configMap('b'));
        await waitFor(() => informer.get('default', 'b'), { what: 'events after the re-list' });
        t.same(summary(informer.list()), (await serverSummary(writer)).items);
      });

      t.test('events not newer than the cache are dropped as duplicates', async (t) => {
        const { client, writer, start } = await setup(t, kind);
        const listedAt = (await writer.list(configMaps, 'default')).metadata.resourceVersion;
        await writer.create(configMaps, 'default', configMap('a'));
        const informer = start();
        const calls = record(informer);
        await informer.waitForSync();
        const a = await writer.get(configMaps, 'default', 'a');
        const updated = await writer.update(configMaps, 'default', { ...a, data: { v: '2' } });
        await waitFor(() => informer.get('default', 'a')?.metadata.resourceVersion === updated.metadata.resourceVersion, { what: 'the update' });
        t.same(calls, ['add a', `update a ${a.metadata.resourceVersion}->${updated.metadata.resourceVersion}`]);

        // The next watch replays from before "a" existed: ADDED and MODIFIED arrive again.
        client.rewindNextWatchTo = listedAt;
        client.cut();
        await waitFor(() => client.watchedFrom.length >= 2 && client.activeWatches === 1, { what: 'the rewound watch' });
        await writer.create(configMaps, 'default', configMap('b'));
        await waitFor(() => informer.get('default', 'b'), { what: 'the event after the replay' });
        t.same(calls, ['add a', `update a ${a.metadata.resourceVersion}->${updated.metadata.resourceVersion}`, 'add b'], 'the replayed events were ignored');
      });

      t.test('watches recycle at their timeout; bookmarks advance the revision; resync repeats updates', async (t) => {
        const { client, writer, start } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('a'));
        await writer.create(configMaps, 'default', configMap('selected', {}, { tier: 'web' }));
        const informer = start({ labelSelector: 'tier=web', watchTimeoutSeconds: { min: 1, max: 1 }, resyncMs: 100 });
        const resynced: string[] = [];
        informer.on('update', (old, object) => {
          if (old === object) resynced.push(object.metadata.name ?? '');
        });
        await informer.waitForSync();
        const synced = informer.lastSyncResourceVersion;
        await waitFor(() => resynced.length >= 2, { what: 'two resyncs' });
        t.ok(resynced.every((name) => name === 'selected'));

        // A write outside the selection moves the revision; only a BOOKMARK can tell this informer.
        const unselected = await writer.create(configMaps, 'default', configMap('unselected'));
        await waitFor(() => informer.lastSyncResourceVersion === unselected.metadata.resourceVersion, { timeout: 15_000, what: 'a bookmark at the unselected write' });
        t.not(informer.lastSyncResourceVersion, synced);
        t.equal(informer.get('default', 'unselected'), undefined);

        await waitFor(() => client.watchedFrom.length >= 3, { timeout: 15_000, what: 'watches to end at their timeout and restart' });
        t.equal(client.lists, 1, 'a watch that timed out resumes without a list');
        await writer.create(configMaps, 'default', configMap('b', {}, { tier: 'web' }));
        await waitFor(() => informer.get('default', 'b'), { what: 'events on a recycled watch' });
      });

      t.test('a handler that throws does not stop the informer or the other handlers', async (t) => {
        const { writer, start } = await setup(t, kind);
        const informer = start();
        const seen: string[] = [];
        informer.on('add', () => {
          throw new Error('handler bug');
        });
        informer.on('add', (object) => seen.push(object.metadata.name ?? ''));
        await informer.waitForSync();
        await writer.create(configMaps, 'default', configMap('x'));
        await writer.create(configMaps, 'default', configMap('y'));
        await waitFor(() => seen.length === 2, { what: 'both adds' });
        t.same(seen, ['x', 'y']);
      });

      t.test('abort ends the watch, and a pending backoff; waitForSync then rejects', async (t) => {
        const { client, writer } = await setup(t, kind);
        await writer.create(configMaps, 'default', configMap('a'));
        const controller = new AbortController();
        const informer = new Informer(client, configMaps, { namespace: 'default', resyncMs: 50, logger: silentLogger });
        informer.start(controller.signal);
        await informer.waitForSync();
        await waitFor(() => client.activeWatches === 1, { what: 'the watch' });
        controller.abort();
        await waitFor(() => client.activeWatches === 0, { what: 'the watch to end' });

        const second = new AbortController();
        const retrying = new Informer(client, configMaps, { namespace: 'default', backoff: { initialMs: 60_000, maxMs: 60_000 }, logger: silentLogger });
        client.unreachable = true;
        const listsBefore = client.lists;
        retrying.start(second.signal);
        await waitFor(() => client.lists > listsBefore, { what: 'the failed list' });
        const waiting = retrying.waitForSync();
        second.abort();
        await t.rejects(waiting, { message: /stopped before its first list/ }, 'waitForSync rejects when the informer stops unsynced');
        t.notOk(retrying.hasSynced());
      });
    });
  }

  t.test('waitForSync rejects on its own signal', async (t) => {
    const server = await startTestServer(t);
    const informer = new Informer(new InProcessClient(server.api), configMaps, { logger: silentLogger });
    // Never started: only the signal can end the wait.
    await t.rejects(informer.waitForSync(AbortSignal.timeout(20)), { name: 'TimeoutError' });
    t.throws(() => {
      const controller = new AbortController();
      informer.start(controller.signal);
      controller.abort();
      informer.start(controller.signal);
    }, /only once/);
  });

  /**
   * Leaks show as a process that does not exit, so the check runs in a child: this same file, with
   * EXIT_CHECK_DIR set. It syncs informers over both clients, stops the server so the HTTP one waits
   * out a 60 s backoff, aborts, and must then exit by itself, with no process.exit.
   */
  t.test('after abort the process exits: no timer, socket or watch is left', async (t) => {
    const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps');
    const child = spawn(process.execPath, [...loader, fileURLToPath(import.meta.url)], {
      env: { ...process.env, EXIT_CHECK_DIR: t.testdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => output.includes('aborted\n'), { timeout: 30_000, what: `the child to abort its informers; output so far: ${output}` });
    const code = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5000).unref())]);
    t.equal(code, 0, `the child exited by itself within 5 s of the abort; output: ${output}`);
  });
}

async function exitCheckChild(dataDir: string): Promise<void> {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => void lines.push(line) });
  const running = await startServer({ dataDir, listen: '127.0.0.1:0', logger: silentLogger, version: 'test' });
  const http = await HttpClient.fromKubeconfig({ kubeconfig: running.kubeconfigPath });
  const writer = new InProcessClient(running.api);
  const controller = new AbortController();
  const options: InformerOptions = { namespace: 'default', resyncMs: 50, backoff: { initialMs: 60_000, maxMs: 60_000 }, logger };
  const informers = [new Informer(new InProcessClient(running.api, { bookmarkIntervalMs: 100 }), configMaps, options), new Informer(http, configMaps, options)];
  for (const informer of informers) informer.start(controller.signal);
  await Promise.all(informers.map((informer) => informer.waitForSync(AbortSignal.timeout(10_000))));
  await writer.create(configMaps, 'default', configMap('seen'));
  await waitFor(() => informers.every((informer) => informer.get('default', 'seen')), { what: 'both informers to see the object' });
  await running.stop();
  await waitFor(() => lines.some((line) => line.includes('watch broke; reconnecting')), { what: 'the HTTP informer to back off' });
  controller.abort();
  http.close();
  process.stdout.write('aborted\n');
}
