import t from 'tap';
import { invalid } from '../../../../src/api/errors.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import type { ReplicaSet } from '../../../../src/api/kinds/replicaset.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { compareForDeletion } from '../../../../src/daemon/server/controllers/pod-util.js';
import { slowStartBatch } from '../../../../src/daemon/server/controllers/replicaset.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const replicaSets = resolveResource('replicasets')!;
const events = resolveResource('events')!;

const NODES = { a: {}, b: {}, c: {} };

function replicaSetObject(name: string, replicas: number, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'main', command: ['sleep', '1000'] }], ...podSpec } },
    },
  };
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;

async function livePods(client: InProcessClient, app: string): Promise<Pod[]> {
  const list = await client.list(pods, 'default', { labelSelector: `app=${app}` });
  return (list.items as Pod[]).filter((pod) => !pod.metadata.deletionTimestamp);
}

/** Waits until `count` live pods exist, all bound and Ready, and the status says so for this generation. */
async function settled(client: InProcessClient, name: string, count: number): Promise<{ pods: Pod[]; set: ReplicaSet }> {
  return waitFor(
    async () => {
      const all = await livePods(client, name);
      const set = (await client.get(replicaSets, 'default', name)) as ReplicaSet;
      const status = set.status ?? {};
      const done =
        all.length === count &&
        all.every((pod) => pod.spec.nodeName && isReady(pod)) &&
        (status.replicas ?? 0) === count &&
        (status.readyReplicas ?? 0) === count &&
        (status.availableReplicas ?? 0) === count &&
        status.observedGeneration === set.metadata.generation;
      return done ? { pods: all, set } : undefined;
    },
    { what: `${name} settled at ${count}`, timeout: 15_000 },
  );
}

async function scale(client: InProcessClient, name: string, replicas: number): Promise<void> {
  await client.patch(replicaSets, 'default', name, 'application/merge-patch+json', { spec: { replicas } });
}

/** Watches the pods of `app`, calling `check` with the live (non-terminating) ones after every event. */
async function watchLive(client: InProcessClient, app: string, check: (live: Pod[]) => void): Promise<() => void> {
  const seen = new Map<string, Pod>();
  const handle = await client.watch(pods, 'default', { labelSelector: `app=${app}` }, (event) => {
    const pod = event.object as Pod;
    if (event.type === 'DELETED') seen.delete(pod.metadata.name ?? '');
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') seen.set(pod.metadata.name ?? '', pod);
    check([...seen.values()].filter((candidate) => !candidate.metadata.deletionTimestamp));
  });
  return () => handle.stop();
}

async function eventsFor(client: InProcessClient, name: string, reason: string): Promise<KubeObject[]> {
  const list = await client.list(events, 'default');
  return list.items.filter((event) => (event.involvedObject as { name?: string }).name === name && event.reason === reason);
}

