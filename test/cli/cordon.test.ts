import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import { pm8s, waitFor } from '../helpers/cli.js';
import { startTestCluster } from '../helpers/cluster.js';
import { barePod } from '../helpers/workloads.js';

const nodes = resolveResource('nodes')!;
const pods = resolveResource('pods')!;

t.test('cordon sets spec.unschedulable (the scheduler then avoids the node); uncordon clears it', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {}, n2: { labels: { zone: 'b' } } } });
  const unschedulable = async (name: string) => (await client.get(nodes, undefined, name)).spec as { unschedulable?: boolean };

  const cordoned = await pm8s(server, ['cordon', 'n1']);
  t.same(cordoned, { code: 0, stdout: 'node/n1 cordoned\n', stderr: '' });
  t.equal((await unschedulable('n1')).unschedulable, true);
  t.same(await pm8s(server, ['cordon', 'n1']), { code: 0, stdout: 'node/n1 already cordoned\n', stderr: '' });

  await client.create(pods, 'default', barePod('placed'));
  const placed = await waitFor(async () => ((await client.get(pods, 'default', 'placed')).spec as { nodeName?: string }).nodeName, { what: 'the pod bound' });
  t.equal(placed, 'n2', 'the scheduler skips the cordoned node');

  t.same(await pm8s(server, ['uncordon', 'n1']), { code: 0, stdout: 'node/n1 uncordoned\n', stderr: '' });
  t.notOk('unschedulable' in (await unschedulable('n1')), 'uncordon removes the field, as kubectl does');
  t.same(await pm8s(server, ['uncordon', 'n1']), { code: 0, stdout: 'node/n1 already uncordoned\n', stderr: '' });

  const bySelector = await pm8s(server, ['cordon', '-l', 'zone=b']);
  t.equal(bySelector.stdout, 'node/n2 cordoned\n');
  t.equal((await unschedulable('n2')).unschedulable, true);
  t.notOk((await unschedulable('n1')).unschedulable, 'n1 not selected');
});

t.test('cordon errors: a missing node, no node at all, a name and a selector', async (t) => {
  const { server } = await startTestCluster(t, { nodes: { n1: {} } });
  const missing = await pm8s(server, ['cordon', 'n1', 'ghost']);
  t.equal(missing.code, 1);
  t.equal(missing.stdout, 'node/n1 cordoned\n', 'the existing node is still cordoned');
  t.equal(missing.stderr, 'Error from server (NotFound): nodes "ghost" not found\n');
  const none = await pm8s(server, ['uncordon']);
  t.equal(none.code, 1);
  t.match(none.stderr, /^error: You must provide one or more resources/);
  const both = await pm8s(server, ['cordon', 'n1', '-l', 'a=b']);
  t.equal(both.code, 1);
  t.match(both.stderr, 'cannot specify both a node name and a --selector option');
});
