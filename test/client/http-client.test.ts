import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../../src/api/errors.js';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../src/api/types.js';
import { ConnectionError, HttpClient } from '../../src/client/http-client.js';
import { buildKubeconfig, loadKubeconfig, writeKubeconfig } from '../../src/client/kubeconfig.js';
import { startServer, type RunningServer } from '../../src/daemon/server/server.js';
import { silentLogger } from '../../src/lib/logger.js';

const configMaps = resolveResource('configmaps')!;
const deployments = resolveResource('deployments')!;
const namespaces = resolveResource('namespaces')!;

interface Teardown {
  teardown(fn: () => unknown): void;
}

async function setup(t: Teardown): Promise<{ server: RunningServer; client: HttpClient }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pm8s-http-'));
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger: silentLogger, version: 'test', controllers: false });
  const client = await HttpClient.fromKubeconfig({ kubeconfig: server.kubeconfigPath });
  t.teardown(async () => {
    client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { server, client };
}

const configMap = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

t.test('create, get, list, update, patch, delete over HTTPS with the pinned CA', async (t) => {
  const { server, client } = await setup(t);
  t.equal(client.namespace, 'default');
  const created = await client.create(configMaps, 'default', configMap('one', { a: '1' }));
  t.equal(created.metadata.namespace, 'default');
  t.ok(created.metadata.uid);
  t.same((await client.get(configMaps, 'default', 'one')).data, { a: '1' });

  const list = await client.list(configMaps, 'default');
  t.equal(list.items.length, 1);
  t.match(list.metadata.resourceVersion, /^\d+$/);
  t.equal((await client.list(configMaps, undefined)).items.length, 1, 'all namespaces');
  t.equal((await client.list(configMaps, 'default', { labelSelector: 'x=y' })).items.length, 0);
  t.ok((await client.list(namespaces, undefined)).items.some((item) => item.metadata.name === 'kube-system'), 'cluster-scoped list');

  const updated = await client.update(configMaps, 'default', { ...created, data: { a: '2' } });
  t.same(updated.data, { a: '2' });
  const stale = await client.update(configMaps, 'default', { ...created, data: { a: '3' } }).catch((error: unknown) => error);
  t.ok(stale instanceof ApiError);
  t.match(stale, { code: 409, reason: 'Conflict' });

  const patched = await client.patch(configMaps, 'default', 'one', 'application/merge-patch+json', { data: { b: '2' } });
  t.same(patched.data, { a: '2', b: '2' });

  const dry = await client.create(configMaps, 'default', configMap('two'), { dryRun: true });
  t.equal(dry.metadata.name, 'two');
  const missing = await client.get(configMaps, 'default', 'two').catch((error: unknown) => error);
  t.match(missing, { code: 404, reason: 'NotFound', message: 'configmaps "two" not found', details: { name: 'two', kind: 'configmaps' } });

  const revision = await server.engine.currentRevision();
  await client.delete(configMaps, 'default', 'one', { dryRun: true });
  t.equal(await server.engine.currentRevision(), revision, 'dry-run delete writes nothing');
  // The policy reaches the server: Foreground leaves the finalizer the garbage collector (not running here) would remove.
  const marked = await client.delete(configMaps, 'default', 'one', { propagationPolicy: 'Foreground' });
  t.same(marked.metadata.finalizers, ['foregroundDeletion']);
  t.ok(marked.metadata.deletionTimestamp);
  await client.patch(configMaps, 'default', 'one', 'application/merge-patch+json', { metadata: { finalizers: null } });
  t.match(await client.get(configMaps, 'default', 'one').catch((error: unknown) => error), { code: 404 });
});

t.test('error Statuses keep their code, reason and details', async (t) => {
  const { client } = await setup(t);
  const invalid = await client
    .create(deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: -1 } })
    .catch((error: unknown) => error);
  t.ok(invalid instanceof ApiError);
  const error = invalid as ApiError;
  t.equal(error.code, 422);
  t.equal(error.reason, 'Invalid');
  t.equal(error.details?.kind, 'Deployment');
  t.ok(error.details?.causes?.some((cause) => cause.field === 'spec.replicas'));
  const badPatch = await client.patch(configMaps, 'default', 'nope', 'application/json-patch+json', { not: 'an array' }).catch((caught: unknown) => caught);
  t.match(badPatch, { code: 404 });
});

t.test('requestTable returns the server Table for lists and single objects', async (t) => {
  const { client } = await setup(t);
  await client.create(configMaps, 'default', configMap('one', { a: '1' }));
  const table = await client.requestTable(configMaps, 'default', undefined);
  t.equal(table.kind, 'Table');
  t.same(table.columnDefinitions.map((column) => column.name), ['Name', 'Data', 'Age']);
  t.equal(table.rows[0]?.cells[0], 'one');
  t.match(table.metadata.resourceVersion, /^\d+$/);
  const single = await client.requestTable(configMaps, 'default', 'one');
  t.equal(single.rows.length, 1);
});