t.test('scales up, down, to 0 and back; pods are named, labelled and owned; never more pods than asked', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  let maxSeen = 0;
  const stop = await watchLive(client, 'web', (live) => {
    maxSeen = Math.max(maxSeen, live.length);
  });
  t.teardown(stop);
  const created = (await client.create(replicaSets, 'default', replicaSetObject('web', 3))) as ReplicaSet;
  let { pods: placed, set } = await settled(client, 'web', 3);
  for (const pod of placed) {
    t.match(pod.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    t.same(pod.metadata.labels, { app: 'web', tier: 'web' });
    t.same(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  t.equal(set.status?.fullyLabeledReplicas, 3);
  t.equal(maxSeen, 3, 'never more than 3 pods while creating 3');

  await scale(client, 'web', 12);
  ({ set } = await settled(client, 'web', 12));
  t.equal(maxSeen, 12, 'expectations: a sync never creates again what the cache has not shown yet');
  await scale(client, 'web', 1);
  await settled(client, 'web', 1);
  await scale(client, 'web', 0);
  ({ set } = await settled(client, 'web', 0));
  t.equal(set.status?.replicas, 0);
  await waitFor(async () => (await client.list(pods, 'default', { labelSelector: 'app=web' })).items.length === 0, { what: 'every pod gone' });
  await scale(client, 'web', 2);
  ({ set } = await settled(client, 'web', 2));
  t.equal(set.status?.observedGeneration, set.metadata.generation);

  await waitFor(async () => (await eventsFor(client, 'web', 'SuccessfulCreate')).length > 0 && (await eventsFor(client, 'web', 'SuccessfulDelete')).length > 0, {
    what: 'SuccessfulCreate and SuccessfulDelete events',
  });
  const createdEvent = (await eventsFor(client, 'web', 'SuccessfulCreate'))[0]!;
  t.match(createdEvent.message, /^Created pod: web-[a-z0-9]{5}$/);
});

t.test('adopts a matching orphan and releases a pod whose labels stop matching', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'stray', namespace: 'default', labels: { app: 'adopt', tier: 'web' } },
    spec: { containers: [{ name: 'main', command: ['sleep', '1000'] }] },
  });
  await waitFor(async () => ((await client.get(pods, 'default', 'stray')) as Pod).spec.nodeName, { what: 'the orphan scheduled' });
  const created = (await client.create(replicaSets, 'default', replicaSetObject('adopt', 2))) as ReplicaSet;
  const { pods: owned } = await settled(client, 'adopt', 2);
  t.ok(owned.some((pod) => pod.metadata.name === 'stray'), 'the orphan is one of the 2');
  const stray = (await client.get(pods, 'default', 'stray')) as Pod;
  t.same(stray.metadata.ownerReferences?.map((ref) => [ref.uid, ref.controller]), [[created.metadata.uid, true]]);

  // Relabel the adopted pod: the set lets it go and makes a replacement.
  await client.patch(pods, 'default', 'stray', 'application/merge-patch+json', { metadata: { labels: { app: 'elsewhere' } } });
  await waitFor(async () => ((await client.get(pods, 'default', 'stray')) as Pod).metadata.ownerReferences?.length === 0, { what: 'stray released' });
  const { pods: after } = await settled(client, 'adopt', 2);
  t.notOk(after.some((pod) => pod.metadata.name === 'stray'));
  t.ok((await client.get(pods, 'default', 'stray')).metadata.deletionTimestamp === undefined, 'a released pod is left running');
});

t.test('deletes the least useful pods first: unscheduled, then not ready', async (t) => {
  const { client, nodes } = await startTestCluster(t, { nodes: NODES });
  await client.create(replicaSets, 'default', replicaSetObject('pick', 3));
  const { pods: original } = await settled(client, 'pick', 3);
  // An orphan that no node fits: adopted, it is the one extra pod, and the first to go.
  await client.create(pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'nowhere', namespace: 'default', labels: { app: 'pick', tier: 'web' } },
    spec: { nodeSelector: { missing: 'label' }, containers: [{ name: 'main', command: ['sleep', '1000'] }] },
  });
  await waitFor(async () => (await client.list(pods, 'default', { fieldSelector: 'metadata.name=nowhere' })).items.length === 0, { what: 'the unscheduled pod deleted' });
  const { pods: kept } = await settled(client, 'pick', 3);
  t.same(kept.map((pod) => pod.metadata.name).sort(), original.map((pod) => pod.metadata.name).sort(), 'the scheduled pods stay');

  const unready = original[1]!.metadata.name!;
  await nodes.setReady('default', unready, false);
  await waitFor(async () => ((await client.get(replicaSets, 'default', 'pick')) as ReplicaSet).status?.readyReplicas === 2, { what: 'readyReplicas 2' });
  await scale(client, 'pick', 2);
  await waitFor(async () => (await livePods(client, 'pick')).length === 2, { what: '2 live pods' });
  const left = (await livePods(client, 'pick')).map((pod) => pod.metadata.name);
  t.notOk(left.includes(unready), 'the not-ready pod went first');
});

