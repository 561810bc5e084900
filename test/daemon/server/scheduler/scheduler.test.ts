import t from 'tap';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;
const events = resolveResource('events')!;
const replicaSets = resolveResource('replicasets')!;

function podObject(name: string, spec: Partial<Pod['spec']> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'main', image: 'app', command: ['sleep', '1000'] }], ...spec },
  };
}

const withRequests = (cpu: string, memory: string): Partial<Pod['spec']> => ({
  containers: [{ name: 'main', image: 'app', command: ['sleep', '1000'], resources: { requests: { cpu, memory } } }],
});

async function nodeOf(client: InProcessClient, name: string): Promise<string | undefined> {
  const pod = (await client.get(pods, 'default', name)) as Pod;
  return pod.spec.nodeName || undefined;
}

const boundTo = (client: InProcessClient, name: string) => waitFor(() => nodeOf(client, name), { timeout: 5000, what: `pod ${name} bound` });

async function failedScheduling(client: InProcessClient, name: string): Promise<KubeObject[]> {
  const list = await client.list(events, 'default');
  return list.items.filter((event) => (event.involvedObject as { name?: string }).name === name && event.reason === 'FailedScheduling');
}

const scheduledCondition = async (client: InProcessClient, name: string) =>
  ((await client.get(pods, 'default', name)) as Pod).status?.conditions?.find((condition) => condition.type === 'PodScheduled');

t.test('a ReplicaSet of 10 spreads 4/3/3 over 3 equal nodes; a Scheduled event each', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  // The ReplicaSet controller creates the pods (a dangling fake owner would be garbage collected).
  await client.create(replicaSets, 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 10, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podObject('template').spec } },
  });
  const placed = await waitFor(
    async () => {
      const list = (await client.list(pods, 'default')).items as Pod[];
      return list.length === 10 && list.every((pod) => pod.spec.nodeName) ? list : undefined;
    },
    { what: '10 pods bound' },
  );
  const counts = new Map<string, number>();
  for (const pod of placed) counts.set(pod.spec.nodeName!, (counts.get(pod.spec.nodeName!) ?? 0) + 1);
  t.same([...counts.values()].sort(), [3, 3, 4], `spread ${JSON.stringify(Object.fromEntries(counts))}`);
  await waitFor(async () => (await client.list(events, 'default')).items.filter((event) => event.reason === 'Scheduled').length === 10, { what: 'Scheduled events' });
  const name = placed[0]!.metadata.name!;
  const event = (await client.list(events, 'default')).items.find((item) => item.reason === 'Scheduled' && (item.involvedObject as { name: string }).name === name);
  t.equal(event?.message, `Successfully assigned default/${name} to ${placed[0]!.spec.nodeName}`);
});

t.test('too much memory: Pending with PodScheduled=False and the FailedScheduling message; a big node schedules it', async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, {
    nodes: { a: { memory: '1Gi' }, b: { memory: '1Gi' }, c: { memory: '1Gi' } },
    controllers: { schedulerRetryMs: 60_000 },
  });
  await client.create(pods, 'default', podObject('big', withRequests('100m', '2Gi')));
  const condition = await waitFor(() => scheduledCondition(client, 'big'), { what: 'PodScheduled condition' });
  t.match(condition, { status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' });
  const [event] = await waitFor(() => failedScheduling(client, 'big').then((list) => (list.length > 0 ? list : undefined)), { what: 'FailedScheduling event' });
  t.equal(event?.type, 'Warning');
  t.equal(event?.message, '0/3 nodes are available: 3 Insufficient memory.');

  // Cordoning one node changes the reasons: they are counted and sorted as Kubernetes does.
  await client.patch(nodes, undefined, 'a', 'application/merge-patch+json', { spec: { unschedulable: true } });
  await waitFor(async () => (await scheduledCondition(client, 'big'))?.message === '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory.', {
    what: 'mixed reasons',
  });
  t.ok(
    (await failedScheduling(client, 'big')).some((item) => item.message === '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory.'),
    'a second event for the new message',
  );
  t.equal(await nodeOf(client, 'big'), undefined, 'still pending');

  await cluster.addNode('huge', { memory: '4Gi' });
  t.equal(await boundTo(client, 'big'), 'huge', 'scheduled once a big enough node joins, long before the periodic retry');
  await waitFor(async () => (await scheduledCondition(client, 'big'))?.status === 'True', { what: 'PodScheduled=True' });
});

t.test('cpu, pod count and the sum of containers against allocatable minus what is bound', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { small: { cpu: '1', memory: '1Gi', pods: 2 } } });
  await client.create(pods, 'default', podObject('first', withRequests('600m', '100Mi')));
  t.equal(await boundTo(client, 'first'), 'small');
  await client.create(pods, 'default', podObject('second', withRequests('600m', '100Mi')));
  await waitFor(async () => (await scheduledCondition(client, 'second'))?.message === '0/1 nodes are available: 1 Insufficient cpu.', { what: 'Insufficient cpu' });
  await client.create(pods, 'default', podObject('tiny'));
  t.equal(await boundTo(client, 'tiny'), 'small');
  await client.create(pods, 'default', podObject('extra'));
  await waitFor(async () => (await scheduledCondition(client, 'extra'))?.message === '0/1 nodes are available: 1 Too many pods.', { what: 'Too many pods' });
  await client.delete(pods, 'default', 'extra');
  // Deleting a bound pod frees its resources: the waiting pod is looked at again.
  await client.delete(pods, 'default', 'first', { gracePeriodSeconds: 0 });
  t.equal(await boundTo(client, 'second'), 'small');
});

