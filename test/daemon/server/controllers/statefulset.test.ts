import t from 'tap';
import type { Test } from 'tap';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import type { PersistentVolumeClaim } from '../../../../src/api/kinds/pvc.js';
import type { StatefulSet } from '../../../../src/api/kinds/statefulset.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { Informer } from '../../../../src/client/informer.js';
import { silentLogger } from '../../../../src/lib/logger.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const claims = resolveResource('persistentvolumeclaims')!;
const statefulSets = resolveResource('statefulsets')!;
const events = resolveResource('events')!;

const NODES = { a: {}, b: {}, c: {} };

function statefulSet(name: string, spec: Partial<StatefulSet['spec']> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: 'app', command: ['sleep', '1000'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  };
}

async function getPod(client: InProcessClient, name: string): Promise<Pod | undefined> {
  try {
    return (await client.get(pods, 'default', name)) as Pod;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

const isReady = (pod: Pod | undefined): boolean =>
  pod?.status?.phase === 'Running' && pod.metadata.deletionTimestamp === undefined && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function podNames(client: InProcessClient): Promise<string[]> {
  return (await client.list(pods, 'default')).items.map((pod) => pod.metadata.name!).sort();
}

async function claimNames(client: InProcessClient): Promise<string[]> {
  return (await client.list(claims, 'default')).items.map((claim) => claim.metadata.name!).sort();
}

const allReady = (client: InProcessClient, names: string[]) =>
  waitFor(async () => (await Promise.all(names.map((name) => getPod(client, name)))).every(isReady), { what: `${names.join(', ')} ready` });

/** Holds for `ms`: a bounded check that something does NOT happen (e.g. a pod that must wait). */
async function stays(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await check())) throw new Error(`expected ${what} to hold for ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A test-side pod watch recording what happened in revision order, with the cache as it stood at that moment. */
function recordPods(t: Test, client: InProcessClient) {
  const abort = new AbortController();
  const informer = new Informer(client, pods, { logger: silentLogger });
  const log: Array<{ type: 'added' | 'terminating' | 'deleted'; name: string; readyBefore: Record<string, boolean>; present: string[] }> = [];
  const snapshot = () => Object.fromEntries(informer.list().map((pod) => [pod.metadata.name!, isReady(pod as Pod)]));
  const present = () => informer.list().map((pod) => pod.metadata.name!);
  informer.on('add', (pod) => log.push({ type: 'added', name: pod.metadata.name!, readyBefore: snapshot(), present: present() }));
  informer.on('update', (old, pod) => {
    if (!old.metadata.deletionTimestamp && pod.metadata.deletionTimestamp) log.push({ type: 'terminating', name: pod.metadata.name!, readyBefore: snapshot(), present: present() });
  });
  informer.on('delete', (pod) => log.push({ type: 'deleted', name: pod.metadata.name!, readyBefore: snapshot(), present: present() }));
  informer.start(abort.signal);
  t.teardown(() => abort.abort());
  return { log, synced: informer.waitForSync() };
}

const statusOf = async (client: InProcessClient, name: string) => ((await client.get(statefulSets, 'default', name)) as StatefulSet).status;

t.test('OrderedReady: web-0..2 one at a time, each after the one before is Ready; identity, claims and events', async (t) => {
  const { client, nodes } = await startTestCluster(t, { nodes: NODES, simulated: { ready: () => false } });
  const recorder = recordPods(t, client);
  await recorder.synced;
  await client.create(statefulSets, 'default', statefulSet('web'));

  await waitFor(async () => (await getPod(client, 'web-0'))?.status?.phase === 'Running', { what: 'web-0 running' });
  await stays(async () => (await getPod(client, 'web-1')) === undefined, 500, 'web-1 absent while web-0 is not Ready');
  const pod = (await getPod(client, 'web-0'))!;
  t.match(pod.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': /^web-[bcdfghjklmnpqrstvwxz2456789]+$/ });
  t.match(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', controller: true, blockOwnerDeletion: true }]);
  t.equal(pod.spec.hostname, 'web-0');
  t.equal(pod.spec.subdomain, 'web');
  t.same(pod.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);
  const claim = (await client.get(claims, 'default', 'data-web-0')) as PersistentVolumeClaim;
  t.same(claim.metadata.labels, { app: 'web' });
  t.equal(claim.metadata.ownerReferences, undefined, 'the claim has no owner: it outlives pod and set');

  await nodes.setReady('default', 'web-0', true);
  await waitFor(async () => (await getPod(client, 'web-1'))?.status?.phase === 'Running', { what: 'web-1 running' });
  await stays(async () => (await getPod(client, 'web-2')) === undefined, 300, 'web-2 absent while web-1 is not Ready');
  await nodes.setReady('default', 'web-1', true);
  await waitFor(async () => (await getPod(client, 'web-2'))?.status?.phase === 'Running', { what: 'web-2 running' });
  await nodes.setReady('default', 'web-2', true);

  const status = await waitFor(async () => {
    const current = await statusOf(client, 'web');
    return current?.readyReplicas === 3 ? current : undefined;
  }, { what: 'status readyReplicas 3' });
  t.match(status, { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 1, collisionCount: 0 });
  t.equal(status.currentRevision, pod.metadata.labels?.['controller-revision-hash']);
  t.equal(status.updateRevision, status.currentRevision);

  const added = recorder.log.filter((entry) => entry.type === 'added');
  t.same(added.map((entry) => entry.name), ['web-0', 'web-1', 'web-2'], 'created in ordinal order');
  t.equal(added[1]?.readyBefore['web-0'], true, 'web-1 was created after web-0 was Ready');
  t.equal(added[2]?.readyBefore['web-1'], true, 'web-2 was created after web-1 was Ready');

  const messages = (await client.list(events, 'default')).items.filter((event) => event.reason === 'SuccessfulCreate').map((event) => event.message);
  t.ok(messages.includes('create Pod web-0 in StatefulSet web successful'), 'pod event');
  t.ok(messages.includes('create Claim data-web-0 Pod web-0 in StatefulSet web success'), 'claim event');
});

t.test('scale to 1 deletes web-2, then web-1, each after the previous deletion finished', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(statefulSets, 'default', statefulSet('web'));
  await allReady(client, ['web-0', 'web-1', 'web-2']);
  const recorder = recordPods(t, client);
  await recorder.synced;
  await client.patch(statefulSets, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 1 } });
  await waitFor(async () => (await podNames(client)).join() === 'web-0', { what: 'only web-0 left' });
  await waitFor(async () => (await statusOf(client, 'web'))?.replicas === 1, { what: 'status replicas 1' });

  const gone = recorder.log.filter((entry) => entry.type !== 'added').map((entry) => `${entry.type} ${entry.name}`);
  t.same(gone, ['terminating web-2', 'deleted web-2', 'terminating web-1', 'deleted web-1'], 'reverse order, one at a time');
  const web1Terminating = recorder.log.find((entry) => entry.type === 'terminating' && entry.name === 'web-1');
  t.notOk(web1Terminating?.present.includes('web-2'), 'web-2 was gone before web-1 was deleted');
  t.same(await podNames(client), ['web-0']);
  t.same(await claimNames(client), ['data-web-0', 'data-web-1', 'data-web-2'], 'claims are retained on scale down');
  t.ok((await client.list(events, 'default')).items.some((event) => event.reason === 'SuccessfulDelete' && event.message === 'delete Pod web-2 in StatefulSet web successful'));
});

t.test('a deleted pod comes back with the same name, claim and node; claims outlive the StatefulSet', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(statefulSets, 'default', statefulSet('web'));
  await allReady(client, ['web-0', 'web-1', 'web-2']);
  const before = (await getPod(client, 'web-1'))!;
  const node = before.spec.nodeName;
  t.ok(node, 'web-1 is bound');

  await client.delete(pods, 'default', 'web-1');
  const after = await waitFor(async () => {
    const pod = await getPod(client, 'web-1');
    return pod && pod.metadata.uid !== before.metadata.uid && isReady(pod) ? pod : undefined;
  }, { what: 'web-1 recreated' });
  t.equal(after.spec.nodeName, node, 'back on the node its claim lives on');
  t.same(after.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }]);
  const claim = (await client.get(claims, 'default', 'data-web-1')) as PersistentVolumeClaim;
  t.equal(claim.metadata.annotations?.['volume.kubernetes.io/selected-node'], node);

  await client.delete(statefulSets, 'default', 'web');
  await waitFor(async () => (await client.list(statefulSets, 'default')).items.length === 0 && (await podNames(client)).length === 0, { what: 'StatefulSet and its pods gone' });
  const left = (await client.list(claims, 'default')).items;
  t.same(left.map((item) => item.metadata.name).sort(), ['data-web-0', 'data-web-1', 'data-web-2'], 'claims outlive the StatefulSet');
  t.ok(left.every((item) => item.metadata.ownerReferences === undefined), 'no claim names an owner the garbage collector could follow');
});

t.test('retention policy Delete: a scaled-away claim goes with its pod, the rest with the StatefulSet', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  const created = await client.create(statefulSets, 'default', statefulSet('db', { replicas: 2, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
  await allReady(client, ['db-0', 'db-1']);
  const claim = (await client.get(claims, 'default', 'data-db-1')) as PersistentVolumeClaim;
  t.match(claim.metadata.ownerReferences, [{ kind: 'StatefulSet', name: 'db', uid: created.metadata.uid, controller: true }], 'the set controls its claims');

  // Before db-1 goes its claim is handed to it, so the garbage collector removes the claim after the pod.
  await client.patch(statefulSets, 'default', 'db', 'application/merge-patch+json', { spec: { replicas: 1 } });
  await waitFor(async () => !(await claimNames(client)).includes('data-db-1'), { what: 'data-db-1 deleted' });
  t.same(await podNames(client), ['db-0']);
  t.same(await claimNames(client), ['data-db-0']);

  await client.delete(statefulSets, 'default', 'db');
  await waitFor(async () => (await claimNames(client)).length === 0 && (await podNames(client)).length === 0, { what: 'pods and claims deleted with the set' });
});

t.test('Parallel creates every pod at once, without waiting for readiness', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES, simulated: { ready: () => false } });
  await client.create(statefulSets, 'default', statefulSet('par', { podManagementPolicy: 'Parallel' }));
  await waitFor(async () => (await podNames(client)).join() === 'par-0,par-1,par-2', { what: 'three pods' });
  const list = (await client.list(pods, 'default')).items as Pod[];
  t.ok(list.every((pod) => !isReady(pod)), 'none of them Ready');
  const status = await waitFor(async () => {
    const current = await statusOf(client, 'par');
    return current?.replicas === 3 ? current : undefined;
  }, { what: 'status replicas 3' });
  t.equal(status.readyReplicas, 0);
});

const withEnv = (value: string) => ({
  template: {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'main', image: 'app', command: ['sleep', '1000'], env: [{ name: 'VERSION', value }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
  },
});

const revisions = async (client: InProcessClient) =>
  Object.fromEntries(((await client.list(pods, 'default')).items as Pod[]).map((pod) => [pod.metadata.name, pod.metadata.labels?.['controller-revision-hash']]));

t.test('RollingUpdate with partition 2 updates only web-2; lowering it updates web-1 then web-0', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(statefulSets, 'default', statefulSet('web', { ...withEnv('1'), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  await allReady(client, ['web-0', 'web-1', 'web-2']);
  const oldRevision = (await waitFor(() => statusOf(client, 'web').then((status) => status?.currentRevision), { what: 'current revision' }));

  await client.patch(statefulSets, 'default', 'web', 'application/merge-patch+json', { spec: withEnv('2') });
  const status = await waitFor(async () => {
    const current = await statusOf(client, 'web');
    return current?.updatedReplicas === 1 && current.readyReplicas === 3 ? current : undefined;
  }, { what: 'web-2 updated' });
  t.not(status.updateRevision, oldRevision);
  t.equal(status.currentRevision, oldRevision, 'the rollout is not complete below the partition');
  t.equal(status.currentReplicas, 2);
  t.same(await revisions(client), { 'web-0': oldRevision, 'web-1': oldRevision, 'web-2': status.updateRevision });

  // A pod below the partition that is deleted comes back at the old revision, with the old template.
  const web0 = (await getPod(client, 'web-0'))!;
  await client.delete(pods, 'default', 'web-0');
  const recreated = await waitFor(async () => {
    const pod = await getPod(client, 'web-0');
    return pod && pod.metadata.uid !== web0.metadata.uid && isReady(pod) ? pod : undefined;
  }, { what: 'web-0 recreated' });
  t.equal(recreated.metadata.labels?.['controller-revision-hash'], oldRevision);
  t.same(recreated.spec.containers[0]?.env, [{ name: 'VERSION', value: '1' }]);

  const recorder = recordPods(t, client);
  await recorder.synced;
  await client.patch(statefulSets, 'default', 'web', 'application/merge-patch+json', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
  const done = await waitFor(async () => {
    const current = await statusOf(client, 'web');
    return current && current.currentRevision === status.updateRevision && current.updatedReplicas === 3 && current.readyReplicas === 3 ? current : undefined;
  }, { what: 'rollout complete' });
  t.equal(done.currentReplicas, 3);
  const order = recorder.log.filter((entry) => entry.type === 'terminating').map((entry) => entry.name);
  t.same(order, ['web-1', 'web-0'], 'highest ordinal first');
  const web0Terminating = recorder.log.find((entry) => entry.type === 'terminating' && entry.name === 'web-0');
  t.equal(web0Terminating?.readyBefore['web-1'], true, 'web-0 waited for the new web-1 to be Ready');
  t.same(await revisions(client), { 'web-0': status.updateRevision, 'web-1': status.updateRevision, 'web-2': status.updateRevision });
});

t.test('OnDelete updates only the pods someone deletes', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(statefulSets, 'default', statefulSet('web', { ...withEnv('1'), updateStrategy: { type: 'OnDelete' } }));
  await allReady(client, ['web-0', 'web-1', 'web-2']);
  const oldRevision = await waitFor(() => statusOf(client, 'web').then((status) => status?.currentRevision), { what: 'current revision' });

  await client.patch(statefulSets, 'default', 'web', 'application/merge-patch+json', { spec: withEnv('2') });
  const status = await waitFor(async () => {
    const current = await statusOf(client, 'web');
    return current?.observedGeneration === 2 ? current : undefined;
  }, { what: 'new template observed' });
  await stays(async () => Object.values(await revisions(client)).every((revision) => revision === oldRevision), 300, 'pods untouched');

  const web1 = (await getPod(client, 'web-1'))!;
  await client.delete(pods, 'default', 'web-1');
  await waitFor(async () => {
    const pod = await getPod(client, 'web-1');
    return pod && pod.metadata.uid !== web1.metadata.uid && isReady(pod);
  }, { what: 'web-1 recreated' });
  t.same(await revisions(client), { 'web-0': oldRevision, 'web-1': status.updateRevision, 'web-2': oldRevision });
  t.same((await getPod(client, 'web-1'))?.spec.containers[0]?.env, [{ name: 'VERSION', value: '2' }]);
  const final = await waitFor(async () => {
    const current = await statusOf(client, 'web');
    return current?.updatedReplicas === 1 ? current : undefined;
  }, { what: 'status counts the updated pod' });
  t.match(final, { currentReplicas: 2, updatedReplicas: 1, currentRevision: oldRevision });
});
