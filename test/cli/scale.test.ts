import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import { pm8s, waitFor } from '../helpers/cli.js';
import { startTestCluster } from '../helpers/cluster.js';
import { workload } from '../helpers/workloads.js';

const deployments = resolveResource('deployments')!;
const replicaSets = resolveResource('replicasets')!;
const statefulSets = resolveResource('statefulsets')!;
const pods = resolveResource('pods')!;
const configMaps = resolveResource('configmaps')!;

const replicasOf = (object: { spec?: unknown }): unknown => (object.spec as { replicas?: number }).replicas;

t.test('scale sets spec.replicas through the scale subresource; the controller follows', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {}, n2: {} } });
  await client.create(replicaSets, 'default', workload('ReplicaSet', 'front', { replicas: 1 }));
  await client.create(deployments, 'default', workload('Deployment', 'web', { replicas: 1 }));
  await client.create(statefulSets, 'default', workload('StatefulSet', 'db', { replicas: 1 }));

  const scaled = await pm8s(server, ['scale', 'rs/front', '--replicas', '3']);
  t.same(scaled, { code: 0, stdout: 'replicaset.apps/front scaled\n', stderr: '' });
  t.equal(replicasOf(await client.get(replicaSets, 'default', 'front')), 3);
  await waitFor(async () => (await client.list(pods, 'default', { labelSelector: 'app=front' })).items.filter((pod) => (pod.spec as { nodeName?: string }).nodeName).length === 3, {
    what: 'three bound front pods',
  });

  const both = await pm8s(server, ['scale', 'deployment', 'web', '--replicas', '0']);
  t.same(both, { code: 0, stdout: 'deployment.apps/web scaled\n', stderr: '' }, 'KIND NAME form, to zero');
  t.equal(replicasOf(await client.get(deployments, 'default', 'web')), 0);

  const several = await pm8s(server, ['scale', 'sts/db', 'deploy/web', '--replicas=2']);
  t.equal(several.stdout, 'statefulset.apps/db scaled\ndeployment.apps/web scaled\n');
  t.equal(replicasOf(await client.get(statefulSets, 'default', 'db')), 2);
  t.equal(replicasOf(await client.get(deployments, 'default', 'web')), 2);
});

t.test('--current-replicas is a precondition; usage errors', async (t) => {
  const { server, client } = await startTestCluster(t);
  await client.create(deployments, 'default', workload('Deployment', 'web', { replicas: 2 }));
  const before = (await client.get(deployments, 'default', 'web')).metadata.generation;

  const mismatch = await pm8s(server, ['scale', 'deploy/web', '--replicas', '5', '--current-replicas', '3']);
  t.equal(mismatch.code, 1);
  t.equal(mismatch.stderr, 'error: Expected replicas to be 3, was 2\n');
  const untouched = await client.get(deployments, 'default', 'web');
  t.equal(untouched.metadata.generation, before, 'the spec was not written');
  t.equal(replicasOf(untouched), 2);

  const match = await pm8s(server, ['scale', 'deploy/web', '--replicas', '5', '--current-replicas', '2']);
  t.equal(match.code, 0);
  t.equal(replicasOf(await client.get(deployments, 'default', 'web')), 5);

  const noCount = await pm8s(server, ['scale', 'deploy/web']);
  t.equal(noCount.code, 1);
  t.match(noCount.stderr, 'The --replicas=COUNT flag is required');
  const negative = await pm8s(server, ['scale', 'deploy/web', '--replicas', '-1']);
  t.equal(negative.code, 1);
  t.match(negative.stderr, 'must be greater than or equal to 0');

  await client.create(configMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
  const notScalable = await pm8s(server, ['scale', 'cm/cm', '--replicas', '1']);
  t.equal(notScalable.code, 1);
  t.match(notScalable.stderr, /^error: configmaps cannot be scaled/);

  const missing = await pm8s(server, ['scale', 'deploy/nope', '--replicas', '1']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'Error from server (NotFound): deployments.apps "nope" not found\n');

  const noName = await pm8s(server, ['scale', 'deploy', '--replicas', '1']);
  t.equal(noName.code, 1);
  t.match(noName.stderr, 'no name was specified');
});
