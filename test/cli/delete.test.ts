import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { configMapYaml, deploymentYaml, pm8s, startTestServer, waitFor } from '../helpers/cli.js';

const configMaps = resolveResource('configmaps')!;
const deployments = resolveResource('deployments')!;
const configMap = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });
const names = async (server: Awaited<ReturnType<typeof startTestServer>>) => (await server.api.list(configMaps, 'default')).items.map((item) => item.metadata.name);

t.test('delete -f removes what the manifests name', async (t) => {
  const server = await startTestServer(t);
  const file = path.join(t.testdir(), 'app.yaml');
  await writeFile(file, [deploymentYaml('web'), configMapYaml('settings')].join('---\n'));
  t.equal((await pm8s(server, ['apply', '-f', file])).code, 0);

  const result = await pm8s(server, ['delete', '-f', file]);
  t.same(result, { code: 0, stdout: 'deployment.apps "web" deleted\nconfigmap "settings" deleted\n', stderr: '' });
  t.same((await server.api.list(deployments, 'default')).items, []);
  t.same(await names(server), []);

  const again = await pm8s(server, ['delete', '-f', file]);
  t.equal(again.code, 1);
  t.equal(again.stderr, 'Error from server (NotFound): deployments.apps "web" not found\nError from server (NotFound): configmaps "settings" not found\n');
  t.same(await pm8s(server, ['delete', '-f', file, '--ignore-not-found']), { code: 0, stdout: '', stderr: '' });
});

t.test('delete by name, KIND/NAME, -l and --all', async (t) => {
  // The garbage collector removes the foregroundDeletion finalizer --cascade=foreground leaves.
  const server = await startTestServer(t, { controllers: {} });
  for (const [name, app] of [['a', 'web'], ['b', 'web'], ['c', 'db'], ['d', 'db'], ['e', 'cache']] as const) {
    await server.api.create(configMaps, 'default', configMap(name, { app }));
  }
  t.same(await pm8s(server, ['delete', 'cm', '-l', 'app=web']), { code: 0, stdout: 'configmap "a" deleted\nconfigmap "b" deleted\n', stderr: '' });
  t.same(await names(server), ['c', 'd', 'e']);

  t.same(await pm8s(server, ['delete', 'configmap', 'c', '--wait=false']), { code: 0, stdout: 'configmap "c" deleted\n', stderr: '' });
  t.same(await pm8s(server, ['delete', 'cm/d', '--cascade=foreground', '--timeout', '10s']), { code: 0, stdout: 'configmap "d" deleted\n', stderr: '' });
  t.same(await names(server), ['e']);

  const dry = await pm8s(server, ['delete', 'cm', '--all', '--dry-run=server']);
  t.same(dry, { code: 0, stdout: 'configmap "e" deleted (server dry run)\n', stderr: '' });
  t.same(await names(server), ['e']);

  t.same(await pm8s(server, ['delete', 'cm', '--all']), { code: 0, stdout: 'configmap "e" deleted\n', stderr: '' });
  t.same(await names(server), []);
  t.same(await pm8s(server, ['delete', 'cm', '--all']), { code: 0, stdout: '', stderr: 'No resources found\n' });

  const noName = await pm8s(server, ['delete', 'cm']);
  t.equal(noName.code, 1);
  t.match(noName.stderr, 'no name was specified');
  const badCascade = await pm8s(server, ['delete', 'cm', 'x', '--cascade=sideways']);
  t.equal(badCascade.code, 1);
  t.match(badCascade.stderr, 'invalid cascade value');
});

t.test('--cascade: background deletes the dependents, orphan leaves them without the owner', async (t) => {
  const server = await startTestServer(t, { controllers: {} });
  const owned = async (name: string, ownerName: string) => {
    const owner = await server.api.get(configMaps, 'default', ownerName);
    const reference = { apiVersion: 'v1', kind: 'ConfigMap', name: ownerName, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
    return server.api.create(configMaps, 'default', { ...configMap(name), metadata: { name, ownerReferences: [reference] } });
  };
  await server.api.create(configMaps, 'default', configMap('keeper'));
  const kept = await owned('kept', 'keeper');
  t.same(await pm8s(server, ['delete', 'cm/keeper', '--cascade=orphan', '--timeout', '10s']), { code: 0, stdout: 'configmap "keeper" deleted\n', stderr: '' }, '--wait sees the owner go');
  const orphan = await server.api.get(configMaps, 'default', 'kept');
  t.equal(orphan.metadata.uid, kept.metadata.uid, 'the dependent stays');
  t.equal(orphan.metadata.ownerReferences, undefined, 'without its owner reference');

  await server.api.create(configMaps, 'default', configMap('parent'));
  await owned('child', 'parent');
  t.same(await pm8s(server, ['delete', 'cm', 'parent']), { code: 0, stdout: 'configmap "parent" deleted\n', stderr: '' });
  await waitFor(async () => !(await names(server)).includes('child'), { what: 'the dependent to be collected' });
  t.same(await names(server), ['kept']);

  await server.api.create(configMaps, 'default', configMap('front'));
  await owned('front-child', 'front');
  t.same(await pm8s(server, ['delete', 'cm', 'front', '--cascade=foreground', '--timeout', '10s']), { code: 0, stdout: 'configmap "front" deleted\n', stderr: '' });
  t.same(await names(server), ['kept'], 'foreground: the dependent went before the owner');
});

t.test('--wait waits for a finalizer to go, and gives up at --timeout', async (t) => {
  const server = await startTestServer(t);
  await server.api.create(configMaps, 'default', { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  const timedOut = await pm8s(server, ['delete', 'cm', 'held', '--timeout', '300ms']);
  t.equal(timedOut.code, 1);
  t.equal(timedOut.stdout, 'configmap "held" deleted\n');
  t.match(timedOut.stderr, 'timed out waiting for the condition on configmaps/held');

  let finished = false;
  const waiting = pm8s(server, ['delete', 'cm', 'held', '--timeout', '20s']).then((result) => {
    finished = true;
    return result;
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(finished, 'still waiting while the finalizer is there');
  await server.api.patch(configMaps, 'default', 'held', 'application/merge-patch+json', { metadata: { finalizers: null } });
  t.same(await waiting, { code: 0, stdout: 'configmap "held" deleted\n', stderr: '' });
  t.same(await names(server), []);
});
