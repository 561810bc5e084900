import path from 'node:path';
import t from 'tap';
import { ApiError } from '../../src/api/errors.js';
import { resolveResource, resourceForKind } from '../../src/api/resources.js';
import type { ResourceInfo } from '../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../src/api/types.js';
import { isRecord } from '../../src/api/types.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import { ObjectApi } from '../../src/daemon/server/api/object-api.js';
import { SqliteEngine } from '../../src/daemon/server/store/sqlite-engine.js';
import { startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const info = (apiVersion: string, kind: string): ResourceInfo => {
  const found = resourceForKind(apiVersion, kind);
  if (!found) throw new Error(`no resource for ${apiVersion} ${kind}`);
  return found;
};
const configMaps = info('v1', 'ConfigMap');
const pods = info('v1', 'Pod');
const nodes = info('v1', 'Node');
const deployments = info('apps/v1', 'Deployment');

const configMap = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

const deployment = (name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', command: ['sleep', '1000'] }] } },
  },
});

/** The rejection of `promise` as an ApiError; fails the test when it resolves or throws something else. */
async function apiErrorOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError, but the call succeeded');
}

t.test('create, get, list, update, delete round trip', async (t) => {
  const server = await startTestServer(t);
  const client = new InProcessClient(server.api);

  const created = await client.create(configMaps, 'default', configMap('settings', { a: '1' }));
  t.equal(created.metadata.namespace, 'default');
  t.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
  t.match(created.metadata.resourceVersion, /^\d+$/);

  const fetched = await client.get(configMaps, 'default', 'settings');
  t.same(fetched, created);

  // Results are the caller's: changing one changes nothing else.
  fetched.data = { a: 'changed locally' };
  t.same((await client.get(configMaps, 'default', 'settings')).data, { a: '1' });

  await client.create(configMaps, 'default', configMap('other'));
  const list = await client.list(configMaps, 'default');
  t.same(list.items.map((item) => item.metadata.name).sort(), ['other', 'settings']);
  t.match(list.metadata.resourceVersion, /^\d+$/);
  t.equal(list.kind, 'ConfigMapList');

  const changed = { ...created, data: { a: '2' } };
  const updated = await client.update(configMaps, 'default', changed);
  t.same(updated.data, { a: '2' });
  t.ok(BigInt(updated.metadata.resourceVersion!) > BigInt(created.metadata.resourceVersion!), 'the update gets a newer resourceVersion');

  const dryRun = await client.create(configMaps, 'default', configMap('dry'), { dryRun: true });
  t.equal(dryRun.metadata.name, 'dry');
  t.equal((await apiErrorOf(client.get(configMaps, 'default', 'dry'))).code, 404, 'a dry run stores nothing');

  await client.delete(configMaps, 'default', 'settings');
  const gone = await apiErrorOf(client.get(configMaps, 'default', 'settings'));
  t.equal(gone.code, 404);
  t.equal(gone.reason, 'NotFound');
  t.equal((await apiErrorOf(client.delete(configMaps, 'default', 'settings'))).code, 404);
});

t.test('a conflicting update is a 409, an invalid object a 422 naming its fields', async (t) => {
  const server = await startTestServer(t);
  const client = new InProcessClient(server.api);
  const original = await client.create(configMaps, 'default', configMap('contended', { v: '0' }));
  await client.update(configMaps, 'default', { ...original, data: { v: 'first' } });

  const stale = await apiErrorOf(client.update(configMaps, 'default', { ...original, data: { v: 'second' } }));
  t.equal(stale.code, 409);
  t.equal(stale.reason, 'Conflict');
  t.same((await client.get(configMaps, 'default', 'contended')).data, { v: 'first' }, 'the lost update was not written');

  t.equal((await apiErrorOf(client.create(configMaps, 'default', configMap('contended')))).reason, 'AlreadyExists');

  const invalid = await apiErrorOf(client.create(configMaps, 'default', configMap('Not_A_Name')));
  t.equal(invalid.code, 422);
  t.equal(invalid.reason, 'Invalid');
  t.ok(
    invalid.details?.causes?.some((cause) => cause.field === 'metadata.name'),
    'the cause names metadata.name',
  );

  const badReplicas = await apiErrorOf(client.create(deployments, 'default', deployment('web', -1)));
  t.equal(badReplicas.code, 422);
  t.ok(badReplicas.details?.causes?.some((cause) => cause.field === 'spec.replicas'), 'the cause names spec.replicas');
});

