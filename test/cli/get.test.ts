import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { deploymentYaml, pm8s, startTestServer, waitFor } from '../helpers/cli.js';
import { startTestCluster } from '../helpers/cluster.js';
import { workload } from '../helpers/workloads.js';

const configMaps = resolveResource('configmaps')!;
const namespaces = resolveResource('namespaces')!;
const deploymentsInfo = resolveResource('deployments')!;
const eventsInfo = resolveResource('events')!;
const configMap = (name: string, namespace = 'default', labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels },
  data: { a: '1' },
});

t.test('tables: Deployment columns, -o wide, -A, --show-labels, --no-headers, several kinds', async (t) => {
  const server = await startTestServer(t);
  const file = path.join(t.testdir(), 'web.yaml');
  await writeFile(file, deploymentYaml('web', { replicas: 3 }));
  t.equal((await pm8s(server, ['apply', '-f', file])).code, 0);

  const table = await pm8s(server, ['get', 'deployments']);
  t.equal(table.code, 0);
  const [header, row] = table.stdout.split('\n');
  t.same(header?.split(/\s+/), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
  t.match(row, /^web\s+0\/3\s+0\s+0\s+\d+s$/);

  const wide = await pm8s(server, ['get', 'deploy', '-o', 'wide']);
  t.same(wide.stdout.split('\n')[0]?.split(/\s+/), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
  t.match(wide.stdout.split('\n')[1], /app=web$/);

  await server.api.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await server.api.create(configMaps, 'other', configMap('remote', 'other', { tier: 'back' }));
  await server.api.create(configMaps, 'default', configMap('local', 'default', { tier: 'front' }));
  const all = await pm8s(server, ['get', 'cm', '-A', '--show-labels']);
  t.same(all.stdout.split('\n')[0]?.split(/\s+/), ['NAMESPACE', 'NAME', 'DATA', 'AGE', 'LABELS']);
  t.match(all.stdout, /\ndefault\s+local\s+1\s+\d+s\s+tier=front\n/);
  t.match(all.stdout, /\nother\s+remote\s+1\s+\d+s\s+tier=back\n/);

  const bare = await pm8s(server, ['get', 'cm', '--no-headers', '-l', 'tier=front']);
  t.match(bare.stdout, /^local\s+1\s+\d+s\n$/);

  const several = await pm8s(server, ['get', 'deploy,cm']);
  t.match(several.stdout, /^NAME\s+READY.*\ndeployment\.apps\/web\s+0\/3.*\n\nNAME\s+DATA\s+AGE\nconfigmap\/local\s+1/);

  const byName = await pm8s(server, ['get', 'deploy/web', 'cm/local']);
  t.match(byName.stdout, /deployment\.apps\/web/);
  t.match(byName.stdout, /configmap\/local/);

  const everything = await pm8s(server, ['get', 'all']);
  t.match(everything.stdout, /deployment\.apps\/web/);
});

t.test('empty lists, errors and unknown kinds', async (t) => {
  const server = await startTestServer(t);
  const empty = await pm8s(server, ['get', 'pods']);
  t.same(empty, { code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });
  const emptyAll = await pm8s(server, ['get', 'po', '-A']);
  t.same(emptyAll, { code: 0, stdout: '', stderr: 'No resources found\n' });
  const elsewhere = await pm8s(server, ['get', 'cm', '-n', 'kube-system']);
  t.equal(elsewhere.stderr, 'No resources found in kube-system namespace.\n');

  const missing = await pm8s(server, ['get', 'configmaps', 'nope']);
  t.same(missing, { code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "nope" not found\n' });
  const missingYaml = await pm8s(server, ['get', 'cm', 'nope', '-o', 'yaml']);
  t.same(missingYaml, { code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "nope" not found\n' });

  const unknown = await pm8s(server, ['get', 'widgets']);
  t.same(unknown, { code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "widgets"\n' });

  const nodes = await pm8s(server, ['get', 'no']);
  t.same(nodes, { code: 0, stdout: '', stderr: 'No resources found\n' }, 'cluster-scoped kinds name no namespace');
  const ns = await pm8s(server, ['get', 'ns', 'default']);
  t.match(ns.stdout, /^NAME\s+STATUS\s+AGE\ndefault\s+Active/);
});

t.test('-o yaml, -o json and -o name', async (t) => {
  const server = await startTestServer(t);
  await server.api.create(configMaps, 'default', configMap('one'));
  await server.api.create(configMaps, 'default', configMap('two'));

  const single = parse((await pm8s(server, ['get', 'cm', 'one', '-o', 'yaml'])).stdout) as KubeObject;
  t.equal(single.kind, 'ConfigMap');
  t.equal(single.metadata.name, 'one');

  const list = JSON.parse((await pm8s(server, ['get', 'cm', '-o', 'json'])).stdout) as { kind: string; apiVersion: string; items: KubeObject[]; metadata: unknown };
  t.equal(list.kind, 'List');
  t.equal(list.apiVersion, 'v1');
  t.same(list.metadata, { resourceVersion: '' });
  t.same(list.items.map((item) => [item.kind, item.apiVersion, item.metadata.name]), [['ConfigMap', 'v1', 'one'], ['ConfigMap', 'v1', 'two']]);

  const twoNames = parse((await pm8s(server, ['get', 'cm', 'one', 'two', '-o', 'yaml'])).stdout) as { kind: string; items: unknown[] };
  t.equal(twoNames.kind, 'List');
  t.equal(twoNames.items.length, 2);

  t.equal((await pm8s(server, ['get', 'cm', '-o', 'name'])).stdout, 'configmap/one\nconfigmap/two\n');
  t.equal((await pm8s(server, ['get', 'ns', 'default', '-o', 'name'])).stdout, 'namespace/default\n');
  t.equal((await pm8s(server, ['get', 'cm', '--field-selector', 'metadata.name=two', '-o', 'name'])).stdout, 'configmap/two\n');
});

t.test('get -w prints rows as changes happen', async (t) => {
  const server = await startTestServer(t);
  await server.api.create(configMaps, 'default', configMap('before'));
  let stdout = '';
  let stderr = '';
  const output: Output = { out: (text) => void (stdout += text), err: (text) => void (stderr += text) };
  const running = main(['node', 'pm8s', '--kubeconfig', server.kubeconfigPath, 'get', 'configmaps', '-w', '--request-timeout', '20s'], { output });
  await waitFor(() => stdout.includes('before'), { what: 'the initial table' });
  t.match(stdout, /^NAME\s+DATA\s+AGE\nbefore\s+1\s+\d+s\n$/);

  await server.api.create(configMaps, 'default', configMap('live'));
  await waitFor(() => /\nlive\s+1\s+/.test(stdout), { what: 'the ADDED row' });
  await server.api.patch(configMaps, 'default', 'live', 'application/merge-patch+json', { data: { a: '1', b: '2' } });
  await waitFor(() => /\nlive\s+2\s+/.test(stdout), { what: 'the MODIFIED row' });
  await server.api.delete(configMaps, 'default', 'live');
  await waitFor(() => stdout.split('\n').filter((line) => line.startsWith('live')).length === 3, { what: 'the DELETED row' });
  t.equal(stdout.split('\n').filter((line) => line.startsWith('NAME')).length, 1, 'one header');
  process.emit('SIGINT');
  t.equal(await running, 0);
  t.equal(stderr, '');
});

t.test('get -w --watch-only and a timeout end the watch', async (t) => {
  const server = await startTestServer(t);
  await server.api.create(configMaps, 'default', configMap('old'));
  const started = Date.now();
  const watching = pm8s(server, ['get', 'cm', '--watch-only', '--request-timeout', '1s']);
  const result = await watching;
  t.ok(Date.now() - started >= 900, 'ran until the timeout');
  t.same(result, { code: 0, stdout: '', stderr: '' }, 'existing objects are not printed');
});

t.test('get events: kubectl\'s columns, oldest first (a repeat moves an event last); get ev -w streams them', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {} } });
  await client.create(deploymentsInfo, 'default', workload('Deployment', 'web', { replicas: 1 }));
  await waitFor(async () => (await client.list(eventsInfo, 'default')).items.some((event) => event.reason === 'Scheduled'), { what: 'the Scheduled event', timeout: 15_000 });

  const listed = await pm8s(server, ['get', 'events']);
  t.equal(listed.code, 0);
  const [header, ...rows] = listed.stdout.trimEnd().split('\n');
  t.same(header?.split(/\s{2,}/), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  const reasons = rows.map((row) => row.split(/\s{2,}/)[2]);
  for (const reason of ['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']) t.ok(reasons.includes(reason), `a ${reason} event`);
  t.ok(reasons.indexOf('ScalingReplicaSet') < reasons.indexOf('SuccessfulCreate') && reasons.indexOf('SuccessfulCreate') < reasons.indexOf('Scheduled'), 'in the order they happened');
  t.match(listed.stdout, /\n\d+s\s+Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled up replica set web-\w+ to 1\n/);

  const hourAgo = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const event = (name: string, reason: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'ConfigMap', name: 'cm', namespace: 'default' },
    reason,
    message: `${reason} happened`,
    type: 'Warning',
    count: 1,
    firstTimestamp: hourAgo,
    lastTimestamp: hourAgo,
  });
  await client.create(eventsInfo, 'default', event('a-first', 'First'));
  await client.create(eventsInfo, 'default', event('b-second', 'Second'));
  await client.patch(eventsInfo, 'default', 'a-first', 'application/merge-patch+json', { count: 2, lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
  const repeated = (await pm8s(server, ['get', 'ev', '-o', 'wide'])).stdout.trimEnd().split('\n');
  t.match(repeated.at(-2), /^60m\s+Warning\s+Second\s+configmap\/cm\s+.*Second happened\s+60m\s+1\s+b-second$/);
  t.match(repeated.at(-1), /^\d+s\s+Warning\s+First\s+configmap\/cm\s+.*First happened\s+60m\s+2\s+a-first$/, 'the repeated event is the newest, last seen now');

  let stdout = '';
  const output: Output = { out: (text) => void (stdout += text), err: () => undefined };
  const watching = main(['node', 'pm8s', '--kubeconfig', server.kubeconfigPath, 'get', 'ev', '-w', '--request-timeout', '3s'], { output });
  await waitFor(() => stdout.includes('First happened'), { what: 'the listed events' });
  t.match(stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
  await client.create(eventsInfo, 'default', event('c-live', 'Live'));
  await waitFor(() => stdout.includes('Live happened'), { what: 'the streamed event' });
  t.equal(await watching, 0);
  t.match(stdout, /\n60m\s+Warning\s+Live\s+configmap\/cm\s+Live happened\n$/, 'streamed with the columns of the table above');
});
