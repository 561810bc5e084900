import t from 'tap';
import type { Test } from 'tap';
import type { DaemonSet } from '../../../../src/api/kinds/daemonset.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import { clone } from '../../../../src/api/meta.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;
const daemonSets = resolveResource('daemonsets')!;
const events = resolveResource('events')!;

function daemonSetObject(name: string, podSpec: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', command: ['sleep', '1000'] }], ...podSpec },
      },
      ...spec,
    },
  };
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;

/** The DaemonSet's live pods (not being deleted). */
async function livePods(client: InProcessClient, app: string): Promise<Pod[]> {
  const list = await client.list(pods, 'default', { labelSelector: `app=${app}` });
  return (list.items as Pod[]).filter((pod) => !pod.metadata.deletionTimestamp);
}

/** Waits until exactly `expected` nodes each hold one bound, Ready pod of `app`, and no other pod exists. */
async function runningOn(client: InProcessClient, app: string, expected: string[], check: (pod: Pod) => boolean = () => true): Promise<Pod[]> {
  return waitFor(
    async () => {
      const all = (await client.list(pods, 'default', { labelSelector: `app=${app}` })).items as Pod[];
      const placed = all.map((pod) => pod.spec.nodeName ?? '').sort();
      const good = all.every((pod) => !pod.metadata.deletionTimestamp && isReady(pod) && check(pod));
      return good && JSON.stringify(placed) === JSON.stringify([...expected].sort()) ? all : undefined;
    },
    { what: `${app} pods Ready on exactly ${expected.join(',')}` },
  );
}

async function statusOf(client: InProcessClient, name: string): Promise<NonNullable<DaemonSet['status']>> {
  return ((await client.get(daemonSets, 'default', name)) as DaemonSet).status ?? {};
}

/** Waits for the status the controller wrote after seeing this state, so stable-state assertions cannot race it. */
const statusSettles = (client: InProcessClient, name: string, expected: Record<string, number>) =>
  waitFor(
    async () => {
      const status = await statusOf(client, name);
      return Object.entries(expected).every(([field, value]) => (status as Record<string, unknown>)[field] === value) ? status : undefined;
    },
    { what: `${name} status ${JSON.stringify(expected)}` },
  );

async function patchNode(client: InProcessClient, name: string, patch: unknown): Promise<void> {
  await client.patch(nodes, undefined, name, 'application/merge-patch+json', patch);
}

t.test('one bound pod per node, named, labelled and owned as Kubernetes does; a 4th node gets one; a removed node loses it', async (t) => {
  const { client, nodes: simulated } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  const created = (await client.create(daemonSets, 'default', daemonSetObject('agent'))) as DaemonSet;
  const placed = await runningOn(client, 'agent', ['a', 'b', 'c']);
  const hashes = new Set(placed.map((pod) => pod.metadata.labels?.['controller-revision-hash']));
  t.equal(hashes.size, 1, 'one revision hash');
  for (const pod of placed) {
    t.match(pod.metadata.name, /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    t.equal(pod.metadata.labels?.['pod-template-generation'], '1');
    t.match(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    t.same(pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [pod.spec.nodeName] }] },
    ], 'pinned to its node by affinity; the scheduler bound it');
    t.ok(pod.spec.tolerations?.some((toleration) => toleration.key === 'node.kubernetes.io/unreachable' && toleration.effect === 'NoExecute' && toleration.tolerationSeconds === undefined));
  }
  t.match(await statusSettles(client, 'agent', { numberAvailable: 3 }), {
    desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 3, numberMisscheduled: 0, numberUnavailable: 0, observedGeneration: 1,
  });
  const createdEvents = async () =>
    (await client.list(events, 'default')).items.filter((event) => event.reason === 'SuccessfulCreate' && (event.involvedObject as { name: string }).name === 'agent');
  await waitFor(async () => (await createdEvents()).length === 3, { what: 'a SuccessfulCreate event per pod' });
  t.same((await createdEvents()).map((event) => event.message).sort(), placed.map((pod) => `Created pod: ${pod.metadata.name}`).sort());

  await simulated.addNode('d');
  await runningOn(client, 'agent', ['a', 'b', 'c', 'd']);
  await statusSettles(client, 'agent', { desiredNumberScheduled: 4, numberAvailable: 4 });

  await client.delete(nodes, undefined, 'b');
  await runningOn(client, 'agent', ['a', 'c', 'd']);
  t.match(await statusSettles(client, 'agent', { desiredNumberScheduled: 3, currentNumberScheduled: 3 }), { numberAvailable: 3, numberMisscheduled: 0 });
  await waitFor(async () => (await client.list(events, 'default')).items.some((event) => event.reason === 'SuccessfulDelete'), { what: 'SuccessfulDelete event' });
});

