import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { startTestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;
const leases = resolveResource('leases')!;

const pod = (name: string, nodeName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { ...(nodeName ? { nodeName } : {}), terminationGracePeriodSeconds: 30, containers: [{ name: 'main', command: ['sleep', '1000'] }] },
});

t.test('simulated nodes register Ready with capacity, renew their Leases, and run their pods', async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, { nodes: { 'node-a': { cpu: '2', memory: '4Gi' } } });
  const node = await client.get(nodes, undefined, 'node-a');
  t.match(node.status, { allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] });
  const first = ((await client.get(leases, 'kube-node-lease', 'node-a')).spec as { renewTime: string }).renewTime;
  await waitFor(async () => ((await client.get(leases, 'kube-node-lease', 'node-a')).spec as { renewTime: string }).renewTime !== first, { what: 'a lease renewal' });

  await client.create(pods, 'default', pod('bound', 'node-a'));
  await waitFor(async () => ((await client.get(pods, 'default', 'bound')).status as { phase?: string }).phase === 'Running', { what: 'the pod to run' });
  t.match((await client.get(pods, 'default', 'bound')).status, { conditions: [{ type: 'PodScheduled' }, { type: 'Initialized' }, { type: 'ContainersReady', status: 'True' }, { type: 'Ready', status: 'True' }] });

  await cluster.setReady('default', 'bound', false);
  t.match((await client.get(pods, 'default', 'bound')).status, { phase: 'Running', conditions: [{}, {}, {}, { type: 'Ready', status: 'False' }] });

  const deleted = await client.delete(pods, 'default', 'bound');
  t.ok(deleted.metadata.deletionTimestamp, 'a pod on a live node is deleted gracefully');
  await waitFor(async () => (await client.list(pods, 'default')).items.length === 0, { what: 'the agent to confirm the deletion' });
});

t.test('a paused node stops renewing and leaves its pods alone until it resumes', async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, { nodes: { 'node-b': {} } });
  cluster.pauseNode('node-b');
  await client.create(pods, 'default', pod('waiting', 'node-b'));
  const renewTime = async () => ((await client.get(leases, 'kube-node-lease', 'node-b')).spec as { renewTime: string }).renewTime;
  const before = await renewTime();
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.equal(await renewTime(), before, 'no renewals while paused');
  t.equal(((await client.get(pods, 'default', 'waiting')).status as { phase?: string }).phase, 'Pending');
  await cluster.resumeNode('node-b');
  await waitFor(async () => ((await client.get(pods, 'default', 'waiting')).status as { phase?: string }).phase === 'Running', { what: 'the pod to run after resume' });
});
