import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { ApiError } from '../../../../src/api/errors.js';
import { resourceFor } from '../../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../../src/api/types.js';
import { ObjectApi } from '../../../../src/daemon/server/api/object-api.js';
import { watchObjects } from '../../../../src/daemon/server/api/object-watch.js';
import { bindPod, scaleOf, updateScale } from '../../../../src/daemon/server/api/subresources.js';
import { SqliteEngine } from '../../../../src/daemon/server/store/sqlite-engine.js';
import { configMap, deployment } from '../../../helpers/api-request.js';
import { waitFor } from '../../../helpers/wait.js';

const CONFIGMAPS = resourceFor('', 'configmaps')!;
const PODS = resourceFor('', 'pods')!;
const NAMESPACES = resourceFor('', 'namespaces')!;
const NODES = resourceFor('', 'nodes')!;
const DEPLOYMENTS = resourceFor('apps', 'deployments')!;

/** An ObjectApi over a real SQLite file, bootstrapped, closed at teardown. */
async function openApi(t: Test): Promise<{ api: ObjectApi; engine: SqliteEngine }> {
  const engine = new SqliteEngine(path.join(t.testdir(), 'state.db'));
  const api = new ObjectApi(engine);
  await api.bootstrap();
  t.teardown(() => engine.close());
  return { api, engine };
}

/** Resolves with the ApiError the promise rejects with (fails the test if it resolves). */
async function apiError(t: Test, promise: Promise<unknown>, code: number, reason: string, what: string): Promise<ApiError | undefined> {
  try {
    await promise;
  } catch (error) {
    t.match(error, { name: 'ApiError', code, reason }, what);
    return error as ApiError;
  }
  t.fail(`${what}: expected ${code} ${reason}, but it succeeded`);
  return undefined;
}

function pod(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'main', command: ['sleep', '60'] }] } };
}