t.test('taints: NoSchedule keeps pods away unless tolerated; a cordoned node still runs its daemon pod', async (t) => {
  const { client } = await startTestCluster(t, {
    nodes: { plain: {}, tainted: { taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] }, cordoned: { unschedulable: true } },
  });
  await client.create(daemonSets, 'default', daemonSetObject('untolerant'));
  await client.create(daemonSets, 'default', daemonSetObject('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] }));
  await runningOn(client, 'tolerant', ['plain', 'tainted', 'cordoned']);
  await runningOn(client, 'untolerant', ['plain', 'cordoned']);
  t.match(await statusSettles(client, 'untolerant', { desiredNumberScheduled: 2, numberAvailable: 2 }), { currentNumberScheduled: 2, numberMisscheduled: 0 });
  t.same((await livePods(client, 'untolerant')).filter((pod) => pod.spec.nodeName === 'tainted'), [], 'nothing on the tainted node');

  // NoExecute removes the untolerant pod from a node; NoSchedule alone would leave it running.
  await patchNode(client, 'plain', { spec: { taints: [{ key: 'maintenance', effect: 'NoSchedule' }] } });
  await statusSettles(client, 'untolerant', { desiredNumberScheduled: 1, numberMisscheduled: 1 });
  t.equal((await livePods(client, 'untolerant')).filter((pod) => pod.spec.nodeName === 'plain').length, 1, 'a running pod stays under a new NoSchedule taint');
  await patchNode(client, 'plain', { spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } });
  await runningOn(client, 'untolerant', ['cordoned']);
  await statusSettles(client, 'untolerant', { desiredNumberScheduled: 1, numberMisscheduled: 0, currentNumberScheduled: 1 });
});

t.test('nodeSelector limits the nodes; a node losing the label loses its pod, one gaining it gets one', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: { labels: { role: 'edge' } }, b: { labels: { role: 'edge' } }, c: {} } });
  await client.create(daemonSets, 'default', daemonSetObject('edge', { nodeSelector: { role: 'edge' } }));
  await runningOn(client, 'edge', ['a', 'b']);
  t.match(await statusSettles(client, 'edge', { desiredNumberScheduled: 2, numberAvailable: 2 }), { currentNumberScheduled: 2, numberMisscheduled: 0 });

  await patchNode(client, 'b', { metadata: { labels: { role: null } } });
  await runningOn(client, 'edge', ['a']);
  await statusSettles(client, 'edge', { desiredNumberScheduled: 1, currentNumberScheduled: 1 });

  await patchNode(client, 'c', { metadata: { labels: { role: 'edge' } } });
  await runningOn(client, 'edge', ['a', 'c']);
  await statusSettles(client, 'edge', { desiredNumberScheduled: 2, numberAvailable: 2 });
});

/** Watches the DaemonSet's pods and records, at every observed state, how many nodes lack an available pod. */
async function watchAvailability(t: Test, client: InProcessClient, app: string, nodeNames: string[]) {
  const state = new Map<string, Pod>();
  const list = await client.list(pods, 'default', { labelSelector: `app=${app}` });
  for (const pod of list.items as Pod[]) state.set(pod.metadata.name ?? '', pod);
  const seen = { maxMissing: 0, maxPods: state.size, minMissing: Number.POSITIVE_INFINITY, states: 0 };
  const record = () => {
    const missing = nodeNames.filter((node) => ![...state.values()].some((pod) => pod.spec.nodeName === node && !pod.metadata.deletionTimestamp && isReady(pod))).length;
    seen.maxMissing = Math.max(seen.maxMissing, missing);
    seen.maxPods = Math.max(seen.maxPods, [...state.values()].filter((pod) => !pod.metadata.deletionTimestamp).length);
    seen.states++;
  };
  record();
  const handle = await client.watch(pods, 'default', { labelSelector: `app=${app}`, resourceVersion: list.metadata.resourceVersion }, (event) => {
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
    const pod = event.object as Pod;
    if (event.type === 'DELETED') state.delete(pod.metadata.name ?? '');
    else state.set(pod.metadata.name ?? '', pod);
    record();
  });
  t.teardown(() => handle.stop());
  return seen;
}

async function updateTemplate(client: InProcessClient, name: string, change: (daemonSet: DaemonSet) => void): Promise<void> {
  const daemonSet = clone((await client.get(daemonSets, 'default', name)) as DaemonSet);
  change(daemonSet);
  await client.update(daemonSets, 'default', daemonSet);
}

