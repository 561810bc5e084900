/**
 * The node API's `/stats/summary` on a real one-node cluster: a busy-looping pod shows CPU and
 * memory, an idle one next to nothing, the node its own totals — measured by cgroups, and by
 * process (pidusage) where cgroups are off.
 */
import https from 'node:https';
import t, { type Test } from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { loadKubeconfig, resolveContextWithFiles } from '../../../src/client/kubeconfig.js';
import { createStatsHandler, type PodStats, type Summary } from '../../../src/daemon/agent/node-api-stats.js';
import { nodeEndpoint } from '../../../src/daemon/server/api/node-proxy.js';
import { NoneDriver } from '../../../src/runtime/cgroups/none-driver.js';
import { phaseOf, startAgentCluster, type AgentCluster } from '../../helpers/agent-cluster.js';

const nodes = resolveResource('nodes')!;

async function summaryOf(cluster: AgentCluster): Promise<Summary> {
  const target = nodeEndpoint(await cluster.client.get(nodes, undefined, cluster.nodeName));
  const context = await resolveContextWithFiles(await loadKubeconfig(cluster.server.kubeconfigPath));
  return new Promise((resolve, reject) => {
    const request = https.get({ host: target.host, port: target.port, ca: target.caPem, path: '/stats/summary', headers: { authorization: `Bearer ${context.token}` }, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(text) as Summary) : reject(new Error(`${response.statusCode}: ${text}`))));
    });
    request.on('error', reject);
  });
}

const podStats = (summary: Summary, name: string): PodStats | undefined => summary.pods.find((pod) => pod.podRef.name === name);

async function busyAndIdle(t: Test, cluster: AgentCluster): Promise<void> {
  await cluster.createPod('busy', { containers: [{ name: 'spin', command: ['sh', '-c', 'while :; do :; done'] }] });
  await cluster.createPod('idle', { containers: [{ name: 'nap', command: ['sleep', '1000'] }] });
  for (const name of ['busy', 'idle']) await cluster.waitForPod(name, (pod) => phaseOf(pod) === 'Running', 'Running');

  const first = await summaryOf(cluster);
  t.equal(first.node.nodeName, cluster.nodeName);
  t.ok(first.node.cpu.usageCoreNanoSeconds > 0 && first.node.cpu.usageNanoCores > 0, `node CPU ${first.node.cpu.usageNanoCores}n`);
  t.ok(first.node.memory.workingSetBytes > 0 && (first.node.memory.availableBytes ?? 0) > 0, 'node memory');
  const busy = podStats(first, 'busy');
  t.match(busy, { podRef: { name: 'busy', namespace: 'default' }, containers: [{ name: 'spin' }] });
  // A busy loop uses about one core; anything above 10m shows the rate is measured, not guessed.
  t.ok((busy?.cpu.usageNanoCores ?? 0) > 10_000_000, `busy pod CPU ${busy?.cpu.usageNanoCores}n on the first request (two samples)`);
  t.ok((busy?.memory.workingSetBytes ?? 0) > 0, `busy pod memory ${busy?.memory.workingSetBytes}`);
  t.equal(busy?.cpu.usageNanoCores, busy?.containers[0]?.cpu.usageNanoCores, 'the pod is the sum of its containers');
  const idle = podStats(first, 'idle');
  t.ok(idle !== undefined && idle.cpu.usageNanoCores < (busy?.cpu.usageNanoCores ?? 0) / 4, `idle pod CPU ${idle?.cpu.usageNanoCores}n is far below the busy one's`);

  await new Promise((resolve) => setTimeout(resolve, 300));
  const second = await summaryOf(cluster);
  const again = podStats(second, 'busy');
  t.ok((again?.cpu.usageCoreNanoSeconds ?? 0) > (busy?.cpu.usageCoreNanoSeconds ?? 0), 'cumulative CPU grows');
  t.ok((again?.cpu.windowNanoSeconds ?? 0) >= 250_000_000, `the next rate spans the time since the last request (${again?.cpu.windowNanoSeconds} ns)`);
  t.ok((again?.cpu.usageNanoCores ?? 0) > 10_000_000, 'still busy');
}

t.test('pods measured by their cgroups', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { stats: createStatsHandler() } } });
  if (cluster.driver.kind === 'none') t.comment(`no cgroups here (${cluster.driver.reason}): measured by process instead`);
  await busyAndIdle(t, cluster);
});

t.test('pods measured by their processes where cgroups are off', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { stats: createStatsHandler() }, driver: new NoneDriver('cgroups switched off for this test') } });
  await busyAndIdle(t, cluster);
});
