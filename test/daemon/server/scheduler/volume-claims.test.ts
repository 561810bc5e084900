import t from 'tap';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import type { PersistentVolumeClaim } from '../../../../src/api/kinds/pvc.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { SELECTED_NODE_ANNOTATION } from '../../../../src/daemon/server/scheduler/volume-claims.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const claims = resolveResource('persistentvolumeclaims')!;

const claimObject = (name: string, selectedNode?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default', ...(selectedNode ? { annotations: { [SELECTED_NODE_ANNOTATION]: selectedNode } } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

const podObject = (name: string, ...claimNames: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [{ name: 'main', image: 'db', command: ['db'] }],
    volumes: claimNames.map((claimName, index) => ({ name: `v${index}`, persistentVolumeClaim: { claimName } })),
  },
});

const nodeOf = async (client: InProcessClient, name: string) => ((await client.get(pods, 'default', name)) as Pod).spec.nodeName || undefined;
const boundTo = (client: InProcessClient, name: string) => waitFor(() => nodeOf(client, name), { timeout: 5000, what: `pod ${name} bound` });
const scheduledMessage = async (client: InProcessClient, name: string) =>
  ((await client.get(pods, 'default', name)) as Pod).status?.conditions?.find((condition) => condition.type === 'PodScheduled')?.message;

t.test('a claim with selected-node pins the pod to that node, every time', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(claims, 'default', claimObject('data-db-0', 'b'));
  for (let round = 0; round < 3; round++) {
    await client.create(pods, 'default', podObject('db-0', 'data-db-0'));
    t.equal(await boundTo(client, 'db-0'), 'b', `round ${round}`);
    await client.delete(pods, 'default', 'db-0', { gracePeriodSeconds: 0 });
    await waitFor(async () => !(await client.list(pods, 'default')).items.length, { what: 'pod gone' });
  }
});

t.test('an unplaced claim is put on the chosen node (annotation, then Bound) before the pod is bound', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(claims, 'default', claimObject('data'));
  // The store revision at which the claim got its node, and the one at which the pod did.
  const revisions = new Map<string, number>();
  const from = (await client.list(pods, 'default')).metadata.resourceVersion;
  const record = (what: string, has: (object: KubeObject) => boolean) => (event: WatchEvent) => {
    if (event.type !== 'BOOKMARK' && event.type !== 'ERROR' && has(event.object) && !revisions.has(what)) revisions.set(what, Number(event.object.metadata.resourceVersion));
  };
  const claimWatch = await client.watch(claims, 'default', { resourceVersion: from }, record('claim placed', (claim) => Boolean(claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION])));
  const podWatch = await client.watch(pods, 'default', { resourceVersion: from }, record('pod bound', (pod) => Boolean((pod as Pod).spec.nodeName)));
  t.teardown(() => {
    claimWatch.stop();
    podWatch.stop();
  });
  await client.create(pods, 'default', podObject('db', 'data'));
  const node = await boundTo(client, 'db');
  const claim = (await client.get(claims, 'default', 'data')) as PersistentVolumeClaim;
  t.equal(claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION], node);
  t.match(claim.status, { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] });
  await waitFor(() => revisions.size === 2, { what: 'both watch events' });
  t.ok(revisions.get('claim placed')! < revisions.get('pod bound')!, `claim placed at ${revisions.get('claim placed')}, pod bound at ${revisions.get('pod bound')}`);

  // The pod comes back to the same node after it is deleted (a StatefulSet replacing it).
  await client.delete(pods, 'default', 'db', { gracePeriodSeconds: 0 });
  await waitFor(async () => !(await client.list(pods, 'default')).items.length, { what: 'pod gone' });
  await client.create(pods, 'default', podObject('db', 'data'));
  t.equal(await boundTo(client, 'db'), node);
});

t.test('a missing claim keeps the pod Pending with a clear reason until it exists', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} }, controllers: { schedulerRetryMs: 60_000 } });
  await client.create(pods, 'default', podObject('waiting', 'later'));
  await waitFor(async () => (await scheduledMessage(client, 'waiting')) === '0/3 nodes are available: persistentvolumeclaim "later" not found.', { what: 'not found reason' });
  t.equal(await nodeOf(client, 'waiting'), undefined);
  await client.create(claims, 'default', claimObject('later'));
  const node = await boundTo(client, 'waiting');
  await waitFor(async () => ((await client.get(claims, 'default', 'later')) as PersistentVolumeClaim).metadata.annotations?.[SELECTED_NODE_ANNOTATION] === node, {
    what: 'claim placed on the pod node',
  });
  t.pass(`scheduled to ${node} once the claim exists`);
});

t.test('claims pinned to two different nodes fit nowhere', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(claims, 'default', claimObject('one', 'a'));
  await client.create(claims, 'default', claimObject('two', 'b'));
  await client.create(pods, 'default', podObject('torn', 'one', 'two'));
  await waitFor(async () => (await scheduledMessage(client, 'torn')) === '0/3 nodes are available: 3 node(s) had volume node affinity conflict.', {
    what: 'volume conflict',
  });
  t.equal(await nodeOf(client, 'torn'), undefined);
});
