/**
 * `pm8s top pods|nodes` through the real CLI, over HTTPS to a real server that asks a real
 * agent for its usage stats: a busy-looping pod shows its CPU, columns as kubectl prints them.
 */
import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import { createStatsHandler } from '../../src/daemon/agent/node-api-stats.js';
import { phaseOf, startAgentCluster } from '../helpers/agent-cluster.js';
import { pm8s } from '../helpers/cli.js';

const row = (stdout: string, name: string): string[] | undefined =>
  stdout
    .split('\n')
    .map((line) => line.split(/\s+/))
    .find((cells) => cells.includes(name));

t.test('top pods and top nodes', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { stats: createStatsHandler() } } });
  await cluster.client.create(resolveResource('namespaces')!, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await cluster.createPod('busy', { containers: [{ name: 'spin', command: ['sh', '-c', 'while :; do :; done'] }] });
  await cluster.createPod('idle', { containers: [{ name: 'nap', command: ['sleep', '1000'] }, { name: 'nap2', command: ['sleep', '1000'] }] });
  await cluster.createPod('elsewhere', { containers: [{ name: 'nap', command: ['sleep', '1000'] }] }, 'other');
  await cluster.waitForPod('busy', (pod) => phaseOf(pod) === 'Running', 'Running');
  await cluster.waitForPod('idle', (pod) => phaseOf(pod) === 'Running', 'Running');
  await cluster.waitForPod('elsewhere', (pod) => phaseOf(pod) === 'Running', 'Running', 20_000, 'other');

  const pods = await pm8s(cluster.server, ['top', 'pods']);
  t.equal(pods.code, 0, pods.stderr);
  t.match(pods.stdout, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\n/);
  const busy = row(pods.stdout, 'busy');
  t.match(busy, ['busy', /^\d+m$/, /^\d+Mi$/]);
  t.ok(Number.parseInt(busy?.[1] ?? '0', 10) > 10, `busy pod uses CPU: ${busy?.[1]}`);
  t.ok(row(pods.stdout, 'idle') !== undefined && row(pods.stdout, 'elsewhere') === undefined, 'this namespace only');

  const all = await pm8s(cluster.server, ['top', 'pods', '-A', '--sort-by', 'cpu']);
  t.match(all.stdout, /^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\ndefault\s+busy\s/, 'all namespaces, busiest first');
  t.match(row(all.stdout, 'elsewhere'), ['other', 'elsewhere']);

  const selected = await pm8s(cluster.server, ['top', 'pods', '-l', 'nothing=here']);
  t.same(selected, { code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });

  const containers = await pm8s(cluster.server, ['top', 'pod', 'idle', '--containers', '--no-headers']);
  t.match(containers.stdout, /^idle\s+nap\s+\d+m\s+\d+Mi\nidle\s+nap2\s+\d+m\s+\d+Mi\n$/, 'one line per container');

  const missing = await pm8s(cluster.server, ['top', 'pod', 'ghost']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /podmetrics.metrics.k8s.io "default\/ghost" not found/);

  const nodes = await pm8s(cluster.server, ['top', 'nodes']);
  t.equal(nodes.code, 0, nodes.stderr);
  t.match(nodes.stdout, /^NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\(bytes\)\s+MEMORY%\n/);
  t.match(row(nodes.stdout, cluster.nodeName), [cluster.nodeName, /^\d+m$/, /^\d+%$/, /^\d+Mi$/, /^\d+%$/]);
  t.ok(Number.parseInt(row(nodes.stdout, cluster.nodeName)?.[1] ?? '0', 10) > 10, 'the node is busy too');
});
