import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import type { InProcessClient } from '../../src/client/in-process-client.js';
import { pm8s, waitFor } from '../helpers/cli.js';
import { startTestCluster } from '../helpers/cluster.js';
import { barePod, workload } from '../helpers/workloads.js';

const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;
const replicaSets = resolveResource('replicasets')!;
const daemonSets = resolveResource('daemonsets')!;

const nodeOf = (pod: KubeObject): string => (pod.spec as { nodeName?: string }).nodeName ?? '';
const isReady = (pod: KubeObject): boolean =>
  ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');

/** Waits until `app` has exactly `count` live, bound, Ready pods, and returns them. */
async function settled(client: InProcessClient, app: string, count: number): Promise<KubeObject[]> {
  return waitFor(
    async () => {
      const all = (await client.list(pods, 'default', { labelSelector: `app=${app}` })).items;
      return all.length === count && all.every((pod) => !pod.metadata.deletionTimestamp && nodeOf(pod) !== '' && isReady(pod)) ? all : undefined;
    },
    { what: `${count} Ready ${app} pods`, timeout: 15_000 },
  );
}

t.test('drain cordons, evicts the ReplicaSet pods (recreated elsewhere) and leaves the DaemonSet pod', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {}, n2: {}, n3: {} } });
  await client.create(replicaSets, 'default', workload('ReplicaSet', 'web', { replicas: 6 }));
  await client.create(daemonSets, 'default', workload('DaemonSet', 'logs'));
  const before = await settled(client, 'web', 6);
  const onN1 = before.filter((pod) => nodeOf(pod) === 'n1').map((pod) => pod.metadata.name ?? '');
  t.ok(onN1.length > 0, 'the scheduler spread web onto n1');
  const [daemonPod] = (await settled(client, 'logs', 3)).filter((pod) => nodeOf(pod) === 'n1');

  const drained = await pm8s(server, ['drain', 'n1', '--timeout', '20s']);
  t.equal(drained.code, 0, drained.stderr);
  const lines = drained.stdout.split('\n').filter(Boolean);
  t.equal(lines[0], 'node/n1 cordoned');
  t.equal(lines.at(-1), 'node/n1 drained');
  for (const name of onN1) {
    t.ok(lines.includes(`evicting pod default/${name}`), `evicting ${name}`);
    t.ok(lines.includes(`pod/${name} evicted`), `${name} evicted`);
  }
  t.equal(lines.length, 2 + 2 * onN1.length, 'nothing else was evicted');
  t.equal(drained.stderr, `Warning: ignoring DaemonSet-managed Pods: default/${daemonPod?.metadata.name ?? ''}\n`);

  t.equal(((await client.get(nodes, undefined, 'n1')).spec as { unschedulable?: boolean }).unschedulable, true);
  const after = await settled(client, 'web', 6);
  t.same(after.filter((pod) => nodeOf(pod) === 'n1'), [], 'no web pod is left on n1: the ReplicaSet replaced them on n2 and n3');
  const daemonNow = (await client.list(pods, 'default', { labelSelector: 'app=logs' })).items.filter((pod) => nodeOf(pod) === 'n1');
  t.same(daemonNow.map((pod) => pod.metadata.uid), [daemonPod?.metadata.uid], 'the DaemonSet pod on n1 is untouched');

  const again = await pm8s(server, ['drain', 'n1']);
  t.same(again, { code: 0, stdout: 'node/n1 already cordoned\nnode/n1 drained\n', stderr: `Warning: ignoring DaemonSet-managed Pods: default/${daemonPod?.metadata.name ?? ''}\n` });
});

