import t from 'tap';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;
const replicaSets = resolveResource('replicasets')!;

const nodeOf = (pod: KubeObject): string | undefined => (pod.spec as { nodeName?: string }).nodeName;

t.test('pods of a deleted node are removed, and their ReplicaSet replaces them on the nodes left', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { a: {}, b: {}, c: {} } });
  await client.create(replicaSets, 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web' },
    spec: {
      replicas: 6,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', command: ['sleep', '600'] }] } },
    },
  });
  const running = async () => (await client.list(pods, 'default', { labelSelector: 'app=web' })).items.filter((pod) => (pod.status as { phase?: string }).phase === 'Running');
  await waitFor(async () => (await running()).length === 6, { what: '6 running pods' });
  const onA = (await running()).filter((pod) => nodeOf(pod) === 'a').map((pod) => pod.metadata.uid);
  t.ok(onA.length > 0, 'some pods run on a');

  await client.delete(nodes, undefined, 'a');
  await waitFor(async () => {
    const all = (await client.list(pods, 'default', { labelSelector: 'app=web' })).items;
    return all.every((pod) => nodeOf(pod) !== 'a') && (await running()).length === 6;
  }, { what: 'the pods of a to be replaced on b and c' });
  const uids = new Set((await client.list(pods, 'default')).items.map((pod) => pod.metadata.uid));
  t.ok(onA.every((uid) => !uids.has(uid)), 'the pods of the deleted node are gone');
});

t.test('a pod bound to a node that exists is never collected, even when the cache has not seen the node yet', async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, { nodes: { a: {} } });
  await client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'early' }, spec: { nodeName: 'late', containers: [{ name: 'main', command: ['sleep', '600'] }] } });
  await cluster.addNode('late');
  await waitFor(async () => ((await client.get(pods, 'default', 'early')).status as { phase?: string }).phase === 'Running', { what: 'the pod to run on the late node' });
  t.ok(await client.get(pods, 'default', 'early'), 'still there');
});