const bumpArgs = (daemonSet: DaemonSet) => {
  daemonSet.spec.template.spec.containers[0]!.args = ['v2'];
};

t.test('RollingUpdate with maxUnavailable 1 never leaves more than one node without an available pod', async (t) => {
  const nodeNames = ['a', 'b', 'c'];
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(daemonSets, 'default', daemonSetObject('roll'));
  const before = await runningOn(client, 'roll', nodeNames);
  const oldHash = before[0]!.metadata.labels?.['controller-revision-hash'];
  await statusSettles(client, 'roll', { numberAvailable: 3 });
  const seen = await watchAvailability(t, client, 'roll', nodeNames);

  await updateTemplate(client, 'roll', bumpArgs);
  const after = await runningOn(client, 'roll', nodeNames, (pod) => pod.metadata.labels?.['controller-revision-hash'] !== oldHash);
  t.ok(after.every((pod) => pod.spec.containers[0]?.args?.[0] === 'v2' && pod.metadata.labels?.['pod-template-generation'] === '2'), 'every pod runs the new template');
  t.match(await statusSettles(client, 'roll', { updatedNumberScheduled: 3, numberAvailable: 3, observedGeneration: 2 }), { desiredNumberScheduled: 3, numberUnavailable: 0 });
  t.equal(seen.maxMissing, 1, `at most one node without an available pod over ${seen.states} observed states (and the update did take one down)`);
  t.equal(seen.maxPods, 3, 'no surge: never more than one pod per node');
});

t.test('RollingUpdate with maxSurge 1 and maxUnavailable 0 starts the new pod before stopping the old one', async (t) => {
  const nodeNames = ['a', 'b', 'c'];
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(daemonSets, 'default', daemonSetObject('surge', {}, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
  const before = await runningOn(client, 'surge', nodeNames);
  const oldHash = before[0]!.metadata.labels?.['controller-revision-hash'];
  await statusSettles(client, 'surge', { numberAvailable: 3 });
  const seen = await watchAvailability(t, client, 'surge', nodeNames);

  await updateTemplate(client, 'surge', bumpArgs);
  await runningOn(client, 'surge', nodeNames, (pod) => pod.metadata.labels?.['controller-revision-hash'] !== oldHash);
  await statusSettles(client, 'surge', { updatedNumberScheduled: 3, numberAvailable: 3, observedGeneration: 2 });
  t.equal(seen.maxMissing, 0, `every node kept an available pod over ${seen.states} observed states`);
  t.equal(seen.maxPods, 4, 'one extra pod at a time');
});

t.test('OnDelete leaves old pods alone; a deleted pod comes back with the new template', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(daemonSets, 'default', daemonSetObject('manual', {}, { updateStrategy: { type: 'OnDelete' } }));
  const before = await runningOn(client, 'manual', ['a', 'b', 'c']);
  await updateTemplate(client, 'manual', bumpArgs);
  t.match(await statusSettles(client, 'manual', { observedGeneration: 2 }), { updatedNumberScheduled: 0, numberAvailable: 3 });
  t.same((await livePods(client, 'manual')).map((pod) => pod.metadata.uid).sort(), before.map((pod) => pod.metadata.uid).sort(), 'the same pods run');

  const victim = before.find((pod) => pod.spec.nodeName === 'b')!;
  await client.delete(pods, 'default', victim.metadata.name!);
  const after = await runningOn(client, 'manual', ['a', 'b', 'c'], (pod) => pod.metadata.uid !== victim.metadata.uid);
  t.equal(after.find((pod) => pod.spec.nodeName === 'b')?.spec.containers[0]?.args?.[0], 'v2', 'the replacement has the new template');
  await statusSettles(client, 'manual', { updatedNumberScheduled: 1, numberAvailable: 3 });
});

t.test('a failed daemon pod is deleted and replaced on its node', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {} } });
  await client.create(daemonSets, 'default', daemonSetObject('crashy'));
  const before = await runningOn(client, 'crashy', ['a', 'b']);
  const victim = clone(before.find((pod) => pod.spec.nodeName === 'a')!);
  victim.status = { ...victim.status, phase: 'Failed', conditions: [] };
  await client.update(pods, 'default', victim, { subresource: 'status' });
  await runningOn(client, 'crashy', ['a', 'b'], (pod) => pod.metadata.uid !== victim.metadata.uid);
  const warning = await waitFor(async () => (await client.list(events, 'default')).items.find((event) => event.reason === 'FailedDaemonPod'), { what: 'FailedDaemonPod event' });
  t.equal(warning.message, `Found failed daemon pod default/${victim.metadata.name} on node a, will try to kill it`);
});