t.test('drain refuses unmanaged pods, emptyDir pods and (with --ignore-daemonsets=false) DaemonSet pods; --force and --delete-emptydir-data override', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {}, n2: {} } });
  await client.create(pods, 'default', barePod('bare', 'n1'));
  const scratch = workload('ReplicaSet', 'cache', { replicas: 1, podSpec: { nodeSelector: { 'kubernetes.io/hostname': 'n1' }, volumes: [{ name: 'scratch', emptyDir: {} }] } });
  await client.create(replicaSets, 'default', scratch);
  await client.create(daemonSets, 'default', workload('DaemonSet', 'logs'));
  await settled(client, 'bare', 1);
  const [cachePod] = await settled(client, 'cache', 1);
  const [daemonPod] = (await settled(client, 'logs', 2)).filter((pod) => nodeOf(pod) === 'n1');

  const refused = await pm8s(server, ['drain', 'n1', '--ignore-daemonsets=false']);
  t.equal(refused.code, 1);
  t.equal(refused.stdout, 'node/n1 cordoned\n', 'the node is cordoned even when the drain is refused, as kubectl does');
  const reasons = [
    `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/${daemonPod?.metadata.name ?? ''}`,
    'cannot delete Pods that declare no controller (use --force to override): default/bare',
    `cannot delete Pods with local storage (use --delete-emptydir-data to override): default/${cachePod?.metadata.name ?? ''}`,
  ];
  for (const reason of reasons) t.match(refused.stderr, reason);
  t.match(refused.stderr, /^error: unable to drain node "n1" due to error: \[.*\], continuing command\.\.\.\nThere are pending nodes to be drained:\n n1\nerror: \[/);
  t.equal((await client.list(pods, 'default')).items.filter((pod) => pod.metadata.deletionTimestamp).length, 0, 'nothing was evicted');

  const onlyBare = await pm8s(server, ['drain', 'n1', '--delete-emptydir-data']);
  t.equal(onlyBare.code, 1);
  t.match(onlyBare.stderr, 'error: unable to drain node "n1" due to error: cannot delete Pods that declare no controller (use --force to override): default/bare, continuing command...');

  const forced = await pm8s(server, ['drain', 'n1', '--force', '--delete-emptydir-data', '--grace-period', '0', '--timeout', '20s']);
  t.equal(forced.code, 0, forced.stderr);
  t.match(forced.stdout, 'pod/bare evicted\n');
  t.match(forced.stdout, `pod/${cachePod?.metadata.name ?? ''} evicted\n`);
  t.equal(forced.stderr, `Warning: deleting Pods that declare no controller: default/bare; ignoring DaemonSet-managed Pods: default/${daemonPod?.metadata.name ?? ''}\n`);
  await t.rejects(client.get(pods, 'default', 'bare'), { code: 404 }, 'the unmanaged pod is gone for good');
  const cacheNow = await waitFor(async () => (await client.list(pods, 'default', { labelSelector: 'app=cache' })).items[0], { what: 'a replacement cache pod' });
  t.not(cacheNow.metadata.uid, cachePod?.metadata.uid, 'the ReplicaSet made a new pod');
  t.equal(nodeOf(cacheNow), '', 'which cannot be placed: its only node is cordoned');
});

t.test('drain --timeout: pods whose node never confirms the deletion fail the drain', async (t) => {
  const { server, client, nodes: simulated } = await startTestCluster(t, { nodes: { n1: {}, n2: {} } });
  await client.create(replicaSets, 'default', workload('ReplicaSet', 'web', { replicas: 1, podSpec: { nodeSelector: { 'kubernetes.io/hostname': 'n1' } } }));
  const [pod] = await settled(client, 'web', 1);
  simulated.pauseNode('n1');
  const started = Date.now();
  const result = await pm8s(server, ['drain', 'n1', '--timeout', '1s']);
  t.ok(Date.now() - started < 5000, 'bounded by --timeout');
  t.equal(result.code, 1);
  t.match(result.stdout, `evicting pod default/${pod?.metadata.name ?? ''}\n`);
  t.notMatch(result.stdout, 'drained');
  t.match(result.stderr, `error when waiting for pod "${pod?.metadata.name ?? ''}" in namespace "default" to terminate: global timeout reached: 1s`);
  t.ok((await client.get(pods, 'default', pod?.metadata.name ?? '')).metadata.deletionTimestamp, 'the pod was evicted (gracefully: it awaits its node)');

  const missing = await pm8s(server, ['drain', 'ghost']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'Error from server (NotFound): nodes "ghost" not found\n');
});