t.test('nodeSelector and required node affinity In, NotIn, Exists', async (t) => {
  const { client } = await startTestCluster(t, {
    nodes: { a: { labels: { disk: 'ssd', zone: 'z1' } }, b: { labels: { disk: 'hdd', zone: 'z2' } }, c: { labels: { zone: 'z3', gpu: 'yes' } } },
  });
  await client.create(pods, 'default', podObject('selector', { nodeSelector: { disk: 'hdd' } }));
  const affinity = (operator: 'In' | 'NotIn' | 'Exists', key: string, values?: string[]) => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }] } } },
  });
  await client.create(pods, 'default', podObject('in', affinity('In', 'zone', ['z3', 'z9'])));
  await client.create(pods, 'default', podObject('notin', { ...affinity('NotIn', 'zone', ['z2', 'z3']) }));
  await client.create(pods, 'default', podObject('exists', affinity('Exists', 'gpu')));
  await client.create(pods, 'default', podObject('nowhere', { nodeSelector: { disk: 'nvme' } }));
  t.equal(await boundTo(client, 'selector'), 'b');
  t.equal(await boundTo(client, 'in'), 'c');
  t.equal(await boundTo(client, 'notin'), 'a');
  t.equal(await boundTo(client, 'exists'), 'c');
  const condition = await waitFor(() => scheduledCondition(client, 'nowhere'), { what: 'nowhere condition' });
  t.equal(condition.message, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
});

t.test('taints: NoSchedule and NoExecute need a toleration, PreferNoSchedule only scores', async (t) => {
  const { client } = await startTestCluster(t, {
    nodes: {
      gpu: { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
      drain: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] },
      soft: { taints: [{ key: 'spare', effect: 'PreferNoSchedule' }] },
    },
  });
  await client.create(pods, 'default', podObject('plain'));
  t.equal(await boundTo(client, 'plain'), 'soft', 'only the PreferNoSchedule node is possible');
  await client.create(pods, 'default', podObject('gpu-user', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }], nodeSelector: { 'kubernetes.io/hostname': 'gpu' } }));
  t.equal(await boundTo(client, 'gpu-user'), 'gpu');
  await client.create(pods, 'default', podObject('drain-ok', { tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 3600 }], nodeSelector: { 'kubernetes.io/hostname': 'drain' } }));
  t.equal(await boundTo(client, 'drain-ok'), 'drain');
  await client.create(pods, 'default', podObject('all-tolerant', { tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }] }));
  t.not(await boundTo(client, 'all-tolerant'), 'soft', 'an untolerated PreferNoSchedule taint scores lower than none');
  await client.create(pods, 'default', podObject('refused', { nodeSelector: { 'kubernetes.io/hostname': 'gpu' } }));
  const condition = await waitFor(() => scheduledCondition(client, 'refused'), { what: 'refused condition' });
  t.equal(
    condition.message,
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) had untolerated taint {maintenance: }.",
  );
});

t.test('hostPort conflicts, per protocol', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { only: {} } });
  const port = (protocol: 'TCP' | 'UDP'): Partial<Pod['spec']> => ({
    containers: [{ name: 'main', image: 'app', command: ['x'], ports: [{ containerPort: 80, hostPort: 8080, protocol }] }],
  });
  await client.create(pods, 'default', podObject('tcp-1', port('TCP')));
  t.equal(await boundTo(client, 'tcp-1'), 'only');
  await client.create(pods, 'default', podObject('udp', port('UDP')));
  t.equal(await boundTo(client, 'udp'), 'only', 'the same port over UDP is free');
  await client.create(pods, 'default', podObject('tcp-2', port('TCP')));
  const condition = await waitFor(() => scheduledCondition(client, 'tcp-2'), { what: 'port conflict' });
  t.equal(condition.message, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
});

t.test('a not-Ready node is skipped unless the pod tolerates not-ready', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { good: {}, sick: {} } });
  const sick = await client.get(nodes, undefined, 'sick');
  const status = sick.status as { conditions: Array<Record<string, string>> };
  await client.update(
    nodes,
    undefined,
    { ...sick, status: { ...status, conditions: status.conditions.map((condition) => (condition.type === 'Ready' ? { ...condition, status: 'False' } : condition)) } },
    { subresource: 'status' },
  );
  for (let index = 0; index < 4; index++) await client.create(pods, 'default', podObject(`p-${index}`));
  for (let index = 0; index < 4; index++) t.equal(await boundTo(client, `p-${index}`), 'good');
  await client.create(pods, 'default', podObject('daemon', { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }], nodeSelector: { 'kubernetes.io/hostname': 'sick' } }));
  t.equal(await boundTo(client, 'daemon'), 'sick');
  await client.create(pods, 'default', podObject('pinned', { nodeSelector: { 'kubernetes.io/hostname': 'sick' } }));
  const condition = await waitFor(() => scheduledCondition(client, 'pinned'), { what: 'not ready' });
  t.equal(condition.message, "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were not ready.");
});

t.test('other schedulers, bound and terminating pods are left alone', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {} } });
  await client.create(pods, 'default', podObject('custom', { schedulerName: 'my-scheduler' }));
  await client.create(pods, 'default', podObject('marker'));
  await boundTo(client, 'marker');
  t.equal(await nodeOf(client, 'custom'), undefined);
  t.equal(await scheduledCondition(client, 'custom'), undefined, 'no condition written for another scheduler');
});
