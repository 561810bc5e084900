/**
 * @kubernetes/client-node 1.4.0 against a real `pm8s server` over HTTPS, loading the client config
 * the server generates: typed calls, errors, Watch, an informer and the generic object API.
 * See /work/shared/KUBECTL-PROTOCOL.md §10 for what this client sends.
 */
import * as k8s from '@kubernetes/client-node';
import t from 'tap';
import type { Test } from 'tap';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const namespace = 'default';

function clientConfig(server: TestServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  return kc;
}

/** The ApiException the promise rejects with; fails the test when it resolves. */
async function apiError(t: Test, promise: Promise<unknown>, what: string): Promise<k8s.ApiException<string> | undefined> {
  try {
    await promise;
  } catch (error) {
    t.type(error, k8s.ApiException, `${what}: rejects with an ApiException`);
    return error as k8s.ApiException<string>;
  }
  t.fail(`${what}: expected an ApiException, but it resolved`);
  return undefined;
}

function deployment(name: string, replicas: number): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', command: ['sleep', '3600'], env: [{ name: 'MODE', value: 'one' }] }] },
      },
    },
  };
}

t.test('client-node 1.4.0 over HTTPS with the generated kubeconfig', async (t) => {
  const server = await startTestServer(t);
  const kc = clientConfig(server);
  t.equal(kc.getCurrentCluster()?.server, server.url, 'the kubeconfig names the server');
  t.match(kc.getCurrentCluster()?.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);

  await t.test('lists namespaces and reads /version', async (t) => {
    const list = await core.listNamespace();
    const names = list.items.map((item) => item.metadata?.name);
    for (const name of ['default', 'kube-system', 'kube-node-lease']) t.ok(names.includes(name), `${name} is listed`);
    t.equal(list.items.find((item) => item.metadata?.name === 'default')?.status?.phase, 'Active');
    t.match(list.metadata?.resourceVersion, /^\d+$/, 'the list has a resourceVersion');
    t.type(list.items[0]?.metadata?.creationTimestamp, Date, 'creationTimestamp parses as a Date (RFC 3339)');
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    t.equal(version.major, '1');
    t.equal(version.minor, '32');
  });

  await t.test('ConfigMaps: Watch sees ADDED, MODIFIED and DELETED for create, replace and delete', async (t) => {
    const events: Array<{ type: string; name: string | undefined; data: Record<string, string> | undefined }> = [];
    let ended: unknown = 'open';
    const controller = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type, object: k8s.V1ConfigMap) => events.push({ type, name: object.metadata?.name, data: object.data }),
      (error) => (ended = error),
    );
    t.teardown(() => controller.abort());
    t.equal(ended, 'open', 'the watch is open once its headers arrive');

    const created = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-settings' }, data: { mode: 'one' } } });
    t.equal(created.metadata?.name, 'cn-settings');
    t.match(created.metadata?.uid, /^[0-9a-f-]{36}$/);
    t.equal(created.metadata?.namespace, namespace);

    const conflict = await apiError(t, core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-settings' } } }), 'creating it twice');
    t.equal(conflict?.code, 409);
    t.match(JSON.parse(conflict?.body ?? '{}'), { kind: 'Status', reason: 'AlreadyExists', code: 409 });

    const read = await core.readNamespacedConfigMap({ name: 'cn-settings', namespace });
    t.same(read.data, { mode: 'one' });
    const replaced = await core.replaceNamespacedConfigMap({ name: 'cn-settings', namespace, body: { ...read, data: { mode: 'two' } } });
    t.same(replaced.data, { mode: 'two' });
    t.not(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion, 'a new resourceVersion');

    const stale = await apiError(t, core.replaceNamespacedConfigMap({ name: 'cn-settings', namespace, body: { ...read, data: { mode: 'three' } } }), 'a stale replace');
    t.equal(stale?.code, 409, 'replacing from a stale resourceVersion is a Conflict');

    await core.deleteNamespacedConfigMap({ name: 'cn-settings', namespace });
    const gone = await apiError(t, core.readNamespacedConfigMap({ name: 'cn-settings', namespace }), 'reading it after delete');
    t.equal(gone?.code, 404);

    const mine = () => events.filter((event) => event.name === 'cn-settings');
    await waitFor(() => mine().length >= 3, { what: 'three watch events' });
    t.same(
      mine().map((event) => [event.type, event.data?.mode]),
      [
        ['ADDED', 'one'],
        ['MODIFIED', 'two'],
        ['DELETED', 'two'],
      ],
    );
    t.equal(ended, 'open', 'the watch is still open');
  });

  await t.test('an informer lists, then sees an add and an update', async (t) => {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-before' }, data: { at: 'start' } } });
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace }));
    const added: string[] = [];
    const updated: string[] = [];
    informer.on('add', (object) => added.push(object.metadata?.name ?? ''));
    informer.on('update', (object) => updated.push(object.metadata?.name ?? ''));
    const errors: unknown[] = [];
    informer.on('error', (error) => errors.push(error));
    t.teardown(() => informer.stop());
    await informer.start();
    await waitFor(() => added.includes('cn-before'), { what: 'the listed object' });

    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cn-later' }, data: { at: 'later' } } });
    await waitFor(() => added.includes('cn-later'), { what: 'the add of a new object' });
    await core.patchNamespacedConfigMap(
      { name: 'cn-later', namespace, body: { data: { at: 'patched' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor(() => informer.get('cn-later', namespace)?.data?.at === 'patched', { what: 'the cache to hold the patched object' });
    t.ok(updated.includes('cn-later'), 'update fired');
    t.same(errors, [], 'no informer errors');
    t.same(
      informer
        .list(namespace)
        .map((object) => object.metadata?.name)
        .sort(),
      ['cn-before', 'cn-later'],
    );
  });

  await t.test('Deployments: create, JSON patch (the default), strategic merge via KubernetesObjectApi, delete', async (t) => {
    const created = await apps.createNamespacedDeployment({ namespace, body: deployment('cn-web', 1) });
    t.equal(created.metadata?.generation, 1);
    t.equal(created.spec?.replicas, 1);

    const patched = await apps.patchNamespacedDeployment({ name: 'cn-web', namespace, body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] });
    t.equal(patched.spec?.replicas, 2, 'JSON patch applied');
    t.equal(patched.metadata?.generation, 2);

    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    // KubernetesObjectApi.patch sends a strategic merge patch by default.
    const partial: k8s.KubernetesObject & { spec: unknown } = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cn-web', namespace, labels: { tier: 'front' } },
      spec: { template: { spec: { containers: [{ name: 'main', env: [{ name: 'EXTRA', value: 'yes' }] }] } } },
    };
    const merged = (await objects.patch(partial)) as k8s.V1Deployment;
    t.same(merged.metadata?.labels, { app: 'cn-web', tier: 'front' }, 'labels merged');
    const container = merged.spec?.template.spec?.containers[0];
    t.same(container?.command, ['sleep', '3600'], 'containers merged by name: command kept');
    t.same(
      container?.env?.map((variable) => variable.name),
      ['MODE', 'EXTRA'],
      'env merged by name',
    );

    const scale = await apps.replaceNamespacedDeploymentScale({
      name: 'cn-web',
      namespace,
      body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'cn-web', namespace }, spec: { replicas: 4 } },
    });
    t.equal(scale.spec?.replicas, 4);
    t.equal(scale.status?.selector, 'app=cn-web');
    t.equal((await apps.readNamespacedDeployment({ name: 'cn-web', namespace })).spec?.replicas, 4, 'scale reached the Deployment');

    const list = await apps.listNamespacedDeployment({ namespace, labelSelector: 'tier=front' });
    t.same(
      list.items.map((item) => item.metadata?.name),
      ['cn-web'],
    );

    // The policy reaches the server: Foreground leaves the finalizer the garbage collector (not running here) would remove.
    await apps.deleteNamespacedDeployment({ name: 'cn-web', namespace, propagationPolicy: 'Foreground' });
    const marked = await apps.readNamespacedDeployment({ name: 'cn-web', namespace });
    t.same(marked.metadata?.finalizers, ['foregroundDeletion']);
    t.ok(marked.metadata?.deletionTimestamp, 'marked for deletion');
    await apps.patchNamespacedDeployment({ name: 'cn-web', namespace, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    const gone = await apiError(t, apps.readNamespacedDeployment({ name: 'cn-web', namespace }), 'reading it after delete');
    t.equal(gone?.code, 404);
    t.match(JSON.parse(gone?.body ?? '{}'), { kind: 'Status', reason: 'NotFound', details: { name: 'cn-web', kind: 'deployments' } });
  });

  await t.test('a wrong token is refused with 401', async (t) => {
    const bad = new k8s.KubeConfig();
    bad.loadFromOptions({
      clusters: kc.clusters,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
      users: kc.users.map((user) => ({ ...user, token: 'abcdef.wrong' })),
    });
    const refused = await apiError(t, bad.makeApiClient(k8s.CoreV1Api).listNamespace(), 'listing with a wrong token');
    t.equal(refused?.code, 401);
  });
});
