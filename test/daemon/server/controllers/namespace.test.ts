import t from 'tap';
import type { ApiError } from '../../../../src/api/errors.js';
import { RESOURCES, resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';
import { workload } from '../../../helpers/workloads.js';

const namespaces = resolveResource('namespaces')!;
const configMaps = resolveResource('configmaps')!;
const secrets = resolveResource('secrets')!;
const services = resolveResource('services')!;
const pods = resolveResource('pods')!;
const deployments = resolveResource('deployments')!;

const namespaceObject = (name: string, metadata: Partial<KubeObject['metadata']> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...metadata } });
const inNamespace = (object: KubeObject, namespace: string): KubeObject => ({ ...object, metadata: { ...object.metadata, namespace } });

async function find(client: InProcessClient, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get(namespaces, undefined, name);
  } catch (error) {
    if ((error as ApiError).code === 404) return undefined;
    throw error;
  }
}

/** Every object of every namespaced kind in the namespace, as `kind/name`. */
async function contents(client: InProcessClient, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const info of RESOURCES.filter((resource) => resource.namespaced)) {
    for (const item of (await client.list(info, namespace)).items) found.push(`${info.kind}/${item.metadata.name}`);
  }
  return found.sort();
}

t.test('namespace deletion', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { 'node-a': {} } });

  t.test('everything inside goes through the API (finalizers respected), then the namespace', async (t) => {
    const created = await client.create(namespaces, undefined, namespaceObject('team'));
    t.same(created.spec, { finalizers: ['kubernetes'] }, 'a new namespace carries the kubernetes finalizer');
    await client.create(configMaps, 'team', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team' } });
    await client.create(configMaps, 'team', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'team', finalizers: ['example.com/hold'] } });
    await client.create(secrets, 'team', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'team' } });
    await client.create(services, 'team', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'team' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    await client.create(deployments, 'team', inNamespace(workload('Deployment', 'web', { replicas: 2 }), 'team'));
    await waitFor(
      async () => (await client.list(pods, 'team', { labelSelector: 'app=web' })).items.filter((pod) => (pod.status as { phase?: string } | undefined)?.phase === 'Running').length === 2,
      { what: 'the pods to run' },
    );

    const marked = await client.delete(namespaces, undefined, 'team');
    t.ok(marked.metadata.deletionTimestamp, 'the namespace is marked');
    t.match(marked.status, { phase: 'Terminating' });
    const refused = await client.create(configMaps, 'team', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'team' } }).catch((error: unknown) => error as ApiError);
    t.match(refused, { code: 403, reason: 'Forbidden' }, 'nothing new in a terminating namespace');

    // Everything goes but the object its own finalizer holds; that one holds the namespace.
    await waitFor(async () => (await contents(client, 'team')).join() === 'ConfigMap/held', { what: 'the contents to be deleted', timeout: 15_000 });
    const held = await client.get(configMaps, 'team', 'held');
    t.ok(held.metadata.deletionTimestamp, 'the held object was deleted through the API, not removed behind it');
    const waiting = await find(client, 'team');
    t.ok(waiting, 'the namespace waits for it');
    t.same(waiting?.spec, { finalizers: ['kubernetes'] });

    await client.patch(configMaps, 'team', 'held', 'application/merge-patch+json', { metadata: { finalizers: null } });
    await waitFor(async () => !(await find(client, 'team')), { what: 'the namespace to go', timeout: 15_000 });
    t.same(await contents(client, 'team'), [], 'nothing is left behind');

    const again = await client.create(namespaces, undefined, namespaceObject('team'));
    t.match(again.status, { phase: 'Active' }, 'the name can be used again');
    t.same(await contents(client, 'team'), []);
  });

  t.test("an empty namespace goes at once; the namespace's own finalizers still hold it", async (t) => {
    await client.create(namespaces, undefined, namespaceObject('empty'));
    await client.delete(namespaces, undefined, 'empty');
    await waitFor(async () => !(await find(client, 'empty')), { what: 'the empty namespace to go' });

    await client.create(namespaces, undefined, namespaceObject('guarded', { finalizers: ['example.com/guard'] }));
    await client.create(configMaps, 'guarded', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'guarded' } });
    await client.delete(namespaces, undefined, 'guarded');
    const finalized = await waitFor(
      async () => {
        const namespace = await find(client, 'guarded');
        return namespace && (namespace.spec as { finalizers?: string[] } | undefined)?.finalizers?.length === 0 ? namespace : undefined;
      },
      { what: 'the namespace controller to finish' },
    );
    t.same(await contents(client, 'guarded'), [], 'emptied');
    t.same(finalized.metadata.finalizers, ['example.com/guard'], 'kept by its metadata finalizer');
    await client.patch(namespaces, undefined, 'guarded', 'application/merge-patch+json', { metadata: { finalizers: null } });
    await waitFor(async () => !(await find(client, 'guarded')), { what: 'the namespace to go with its last finalizer' });
  });

  t.test('the system namespaces cannot be deleted', async (t) => {
    for (const name of ['default', 'kube-system', 'kube-node-lease', 'kube-public']) {
      const error = await client.delete(namespaces, undefined, name).catch((caught: unknown) => caught as ApiError);
      t.match(error, { code: 403, reason: 'Forbidden' }, name);
    }
    t.notOk((await client.get(namespaces, undefined, 'default')).metadata.deletionTimestamp);
  });
});