t.test('a failing create is a Warning FailedCreate and a ReplicaFailure condition, retried with backoff until it works', async (t) => {
  const { client, server } = await startTestCluster(t, { nodes: NODES });
  // Fault injection at the API: the controllers' client calls this same ObjectApi.
  const create = server.api.create.bind(server.api);
  let failing = true;
  let attempts = 0;
  server.api.create = async (info, namespace, body, options) => {
    const labels = (body as KubeObject).metadata?.labels;
    if (failing && info.resource === 'pods' && labels?.app === 'broken') {
      attempts++;
      throw invalid('Pod', (body as KubeObject).metadata.name ?? '', [{ field: 'spec', type: 'FieldValueInvalid', message: 'spec: Invalid value: injected' }]);
    }
    return create(info, namespace, body, options);
  };
  t.teardown(() => {
    server.api.create = create;
  });
  await client.create(replicaSets, 'default', replicaSetObject('broken', 5));
  const condition = await waitFor(
    async () => ((await client.get(replicaSets, 'default', 'broken')) as ReplicaSet).status?.conditions?.find((c) => c.type === 'ReplicaFailure'),
    { what: 'ReplicaFailure condition' },
  );
  t.match(condition, { status: 'True', reason: 'FailedCreate', message: /injected/ });
  // Each message names its pod, so every retry is an Event of its own.
  const failed = await waitFor(async () => {
    const found = await eventsFor(client, 'broken', 'FailedCreate');
    return found.length >= 3 ? found : undefined;
  }, { what: 'FailedCreate repeated' });
  t.ok(failed.every((event) => event.type === 'Warning' && /^Error creating: Pod "broken-[a-z0-9]{5}" is invalid/.test(String(event.message))), 'Warning events saying why');
  // Slow start: each sync tries one pod and stops; backoff spaces the syncs out.
  const started = Date.now();
  const before = attempts;
  await waitFor(() => Date.now() - started > 500, { what: 'half a second', interval: 50 });
  t.ok(attempts - before < 20, `backoff keeps retries few (${attempts - before} in 0.5 s)`);

  failing = false;
  const { set } = await settled(client, 'broken', 5);
  t.notOk(set.status?.conditions?.some((c) => c.type === 'ReplicaFailure'), 'the condition is gone once creates work');
});

t.test('slowStartBatch goes 1, 2, 4… and stops after a failing batch', async (t) => {
  const calls: number[] = [];
  const result = await slowStartBatch(20, 1, async (index) => {
    calls.push(index);
    if (index === 5) throw new Error('boom');
  });
  t.equal(result.attempted, 7, 'batches of 1, 2 and 4; the 4 held the failure');
  t.same(calls.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
  t.match(result.error, { message: 'boom' });
  t.same(await slowStartBatch(10, 1, async () => undefined), { attempted: 10 }, '1+2+4+3');
});

t.test('deletion order: unassigned, Pending < Running, not ready, more restarts, newer', async (t) => {
  const pod = (name: string, fields: { node?: string; phase?: string; ready?: boolean; restarts?: number; created: string; readySince?: string }): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, creationTimestamp: fields.created },
    spec: { containers: [{ name: 'main' }], ...(fields.node ? { nodeName: fields.node } : {}) },
    status: {
      phase: fields.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: fields.ready === false ? 'False' : 'True', lastTransitionTime: fields.readySince ?? fields.created }],
      containerStatuses: [{ name: 'main', restartCount: fields.restarts ?? 0 }],
    },
  }) as Pod;
  const pods = [
    pod('old-ready', { node: 'a', created: '2024-01-01T00:00:00Z' }),
    pod('new-ready', { node: 'a', created: '2024-01-01T00:00:00Z', readySince: '2024-01-01T00:05:00Z' }),
    pod('newer-created', { node: 'a', created: '2024-01-01T00:01:00Z', readySince: '2024-01-01T00:00:00Z' }),
    pod('restarts', { node: 'a', created: '2024-01-01T00:00:00Z', restarts: 3 }),
    pod('not-ready', { node: 'a', ready: false, created: '2024-01-01T00:00:00Z' }),
    pod('pending', { node: 'a', phase: 'Pending', ready: false, created: '2024-01-01T00:00:00Z' }),
    pod('unassigned', { phase: 'Pending', ready: false, created: '2024-01-01T00:00:00Z' }),
  ];
  const order = [...pods].reverse().sort((a, b) => compareForDeletion(a, b)).map((candidate) => candidate.metadata.name);
  t.same(order, ['unassigned', 'pending', 'not-ready', 'new-ready', 'restarts', 'newer-created', 'old-ready']);
});