t.test('watch delivers events in order from a resourceVersion, and stops', async (t) => {
  const { client } = await setup(t);
  const start = await client.list(configMaps, 'default');
  const events: WatchEvent[] = [];
  const handle = await client.watch(configMaps, 'default', { resourceVersion: start.metadata.resourceVersion }, (event) => events.push(event));
  await client.create(configMaps, 'default', configMap('w'));
  await client.patch(configMaps, 'default', 'w', 'application/merge-patch+json', { data: { x: '1' } });
  await client.delete(configMaps, 'default', 'w');
  const deadline = Date.now() + 5000;
  while (events.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(events.map((event) => [event.type, event.object.metadata.name]), [['ADDED', 'w'], ['MODIFIED', 'w'], ['DELETED', 'w']]);
  handle.stop();
  await handle.done;

  const tables: unknown[] = [];
  const tableWatch = await client.watchTable(configMaps, 'default', { resourceVersion: (await client.list(configMaps, 'default')).metadata.resourceVersion }, (event) => tables.push(event.object));
  await client.create(configMaps, 'default', configMap('t'));
  const until = Date.now() + 5000;
  while (tables.length < 1 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  t.match(tables[0], { kind: 'Table', rows: [{ cells: ['t'] }] });
  tableWatch.stop();
  await tableWatch.done;
});

t.test('a watch survives idle keep-alive lines; the server stopping ends it', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pm8s-http-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger: silentLogger, version: 'test', watchHeartbeatMs: 20 });
  const client = await HttpClient.fromKubeconfig({ kubeconfig: server.kubeconfigPath });
  t.teardown(() => client.close());
  const events: WatchEvent[] = [];
  const handle = await client.watch(configMaps, 'default', { resourceVersion: (await client.list(configMaps, 'default')).metadata.resourceVersion }, (event) => events.push(event));
  await new Promise((resolve) => setTimeout(resolve, 150));
  await client.create(configMaps, 'default', configMap('after-idle'));
  const deadline = Date.now() + 5000;
  while (events.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(events[0]?.object.metadata.name, 'after-idle');
  await server.stop();
  await handle.done.then(
    () => t.pass('the stream ended cleanly'),
    (error: unknown) => t.ok(error instanceof ConnectionError, 'a cut stream is a ConnectionError'),
  );
});

t.test('connection failures and certificate mistakes are clear errors', async (t) => {
  const refused = new HttpClient({ server: 'https://127.0.0.1:1', token: 'x' });
  t.teardown(() => refused.close());
  const error = await refused.get(configMaps, 'default', 'x').catch((caught: unknown) => caught);
  t.ok(error instanceof ConnectionError);
  t.equal((error as ConnectionError).code, 'ConnectionFailed');
  t.match((error as Error).message, /^Unable to connect to the server: https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);

  const { server } = await setup(t);
  const unpinned = new HttpClient({ server: server.url, token: 'x' });
  t.teardown(() => unpinned.close());
  const untrusted = await unpinned.list(configMaps, 'default').catch((caught: unknown) => caught);
  t.ok(untrusted instanceof ConnectionError, 'a certificate not signed by a trusted CA is refused');

  const insecure = new HttpClient({ server: server.url, token: 'wrong', insecureSkipTlsVerify: true });
  t.teardown(() => insecure.close());
  t.match(await insecure.list(configMaps, 'default').catch((caught: unknown) => caught), { code: 401, reason: 'Unauthorized' });
});

t.test('fromKubeconfig takes the context namespace and rejects unknown contexts', async (t) => {
  const { server } = await setup(t);
  const file = path.join(t.testdir(), 'config');
  const admin = await loadKubeconfig(server.kubeconfigPath);
  const token = admin.users[0]?.user.token ?? '';
  const config = buildKubeconfig({ server: server.url, token, caPem: Buffer.from(admin.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString() });
  config.contexts[0]!.context.namespace = 'kube-system';
  await writeKubeconfig(file, config);
  const client = await HttpClient.fromKubeconfig({ kubeconfig: file });
  t.teardown(() => client.close());
  t.equal(client.namespace, 'kube-system');
  await client.create(configMaps, undefined, configMap('here'));
  t.equal((await client.get(configMaps, undefined, 'here')).metadata.namespace, 'kube-system');
  await t.rejects(HttpClient.fromKubeconfig({ kubeconfig: file, context: 'nope' }), { code: 'ContextNotFound' });
});

t.test('bind sets a pod\'s node once over pods/binding; a second bind is a 409', async (t) => {
  const { client } = await setup(t);
  const pods = resolveResource('pods')!;
  await client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'worker' }, spec: { containers: [{ name: 'main', command: ['sleep', '60'] }] } });
  await client.bind(pods, 'default', 'worker', 'node-a');
  t.equal(((await client.get(pods, 'default', 'worker')).spec as { nodeName?: string }).nodeName, 'node-a');
  t.match(await client.bind(pods, 'default', 'worker', 'node-b').catch((error: unknown) => error), { code: 409, reason: 'Conflict' });
});