t.test('patch: merge, JSON and strategic merge', async (t) => {
  const server = await startTestServer(t);
  const client = new InProcessClient(server.api);
  await client.create(configMaps, 'default', configMap('patched', { a: '1', b: '2' }));

  const merged = await client.patch(configMaps, 'default', 'patched', 'application/merge-patch+json', { data: { b: null, c: '3' } });
  t.same(merged.data, { a: '1', c: '3' });

  const jsonPatched = await client.patch(configMaps, 'default', 'patched', 'application/json-patch+json', [
    { op: 'replace', path: '/data/a', value: 'one' },
    { op: 'add', path: '/metadata/labels', value: { tier: 'web' } },
  ]);
  t.same(jsonPatched.data, { a: 'one', c: '3' });
  t.same(jsonPatched.metadata.labels, { tier: 'web' });

  await client.create(deployments, 'default', deployment('web', 1));
  const strategic = await client.patch(deployments, 'default', 'web', 'application/strategic-merge-patch+json', {
    spec: { template: { spec: { containers: [{ name: 'main', env: [{ name: 'MODE', value: 'fast' }] }] } } },
  });
  const containers = (strategic.spec as { template: { spec: { containers: { name: string; command?: string[]; env?: unknown }[] } } }).template.spec.containers;
  t.equal(containers.length, 1, 'the container list was merged by name, not replaced');
  t.same(containers[0]?.command, ['sleep', '1000']);
  t.same(containers[0]?.env, [{ name: 'MODE', value: 'fast' }]);
  t.equal(strategic.metadata.generation, 2);

  const precondition = await apiErrorOf(
    client.patch(configMaps, 'default', 'patched', 'application/merge-patch+json', { metadata: { resourceVersion: '1' }, data: { a: 'x' } }),
  );
  t.equal(precondition.code, 409, 'a patch naming an old resourceVersion conflicts');
});

t.test('status and scale subresources', async (t) => {
  const server = await startTestServer(t);
  const client = new InProcessClient(server.api);
  const created = await client.create(deployments, 'default', deployment('web', 1));

  // The status subresource changes only status, whatever else the body says.
  const withStatus = await client.update(deployments, 'default', { ...created, spec: { ...(created.spec as object), replicas: 9 }, status: { replicas: 1, observedGeneration: 1 } }, { subresource: 'status' });
  t.match(withStatus.status, { replicas: 1, observedGeneration: 1 });
  t.equal((withStatus.spec as { replicas: number }).replicas, 1);

  // The main resource keeps status as it is.
  const respec = await client.update(deployments, 'default', { ...withStatus, status: { replicas: 50 } });
  t.match(respec.status, { replicas: 1 });

  const patchedStatus = await client.patch(deployments, 'default', 'web', 'application/merge-patch+json', { status: { readyReplicas: 1 } }, { subresource: 'status' });
  t.match(patchedStatus.status, { replicas: 1, readyReplicas: 1 });

  const scale = await client.patch(deployments, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 4 } }, { subresource: 'scale' });
  t.match(scale, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web' }, spec: { replicas: 4 } });
  t.equal(((await client.get(deployments, 'default', 'web')).spec as { replicas: number }).replicas, 4);

  const noScale = await apiErrorOf(client.patch(configMaps, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 1 } }, { subresource: 'scale' }));
  t.equal(noScale.code, 404, 'a kind without a scale subresource answers 404');
});