/** The same JSON value with every object's keys in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reverseKeys(item)])) as T;
}

const names = (objects: KubeObject[]): string[] => objects.map((object) => object.metadata.name!).sort();

t.test('generation moves on spec changes only', async (t) => {
  const { api, engine } = await openApi(t);
  const created = await api.create(DEPLOYMENTS, 'default', deployment('web', 1));
  t.equal(created.metadata.generation, 1);

  const relabelled = structuredClone(created);
  relabelled.metadata.labels = { team: 'a' };
  relabelled.metadata.annotations = { note: 'x' };
  const afterLabels = await api.update(DEPLOYMENTS, 'default', 'web', relabelled);
  t.equal(afterLabels.metadata.generation, 1, 'labels and annotations are not spec');
  t.not(afterLabels.metadata.resourceVersion, created.metadata.resourceVersion, 'but they are a write');

  const scaled = structuredClone(afterLabels);
  (scaled.spec as { replicas: number }).replicas = 3;
  const afterSpec = await api.update(DEPLOYMENTS, 'default', 'web', scaled);
  t.equal(afterSpec.metadata.generation, 2, 'a spec change bumps generation');

  const status = structuredClone(afterSpec);
  status.status = { observedGeneration: 2, replicas: 3 };
  (status.spec as { replicas: number }).replicas = 9;
  const afterStatus = await api.update(DEPLOYMENTS, 'default', 'web', status, { subresource: 'status' });
  t.equal(afterStatus.metadata.generation, 2, 'a status write does not bump generation');
  t.same(afterStatus.status, { observedGeneration: 2, replicas: 3 }, 'the status subresource writes status');
  t.equal((afterStatus.spec as { replicas: number }).replicas, 3, 'and ignores spec changes');

  const mainWithStatus = structuredClone(afterStatus);
  mainWithStatus.status = { replicas: 100 };
  (mainWithStatus.metadata.labels as Record<string, string>).team = 'b';
  const afterMain = await api.update(DEPLOYMENTS, 'default', 'web', mainWithStatus);
  t.same(afterMain.status, { observedGeneration: 2, replicas: 3 }, 'the main resource ignores status changes');
  t.equal(afterMain.metadata.labels?.team, 'b');
  t.equal(afterMain.metadata.generation, 2);

  const patched = await api.patch(DEPLOYMENTS, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 4 }, status: { replicas: 0 } });
  t.equal(patched.metadata.generation, 3, 'a patch of spec bumps generation');
  t.same(patched.status, { observedGeneration: 2, replicas: 3 }, 'a main-resource patch cannot touch status');
  const statusPatched = await api.patch(DEPLOYMENTS, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 7 }, status: { replicas: 4 } }, { subresource: 'status' });
  t.equal(statusPatched.metadata.generation, 3);
  t.equal((statusPatched.spec as { replicas: number }).replicas, 4, 'a status patch cannot touch spec');
  t.equal((statusPatched.status as { replicas: number }).replicas, 4);

  const stored = await api.get(DEPLOYMENTS, 'default', 'web');
  t.same(stored, statusPatched, 'what the verb returned is what is stored');
  t.equal(stored.metadata.uid, created.metadata.uid, 'uid is kept');
  t.equal(stored.metadata.creationTimestamp, created.metadata.creationTimestamp);
  t.equal(Number(stored.metadata.resourceVersion), await engine.currentRevision());
});

t.test('server-owned metadata cannot be set by clients', async (t) => {
  const { api } = await openApi(t);
  const body = configMap('owned') as { metadata: Record<string, unknown> };
  Object.assign(body.metadata, { uid: 'forged', resourceVersion: '999', generation: 42, creationTimestamp: '2000-01-01T00:00:00Z', deletionTimestamp: '2000-01-01T00:00:00Z' });
  const created = await api.create(CONFIGMAPS, 'default', body);
  t.not(created.metadata.uid, 'forged');
  t.equal(created.metadata.generation, 1);
  t.not(created.metadata.creationTimestamp, '2000-01-01T00:00:00Z');
  t.equal(created.metadata.deletionTimestamp, undefined);
  // A uid in an update names the object meant; another one is a conflict (Kubernetes' UID precondition).
  const forged = structuredClone(created);
  Object.assign(forged.metadata, { uid: 'forged' });
  forged.data = { changed: 'no' };
  t.match(await api.update(CONFIGMAPS, 'default', 'owned', forged).catch((error: unknown) => error), { code: 409, reason: 'Conflict' });
  t.equal((await api.get(CONFIGMAPS, 'default', 'owned')).metadata.resourceVersion, created.metadata.resourceVersion, 'nothing written');
  const update = structuredClone(created);
  Object.assign(update.metadata, { generation: 42, creationTimestamp: '2000-01-01T00:00:00Z' });
  update.data = { changed: 'yes' };
  const updated = await api.update(CONFIGMAPS, 'default', 'owned', update);
  t.equal(updated.metadata.uid, created.metadata.uid);
  t.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
  t.equal(updated.metadata.generation, 2);
});

t.test('an identical update or patch writes nothing', async (t) => {
  const { api, engine } = await openApi(t);
  const created = await api.create(DEPLOYMENTS, 'default', deployment('same'));
  const revision = await engine.currentRevision();
  const again = await api.update(DEPLOYMENTS, 'default', 'same', structuredClone(created));
  t.equal(again.metadata.resourceVersion, created.metadata.resourceVersion, 'same resourceVersion');
  t.equal(again.metadata.generation, 1, 'no generation bump');
  const withoutDefaults = deployment('same') as KubeObject;
  withoutDefaults.metadata.resourceVersion = created.metadata.resourceVersion;
  const reapplied = await api.update(DEPLOYMENTS, 'default', 'same', withoutDefaults);
  t.equal(reapplied.metadata.resourceVersion, created.metadata.resourceVersion, 'the original manifest again (defaults re-applied) is no change');
  const reordered = reverseKeys(structuredClone(created));
  t.not(JSON.stringify(reordered), JSON.stringify(created), 'same content, other key order');
  const sameInOtherOrder = await api.update(DEPLOYMENTS, 'default', 'same', reordered);
  t.equal(sameInOtherOrder.metadata.resourceVersion, created.metadata.resourceVersion, 'key order is not a change');
  t.equal(sameInOtherOrder.metadata.generation, 1);
  const relabelled = reverseKeys(structuredClone(created));
  relabelled.metadata.labels = { touched: 'yes' };
  const afterLabel = await api.update(DEPLOYMENTS, 'default', 'same', relabelled);
  t.equal(afterLabel.metadata.generation, 1, 'a label change with the spec in another key order does not bump generation');
  const restored = structuredClone(afterLabel);
  delete restored.metadata.labels;
  const back = await api.update(DEPLOYMENTS, 'default', 'same', restored);
  t.equal(back.metadata.generation, 1);
  const revisionAfterLabels = await engine.currentRevision();
  t.equal(revisionAfterLabels, revision + 2, 'exactly the two label changes were written');
  const patched = await api.patch(DEPLOYMENTS, 'default', 'same', 'application/merge-patch+json', { spec: { replicas: 1 } });
  t.equal(patched.metadata.resourceVersion, back.metadata.resourceVersion, 'a no-op patch');
  const statusNoop = await api.update(DEPLOYMENTS, 'default', 'same', structuredClone(back), { subresource: 'status' });
  t.equal(statusNoop.metadata.resourceVersion, back.metadata.resourceVersion, 'a no-op status write');
  t.equal(await engine.currentRevision(), revisionAfterLabels, 'the store revision did not move');
});

t.test('stale resourceVersion: 409 and nothing changes', async (t) => {
  const { api } = await openApi(t);
  const created = await api.create(CONFIGMAPS, 'default', configMap('cas', { v: '0' }));
  const first = structuredClone(created);
  first.data = { v: '1' };
  await api.update(CONFIGMAPS, 'default', 'cas', first);
  const stale = structuredClone(created);
  stale.data = { v: 'stale' };
  await apiError(t, api.update(CONFIGMAPS, 'default', 'cas', stale), 409, 'Conflict', 'stale update');
  t.same((await api.get(CONFIGMAPS, 'default', 'cas')).data, { v: '1' });
  await apiError(t, api.delete(CONFIGMAPS, 'default', 'cas', { preconditions: { resourceVersion: created.metadata.resourceVersion! } }), 409, 'Conflict', 'stale delete precondition');
  await apiError(t, api.delete(CONFIGMAPS, 'default', 'cas', { preconditions: { uid: 'someone-else' } }), 409, 'Conflict', 'uid precondition');
  t.ok(await api.get(CONFIGMAPS, 'default', 'cas'), 'still there');
  const base = await api.get(CONFIGMAPS, 'default', 'cas');
  const racers = await Promise.allSettled(
    ['a', 'b', 'c', 'd'].map((value) => {
      const body = structuredClone(base);
      body.data = { v: value };
      return api.update(CONFIGMAPS, 'default', 'cas', body);
    }),
  );
  const winners = racers.filter((result) => result.status === 'fulfilled');
  t.equal(winners.length, 1, 'concurrent updates from one base: exactly one wins');
  for (const result of racers) if (result.status === 'rejected') t.match(result.reason, { code: 409, reason: 'Conflict' });
  t.same((await api.get(CONFIGMAPS, 'default', 'cas')).data, (winners[0] as PromiseFulfilledResult<KubeObject>).value.data);
});

t.test('a uid in a status write names the object meant: a re-created one is a 409', async (t) => {
  const { api } = await openApi(t);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  const old = await api.create(PODS, 'default', structuredClone(pod) as KubeObject);
  await api.delete(PODS, 'default', 'p', { gracePeriodSeconds: 0 });
  await api.create(PODS, 'default', structuredClone(pod) as KubeObject);
  await apiError(t, api.patch(PODS, 'default', 'p', 'application/merge-patch+json', { metadata: { uid: old.metadata.uid }, status: { phase: 'Running' } }, { subresource: 'status' }), 409, 'Conflict', 'status patch for the old uid');
  t.not(((await api.get(PODS, 'default', 'p')).status as { phase?: string } | undefined)?.phase, 'Running', 'the new pod kept its status');
});

t.test('finalizers: delete marks, removing the last finalizer deletes', async (t) => {
  const { api } = await openApi(t);
  await api.create(CONFIGMAPS, 'default', configMap('held', {}, { finalizers: ['example.com/a', 'example.com/b'] }));
  const marked = await api.delete(CONFIGMAPS, 'default', 'held');
  t.ok(marked.metadata.deletionTimestamp, 'delete sets deletionTimestamp');
  const stored = await api.get(CONFIGMAPS, 'default', 'held');
  t.equal(stored.metadata.deletionTimestamp, marked.metadata.deletionTimestamp, 'the object is still readable');
  const again = await api.delete(CONFIGMAPS, 'default', 'held');
  t.equal(again.metadata.resourceVersion, marked.metadata.resourceVersion, 'a second delete changes nothing');

  const clearing = structuredClone(stored);
  delete clearing.metadata.deletionTimestamp;
  clearing.metadata.finalizers = ['example.com/b'];
  const oneLeft = await api.update(CONFIGMAPS, 'default', 'held', clearing);
  t.equal(oneLeft.metadata.deletionTimestamp, marked.metadata.deletionTimestamp, 'a client cannot clear deletionTimestamp');
  t.same(oneLeft.metadata.finalizers, ['example.com/b']);

  const gone = await api.patch(CONFIGMAPS, 'default', 'held', 'application/merge-patch+json', { metadata: { finalizers: null } });
  t.ok(gone.metadata.deletionTimestamp, 'the last finalizer removed returns the deleted object');
  await apiError(t, api.get(CONFIGMAPS, 'default', 'held'), 404, 'NotFound', 'then it is gone');

  await api.create(CONFIGMAPS, 'default', configMap('plain'));
  const deleted = await api.delete(CONFIGMAPS, 'default', 'plain');
  t.equal(deleted.metadata.name, 'plain');
  await apiError(t, api.get(CONFIGMAPS, 'default', 'plain'), 404, 'NotFound', 'without finalizers, delete is immediate');
  await apiError(t, api.delete(CONFIGMAPS, 'default', 'plain'), 404, 'NotFound', 'second delete');
});

t.test('namespaces: system ones exist and are protected; cluster-scoped vs namespaced', async (t) => {
  const { api } = await openApi(t);
  const namespaces = names((await api.list(NAMESPACES, undefined)).items);
  for (const name of ['default', 'kube-system', 'kube-node-lease']) t.ok(namespaces.includes(name), `${name} exists at start`);
  for (const name of ['default', 'kube-system', 'kube-node-lease']) {
    const error = await apiError(t, api.delete(NAMESPACES, undefined, name), 403, 'Forbidden', `delete ${name}`);
    t.match(error?.toStatus(), { kind: 'Status', code: 403, reason: 'Forbidden' });
  }
  t.ok(await api.get(NAMESPACES, undefined, 'default'), 'default survives');

  const missing = await apiError(t, api.create(CONFIGMAPS, 'nope', configMap('x')), 404, 'NotFound', 'create in a missing namespace');
  t.equal(missing?.message, 'namespaces "nope" not found');

  const namespace = await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', namespace: 'ignored' } });
  t.equal(namespace.metadata.namespace, undefined, 'a cluster-scoped object has no namespace');
  const node = await api.create(NODES, 'default', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
  t.equal(node.metadata.namespace, undefined);
  t.ok(await api.get(NODES, 'anything', 'node-1'), 'cluster-scoped get ignores the namespace');

  const inDefault = await api.create(CONFIGMAPS, undefined, configMap('shared'));
  t.equal(inDefault.metadata.namespace, 'default', 'no namespace means default');
  const inTeam = await api.create(CONFIGMAPS, 'team', configMap('shared'));
  t.equal(inTeam.metadata.namespace, 'team', 'the same name in another namespace is another object');
  t.not(inTeam.metadata.uid, inDefault.metadata.uid);
  t.same(names((await api.list(CONFIGMAPS, 'team')).items), ['shared']);
  const everywhere = (await api.list(CONFIGMAPS, undefined)).items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`).sort();
  t.same(everywhere, ['default/shared', 'team/shared']);
  await apiError(t, api.create(CONFIGMAPS, 'team', { ...configMap('cross'), metadata: { name: 'cross', namespace: 'default' } }), 400, 'BadRequest', 'body namespace differs');

  await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'closing', finalizers: ['example.com/hold'] } });
  const closing = await api.delete(NAMESPACES, undefined, 'closing');
  t.ok(closing.metadata.deletionTimestamp, 'a namespace with a finalizer is only marked');
  const terminating = await apiError(t, api.create(CONFIGMAPS, 'closing', configMap('late')), 403, 'Forbidden', 'create in a terminating namespace');
  t.match(terminating?.message, /being terminated/);

  t.same(namespace.spec, { finalizers: ['kubernetes'] }, 'a new namespace carries the kubernetes finalizer');
  const replaced = await api.update(NAMESPACES, undefined, 'team', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { a: 'b' } } });
  t.same(replaced.spec, { finalizers: ['kubernetes'] }, 'an update of a live namespace cannot drop it');

  // Contents go through the namespace controller (test/daemon/server/controllers/namespace.test.ts); the API only marks.
  const terminatingTeam = await api.delete(NAMESPACES, undefined, 'team');
  t.ok(terminatingTeam.metadata.deletionTimestamp, 'delete marks the namespace');
  t.match(terminatingTeam.status, { phase: 'Terminating' });
  t.same(names((await api.list(CONFIGMAPS, 'team')).items), ['shared'], 'the API alone deletes no contents');
  const repeated = await api.delete(NAMESPACES, undefined, 'team');
  t.equal(repeated.metadata.resourceVersion, terminatingTeam.metadata.resourceVersion, 'a second delete changes nothing');
  await api.delete(CONFIGMAPS, 'team', 'shared');
  const finalizing = structuredClone(await api.get(NAMESPACES, undefined, 'team'));
  finalizing.spec = { finalizers: [] };
  await api.update(NAMESPACES, undefined, 'team', finalizing);
  await apiError(t, api.get(NAMESPACES, undefined, 'team'), 404, 'NotFound', 'removing the kubernetes finalizer deletes the namespace');
  t.ok(await api.get(CONFIGMAPS, 'default', 'shared'), 'other namespaces keep theirs');

  await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare' } });
  const bare = structuredClone(await api.get(NAMESPACES, undefined, 'bare'));
  bare.metadata.finalizers = ['example.com/hold'];
  await api.update(NAMESPACES, undefined, 'bare', bare);
  await api.delete(NAMESPACES, undefined, 'bare');
  const unfinalized = structuredClone(await api.get(NAMESPACES, undefined, 'bare'));
  unfinalized.spec = {};
  await api.update(NAMESPACES, undefined, 'bare', unfinalized);
  t.ok(await api.get(NAMESPACES, undefined, 'bare'), 'metadata.finalizers still hold a finalized namespace');
  await api.patch(NAMESPACES, undefined, 'bare', 'application/merge-patch+json', { metadata: { finalizers: null } });
  await apiError(t, api.get(NAMESPACES, undefined, 'bare'), 404, 'NotFound', 'and it goes with the last one');
});

t.test('propagationPolicy: Background deletes at once; Orphan and Foreground leave a finalizer for the GC', async (t) => {
  const { api } = await openApi(t);
  await api.create(CONFIGMAPS, 'default', configMap('background'));
  const removed = await api.delete(CONFIGMAPS, 'default', 'background', { propagationPolicy: 'Background' });
  t.equal(removed.metadata.finalizers, undefined);
  await apiError(t, api.get(CONFIGMAPS, 'default', 'background'), 404, 'NotFound', 'Background removes the owner now');

  await api.create(CONFIGMAPS, 'default', configMap('orphaning'));
  const orphaning = await api.delete(CONFIGMAPS, 'default', 'orphaning', { propagationPolicy: 'Orphan' });
  t.ok(orphaning.metadata.deletionTimestamp, 'Orphan marks');
  t.same(orphaning.metadata.finalizers, ['orphan']);
  t.same((await api.get(CONFIGMAPS, 'default', 'orphaning')).metadata.finalizers, ['orphan'], 'stored');
  const plain = await api.delete(CONFIGMAPS, 'default', 'orphaning');
  t.equal(plain.metadata.resourceVersion, orphaning.metadata.resourceVersion, 'a delete without a policy keeps the one chosen');
  const switched = await api.delete(CONFIGMAPS, 'default', 'orphaning', { propagationPolicy: 'Foreground' });
  t.same(switched.metadata.finalizers, ['foregroundDeletion'], 'an explicit policy replaces it');
  await api.delete(CONFIGMAPS, 'default', 'orphaning', { propagationPolicy: 'Background' });
  await apiError(t, api.get(CONFIGMAPS, 'default', 'orphaning'), 404, 'NotFound', 'Background on a marked object removes it when nothing else holds it');

  await api.create(CONFIGMAPS, 'default', configMap('fore', {}, { finalizers: ['example.com/keep'] }));
  const fore = await api.delete(CONFIGMAPS, 'default', 'fore', { propagationPolicy: 'Foreground' });
  t.same(fore.metadata.finalizers, ['example.com/keep', 'foregroundDeletion'], 'Foreground adds its finalizer to the others');
  await api.delete(CONFIGMAPS, 'default', 'fore', { propagationPolicy: 'Background' });
  t.same((await api.get(CONFIGMAPS, 'default', 'fore')).metadata.finalizers, ['example.com/keep'], 'other finalizers still hold it');
  await api.patch(CONFIGMAPS, 'default', 'fore', 'application/merge-patch+json', { metadata: { finalizers: null } });
  await apiError(t, api.get(CONFIGMAPS, 'default', 'fore'), 404, 'NotFound', 'gone with the last finalizer');

  await api.create(CONFIGMAPS, 'default', configMap('dry'));
  await api.delete(CONFIGMAPS, 'default', 'dry', { propagationPolicy: 'Orphan', dryRun: true });
  t.equal((await api.get(CONFIGMAPS, 'default', 'dry')).metadata.finalizers, undefined, 'a dry run changes nothing');
});

t.test('generateName', async (t) => {
  const { api } = await openApi(t);
  const generated = new Set<string>();
  for (let index = 0; index < 5; index++) {
    const object = await api.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'web-' } });
    t.match(object.metadata.name, /^web-[a-z0-9]{5}$/);
    generated.add(object.metadata.name!);
    t.ok(await api.get(CONFIGMAPS, 'default', object.metadata.name!));
  }
  t.equal(generated.size, 5, 'each name is new');
  const named = await api.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fixed', generateName: 'web-' } });
  t.equal(named.metadata.name, 'fixed', 'an explicit name wins');
  await apiError(t, api.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), 422, 'Invalid', 'neither name nor generateName');
});

t.test('label and field selectors on list', async (t) => {
  const { api } = await openApi(t);
  const labelled: Array<[string, Record<string, string>]> = [
    ['a', { app: 'web', tier: 'front' }],
    ['b', { app: 'web', tier: 'back' }],
    ['c', { app: 'db' }],
    ['d', {}],
  ];
  for (const [name, labels] of labelled) await api.create(CONFIGMAPS, 'default', configMap(name, {}, { labels }));
  const select = async (labelSelector: string) => names((await api.list(CONFIGMAPS, 'default', { labelSelector })).items);
  t.same(await select('app=web'), ['a', 'b'], '=');
  t.same(await select('app==web'), ['a', 'b'], '==');
  t.same(await select('app!=web'), ['c', 'd'], '!= (includes objects without the label)');
  t.same(await select('tier in (front,back)'), ['a', 'b'], 'in');
  t.same(await select('app notin (web)'), ['c', 'd'], 'notin');
  t.same(await select('tier'), ['a', 'b'], 'exists');
  t.same(await select('!tier'), ['c', 'd'], '!exists');
  t.same(await select('app=web,tier=back'), ['b'], 'AND');
  t.same(await select('app=nothing'), [], 'no match');
  await apiError(t, api.list(CONFIGMAPS, 'default', { labelSelector: 'app in (web' }), 400, 'BadRequest', 'a bad label selector');

  await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await api.create(CONFIGMAPS, 'other', configMap('a'));
  const fields = async (fieldSelector: string, namespace?: string) =>
    (await api.list(CONFIGMAPS, namespace, { fieldSelector })).items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`).sort();
  t.same(await fields('metadata.name=a'), ['default/a', 'other/a'], 'metadata.name across namespaces');
  t.same(await fields('metadata.namespace=other'), ['other/a'], 'metadata.namespace');
  t.same(await fields('metadata.name=a,metadata.namespace!=other'), ['default/a'], 'two requirements');
  t.same(await fields('metadata.name=a', 'other'), ['other/a'], 'with a namespace');

  await api.create(PODS, 'default', pod('p1'));
  await api.create(PODS, 'default', pod('p2'));
  await api.create(PODS, 'default', pod('p3'));
  await bindPod(api, PODS, 'default', 'p1', { target: { name: 'node-a' } });
  await bindPod(api, PODS, 'default', 'p2', { target: { name: 'node-b' } });
  const running = await api.get(PODS, 'default', 'p2');
  running.status = { phase: 'Running' };
  await api.update(PODS, 'default', 'p2', running, { subresource: 'status' });
  const pods = async (fieldSelector: string) => names((await api.list(PODS, 'default', { fieldSelector })).items);
  t.same(await pods('spec.nodeName=node-a'), ['p1'], 'spec.nodeName');
  t.same(await pods('spec.nodeName='), ['p3'], 'unscheduled pods');
  t.same(await pods('spec.nodeName!=node-a'), ['p2', 'p3']);
  t.same(await pods('status.phase=Running'), ['p2'], 'status.phase');
  t.same(await pods('status.phase=Pending'), ['p1', 'p3']);
  t.same(await pods('status.phase!=Running,spec.nodeName=node-a'), ['p1']);
});

t.test('selectors on watch: leaving the selection is DELETED, entering is ADDED', async (t) => {
  const { api, engine } = await openApi(t);
  await api.create(CONFIGMAPS, 'default', configMap('before', {}, { labels: { tier: 'web' } }));
  const events: WatchEvent[] = [];
  const watch = await watchObjects(engine, CONFIGMAPS, 'default', { labelSelector: 'tier=web' }, (event) => events.push(event));
  t.teardown(() => watch.close());
  await waitFor(() => events.length === 1, { what: 'the initial ADDED' });
  t.match(events[0], { type: 'ADDED', object: { metadata: { name: 'before' } } }, 'a watch without resourceVersion starts with the current matches');

  const created = await api.create(CONFIGMAPS, 'default', configMap('mover', {}, { labels: { tier: 'web' } }));
  await api.create(CONFIGMAPS, 'default', configMap('outsider', {}, { labels: { tier: 'db' } }));
  const moved = structuredClone(created);
  moved.metadata.labels = { tier: 'db' };
  const left = await api.update(CONFIGMAPS, 'default', 'mover', moved);
  const edited = await api.patch(CONFIGMAPS, 'default', 'mover', 'application/merge-patch+json', { data: { ignored: 'while outside' } });
  const back = await api.patch(CONFIGMAPS, 'default', 'mover', 'application/merge-patch+json', { metadata: { labels: { tier: 'web' } } });
  const changed = await api.patch(CONFIGMAPS, 'default', 'mover', 'application/merge-patch+json', { data: { inside: 'yes' } });
  await api.delete(CONFIGMAPS, 'default', 'mover');
  await api.delete(CONFIGMAPS, 'default', 'outsider');
  await waitFor(() => events.length >= 6, { what: 'six events' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(
    events.slice(1).map((event) => [event.type, event.object.metadata.name, event.object.metadata.resourceVersion]),
    [
      ['ADDED', 'mover', created.metadata.resourceVersion],
      ['DELETED', 'mover', left.metadata.resourceVersion],
      ['ADDED', 'mover', back.metadata.resourceVersion],
      ['MODIFIED', 'mover', changed.metadata.resourceVersion],
      ['DELETED', 'mover', String(Number(changed.metadata.resourceVersion) + 1)],
    ],
    'the watcher sees the object enter, leave, return, change and go; never the outsider',
  );
  t.notOk(events.some((event) => event.object.metadata.resourceVersion === edited.metadata.resourceVersion), 'no event while outside');

  const podEvents: WatchEvent[] = [];
  await api.create(PODS, 'default', pod('scheduled'));
  const revision = await engine.currentRevision();
  const podWatch = await watchObjects(engine, PODS, 'default', { fieldSelector: 'spec.nodeName=node-a', resourceVersion: String(revision) }, (event) => podEvents.push(event));
  t.teardown(() => podWatch.close());
  await bindPod(api, PODS, 'default', 'scheduled', { target: { name: 'node-a' } });
  await waitFor(() => podEvents.length === 1, { what: 'the bound pod entering the node selection' });
  t.match(podEvents, [{ type: 'ADDED', object: { metadata: { name: 'scheduled' }, spec: { nodeName: 'node-a' } } }], 'binding enters the spec.nodeName selection');
});

t.test('limit and continue page a consistent snapshot', async (t) => {
  const { api } = await openApi(t);
  for (const name of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) await api.create(CONFIGMAPS, 'default', configMap(name, {}, { labels: { odd: String(Number(name[1]) % 2 === 1) } }));
  const first = await api.list(CONFIGMAPS, 'default', { limit: 3 });
  t.same(names(first.items), ['c1', 'c2', 'c3']);
  t.ok(first.metadata.continue, 'a full page has a continue token');
  await api.create(CONFIGMAPS, 'default', configMap('c8'));
  await api.delete(CONFIGMAPS, 'default', 'c5');
  const second = await api.list(CONFIGMAPS, 'default', { limit: 3, continue: first.metadata.continue! });
  t.same(names(second.items), ['c4', 'c5', 'c6'], 'later pages show the snapshot of the first (c5 deleted since, c8 added since)');
  t.equal(second.metadata.resourceVersion, first.metadata.resourceVersion, 'every page reports the snapshot revision');
  const third = await api.list(CONFIGMAPS, 'default', { limit: 3, continue: second.metadata.continue! });
  t.same(names(third.items), ['c7']);
  t.equal(third.metadata.continue, undefined, 'the last page has no continue token');

  const odd = await api.list(CONFIGMAPS, 'default', { limit: 2, labelSelector: 'odd=true' });
  t.same(names(odd.items), ['c1', 'c3'], 'limit counts matches, not scanned objects');
  const oddRest = await api.list(CONFIGMAPS, 'default', { limit: 2, labelSelector: 'odd=true', continue: odd.metadata.continue! });
  t.same(names(oddRest.items), ['c7'], 'the snapshot without c5');
  const all = await api.list(CONFIGMAPS, 'default', { limit: 0 });
  t.same(names(all.items), ['c1', 'c2', 'c3', 'c4', 'c6', 'c7', 'c8'], 'limit 0 is no limit');
  t.equal(all.metadata.continue, undefined);
});

t.test('binding sets spec.nodeName once', async (t) => {
  const { api } = await openApi(t);
  await api.create(PODS, 'default', pod('bind-me'));
  const bound = await bindPod(api, PODS, 'default', 'bind-me', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-me' }, target: { kind: 'Node', name: 'node-1' } });
  t.equal((bound.spec as { nodeName: string }).nodeName, 'node-1');
  t.equal(((await api.get(PODS, 'default', 'bind-me')).spec as { nodeName: string }).nodeName, 'node-1', 'stored');
  const error = await apiError(t, bindPod(api, PODS, 'default', 'bind-me', { target: { name: 'node-2' } }), 409, 'Conflict', 'a second bind');
  t.match(error?.message, /already assigned to node "node-1"/);
  await apiError(t, bindPod(api, PODS, 'default', 'bind-me', { target: { name: 'node-1' } }), 409, 'Conflict', 'even to the same node');
  t.equal(((await api.get(PODS, 'default', 'bind-me')).spec as { nodeName: string }).nodeName, 'node-1', 'the pod stays where it was');
  await apiError(t, bindPod(api, PODS, 'default', 'nobody', { target: { name: 'node-1' } }), 404, 'NotFound', 'binding a missing pod');
  await apiError(t, bindPod(api, PODS, 'default', 'bind-me', { target: {} }), 400, 'BadRequest', 'a binding without a target');

  await api.create(PODS, 'default', pod('race'));
  const racers = await Promise.allSettled(['n1', 'n2', 'n3', 'n4'].map((node) => bindPod(api, PODS, 'default', 'race', { target: { name: node } })));
  t.equal(racers.filter((result) => result.status === 'fulfilled').length, 1, 'concurrent binds: exactly one wins');
  const winner = (racers.find((result) => result.status === 'fulfilled') as PromiseFulfilledResult<KubeObject>).value;
  t.equal(((await api.get(PODS, 'default', 'race')).spec as { nodeName: string }).nodeName, (winner.spec as { nodeName: string }).nodeName);

  const moved = await api.get(PODS, 'default', 'bind-me');
  (moved.spec as { nodeName: string }).nodeName = 'node-9';
  await apiError(t, api.update(PODS, 'default', 'bind-me', moved), 422, 'Invalid', 'an update cannot move a bound pod');
});

t.test('scale subresource: get and update', async (t) => {
  const { api } = await openApi(t);
  const created = await api.create(DEPLOYMENTS, 'default', deployment('scaled', 2));
  const scale = scaleOf(created);
  t.match(scale, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'scaled', namespace: 'default', resourceVersion: created.metadata.resourceVersion }, spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=scaled' } });
  const updated = await updateScale(api, DEPLOYMENTS, 'default', 'scaled', { body: { ...scale, spec: { replicas: 5 } } });
  t.equal(updated.spec.replicas, 5);
  const stored = await api.get(DEPLOYMENTS, 'default', 'scaled');
  t.equal((stored.spec as { replicas: number }).replicas, 5);
  t.equal(stored.metadata.generation, 2, 'scaling is a spec change');
  t.equal(updated.metadata.resourceVersion, stored.metadata.resourceVersion);
  await apiError(t, updateScale(api, DEPLOYMENTS, 'default', 'scaled', { body: { ...scale, spec: { replicas: 1 } } }), 409, 'Conflict', 'a Scale with a stale resourceVersion');
  const patched = await updateScale(api, DEPLOYMENTS, 'default', 'scaled', { contentType: 'application/merge-patch+json', patch: { spec: { replicas: 0 } } });
  t.equal(patched.spec.replicas, 0, 'a patch of the Scale');
  const stalePatch = { contentType: 'application/merge-patch+json', patch: { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { replicas: 4 } } };
  await apiError(t, updateScale(api, DEPLOYMENTS, 'default', 'scaled', stalePatch), 409, 'Conflict', 'a patch naming a stale resourceVersion (pm8s scale --current-replicas)');
  const freshPatch = { contentType: 'application/merge-patch+json', patch: { metadata: { resourceVersion: patched.metadata.resourceVersion }, spec: { replicas: 4 } } };
  t.equal((await updateScale(api, DEPLOYMENTS, 'default', 'scaled', freshPatch)).spec.replicas, 4, 'a patch naming the current resourceVersion');
  const template = (await api.get(DEPLOYMENTS, 'default', 'scaled')).spec as { template: unknown };
  t.same(template.template, (created.spec as { template: unknown }).template, 'only replicas changed');
  await apiError(t, updateScale(api, DEPLOYMENTS, 'default', 'scaled', { body: { spec: { replicas: -3 } } }), 422, 'Invalid', 'negative scale');
  await apiError(t, updateScale(api, DEPLOYMENTS, 'default', 'missing', { body: { spec: { replicas: 1 } } }), 404, 'NotFound', 'scale of a missing deployment');
});