t.test('binding sets spec.nodeName once', async (t) => {
  const server = await startTestServer(t);
  const client = new InProcessClient(server.api);
  await client.create(pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'worker' },
    spec: { containers: [{ name: 'main', command: ['sleep', '1000'] }] },
  });
  await client.bind(pods, 'default', 'worker', 'node-a');
  t.equal(((await client.get(pods, 'default', 'worker')).spec as { nodeName?: string }).nodeName, 'node-a');

  const again = await apiErrorOf(client.bind(pods, 'default', 'worker', 'node-b'));
  t.equal(again.code, 409);
  t.equal((await apiErrorOf(client.bind(nodes, undefined, 'node-a', 'node-b'))).code, 404, 'only pods have a binding subresource');
});

t.test('watch: events in order, bookmarks, timeout, 410 as an ERROR event', async (t) => {
  const server = await startTestServer(t, { compactRetainRevisions: 1 });
  const client = new InProcessClient(server.api, { bookmarkIntervalMs: 50 });
  const start = await client.list(configMaps, 'default');

  const events: WatchEvent[] = [];
  const handle = await client.watch(configMaps, 'default', { resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true }, (event) => events.push(event));
  t.teardown(() => handle.stop());
  const created = await client.create(configMaps, 'default', configMap('watched', { v: '1' }));
  const updated = await client.update(configMaps, 'default', { ...created, data: { v: '2' } });
  const deleted = await client.delete(configMaps, 'default', 'watched');
  await waitFor(() => events.filter((event) => event.type !== 'BOOKMARK').length === 3, { what: 'three watch events' });
  t.same(
    events.filter((event) => event.type !== 'BOOKMARK').map((event) => [event.type, event.object.metadata.resourceVersion]),
    [
      ['ADDED', created.metadata.resourceVersion],
      ['MODIFIED', updated.metadata.resourceVersion],
      ['DELETED', deleted.metadata.resourceVersion],
    ],
  );
  const bookmark = await waitFor(() => events.find((event) => event.type === 'BOOKMARK' && event.object.metadata.resourceVersion === deleted.metadata.resourceVersion), {
    what: 'a bookmark at the delete',
  });
  t.same(bookmark.object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: deleted.metadata.resourceVersion } });
  handle.stop();
  await handle.done;

  // Without a resourceVersion, the current objects come first as ADDED.
  await client.create(configMaps, 'default', configMap('existing'));
  const initial: WatchEvent[] = [];
  const timed = await client.watch(configMaps, 'default', { timeoutSeconds: 1 }, (event) => initial.push(event));
  await timed.done;
  t.same(initial.map((event) => [event.type, event.object.metadata.name]), [['ADDED', 'existing']], 'ADDED for what exists, then the stream ends at its timeout');

  // A compacted revision: an ERROR event carrying the 410 Status, then the end.
  for (let i = 0; i < 3; i++) await client.create(configMaps, 'default', configMap(`filler-${i}`));
  await server.engine.compact(await server.engine.currentRevision());
  const expired: WatchEvent[] = [];
  const old = await client.watch(configMaps, 'default', { resourceVersion: start.metadata.resourceVersion }, (event) => expired.push(event));
  await old.done;
  t.equal(expired.length, 1);
  t.equal(expired[0]?.type, 'ERROR');
  const status = expired[0]?.object;
  t.ok(isRecord(status) && status.kind === 'Status' && status.code === 410 && status.reason === 'Expired', 'the Status says 410 Expired');
});

t.test('a watch handler that throws ends the watch through done', async (t) => {
  const server = await startTestServer(t);
  const client = new InProcessClient(server.api);
  const handle = await client.watch(configMaps, 'default', {}, () => {
    throw new Error('handler broke');
  });
  await client.create(configMaps, 'default', configMap('trigger'));
  await t.rejects(handle.done, { message: 'handler broke' });
  // The store's writers are unaffected.
  await client.create(configMaps, 'default', configMap('after'));
  t.equal((await client.list(configMaps, 'default')).items.length, 2);
});

t.test('closing the store ends in-process watches', async (t) => {
  const dataDir = t.testdir();
  const engine = new SqliteEngine(path.join(dataDir, 'state.db'));
  const api = new ObjectApi(engine);
  await api.bootstrap();
  const client = new InProcessClient(api);
  const handle = await client.watch(resolveResource('configmaps')!, 'default', {}, () => undefined);
  await engine.close();
  await handle.done;
  t.pass('done settled after the store closed');
});
