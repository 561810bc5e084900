import t from 'tap';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { resolveResource } from '../../src/api/resources.js';
import { configMapYaml, deploymentYaml, pm8s, startTestServer, waitFor } from '../helpers/cli.js';

const deployments = resolveResource('deployments')!;
const configMaps = resolveResource('configmaps')!;
const namespaces = resolveResource('namespaces')!;

t.test('a multi-document file with one invalid document writes nothing', async (t) => {
  const server = await startTestServer(t);
  const dir = t.testdir();
  const file = path.join(dir, 'mixed.yaml');
  const invalid = deploymentYaml('bad').replace('replicas: 2', 'replicas: -1');
  await writeFile(file, [configMapYaml('first'), invalid, deploymentYaml('good'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: fresh\n'].join('---\n'));
  const before = await server.engine.currentRevision();

  const result = await pm8s(server, ['apply', '-f', file]);
  t.equal(result.code, 1);
  t.equal(result.stdout, '', 'nothing reported as created');
  t.match(result.stderr, 'The Deployment "bad" is invalid: spec.replicas: Invalid value: -1');
  t.equal(await server.engine.currentRevision(), before, 'the store was not written');
  t.same((await server.api.list(configMaps, 'default')).items, []);
  t.same((await server.api.list(deployments, 'default')).items, []);
  t.notOk((await server.api.list(namespaces, undefined)).items.some((item) => item.metadata.name === 'fresh'));
});

t.test('apply twice is unchanged; a changed file is configured and removed fields go (3-way)', async (t) => {
  const server = await startTestServer(t);
  const dir = t.testdir();
  const file = path.join(dir, 'web.yaml');
  await writeFile(file, deploymentYaml('web'));

  const first = await pm8s(server, ['apply', '-f', file]);
  t.same(first, { code: 0, stdout: 'deployment.apps/web created\n', stderr: '' });
  const created = await server.api.get(deployments, 'default', 'web');
  const lastApplied = created.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  t.ok(lastApplied?.endsWith('}\n'), 'last-applied is compact JSON plus a newline');
  t.same(JSON.parse(lastApplied!), parse(deploymentYaml('web')));

  const revision = await server.engine.currentRevision();
  const second = await pm8s(server, ['apply', '-f', file]);
  t.same(second, { code: 0, stdout: 'deployment.apps/web unchanged\n', stderr: '' });
  t.equal((await server.api.get(deployments, 'default', 'web')).metadata.resourceVersion, created.metadata.resourceVersion);
  t.equal(await server.engine.currentRevision(), revision, 'no write was sent');

  await writeFile(file, deploymentYaml('web', { replicas: 3, env: false }));
  const third = await pm8s(server, ['apply', '-f', file]);
  t.same(third, { code: 0, stdout: 'deployment.apps/web configured\n', stderr: '' });
  const updated = await server.api.get(deployments, 'default', 'web');
  const spec = updated.spec as { replicas: number; template: { spec: { containers: Array<Record<string, unknown>> } } };
  t.equal(spec.replicas, 3);
  t.equal(spec.template.spec.containers[0]?.env, undefined, 'env removed from the file is removed from the object');
  t.same(spec.template.spec.containers[0]?.command, ['node', 'server.js']);

  // A field set by someone else (not in last-applied) survives an apply.
  await server.api.patch(deployments, 'default', 'web', 'application/merge-patch+json', { metadata: { labels: { owner: 'ops' } } });
  t.equal((await pm8s(server, ['apply', '-f', file])).stdout, 'deployment.apps/web unchanged\n');
  t.equal((await server.api.get(deployments, 'default', 'web')).metadata.labels?.owner, 'ops');

  // Putting the env back adds it again.
  await writeFile(file, deploymentYaml('web', { replicas: 3 }));
  t.equal((await pm8s(server, ['apply', '-f', file])).stdout, 'deployment.apps/web configured\n');
  const again = (await server.api.get(deployments, 'default', 'web')).spec as typeof spec;
  t.same(again.template.spec.containers[0]?.env, [{ name: 'GREETING', value: 'hello' }]);
});

t.test('get -o yaml output fed back to apply works', async (t) => {
  const server = await startTestServer(t);
  const dir = t.testdir();
  await writeFile(path.join(dir, 'web.yaml'), deploymentYaml('web'));
  t.equal((await pm8s(server, ['apply', '-f', path.join(dir, 'web.yaml')])).code, 0);
  const yaml = await pm8s(server, ['get', 'deploy', 'web', '-o', 'yaml']);
  t.equal(yaml.code, 0);
  const live = path.join(dir, 'live.yaml');
  await writeFile(live, yaml.stdout);
  const result = await pm8s(server, ['apply', '-f', live]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^deployment\.apps\/web (configured|unchanged)\n$/);
  t.equal(result.stderr, '');

  // The same through stdin, from a fresh read.
  const fresh = await pm8s(server, ['get', 'deploy', 'web', '-o', 'yaml']);
  const piped = await pm8s(server, ['apply', '-f', '-'], { stdin: fresh.stdout });
  t.equal(piped.code, 0, piped.stderr);
  t.match(piped.stdout, /^deployment\.apps\/web (configured|unchanged)\n$/);
});

t.test('a namespace and objects in it, from one file', async (t) => {
  // With the controllers: the namespace controller finishes the rollback's namespace delete.
  const server = await startTestServer(t, { controllers: {} });
  const dir = t.testdir();
  const file = path.join(dir, 'app.yaml');
  // The object comes first in the file: namespaces are still created first.
  await writeFile(file, [deploymentYaml('api', { namespace: 'shop' }), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n'].join('---\n'));
  const result = await pm8s(server, ['apply', '-f', file]);
  t.same(result, { code: 0, stdout: 'namespace/shop created\ndeployment.apps/api created\n', stderr: '' });
  t.equal((await server.api.get(deployments, 'shop', 'api')).metadata.namespace, 'shop');

  // An invalid object in a new namespace: the namespace created for the dry run is removed again.
  const broken = path.join(dir, 'broken.yaml');
  await writeFile(broken, ['apiVersion: v1\nkind: Namespace\nmetadata:\n  name: temp\n', deploymentYaml('x', { namespace: 'temp' }).replace('replicas: 2', 'replicas: -5')].join('---\n'));
  const failed = await pm8s(server, ['apply', '-f', broken]);
  t.equal(failed.code, 1);
  t.equal(failed.stdout, '');
  t.match(failed.stderr, 'The Deployment "x" is invalid');
  const temp = (await server.api.list(namespaces, undefined)).items.find((item) => item.metadata.name === 'temp');
  t.ok(temp === undefined || temp.metadata.deletionTimestamp !== undefined, 'namespace rolled back (deleted)');
  await waitFor(async () => !(await server.api.list(namespaces, undefined)).items.some((item) => item.metadata.name === 'temp'), { what: 'the namespace to go' });
});

t.test('dry runs, -n, -R, -o name and mismatched namespaces', async (t) => {
  const server = await startTestServer(t);
  const dir = t.testdir();
  await mkdir(path.join(dir, 'manifests', 'nested'), { recursive: true });
  await writeFile(path.join(dir, 'manifests', 'a.yaml'), configMapYaml('a'));
  await writeFile(path.join(dir, 'manifests', 'notes.txt'), 'not a manifest');
  await writeFile(path.join(dir, 'manifests', 'nested', 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [parse(configMapYaml('b')), parse(configMapYaml('c'))] }));
  const before = await server.engine.currentRevision();

  const server1 = await pm8s(server, ['apply', '-f', path.join(dir, 'manifests'), '-R', '--dry-run=server']);
  t.same(server1, { code: 0, stdout: 'configmap/a created (server dry run)\nconfigmap/b created (server dry run)\nconfigmap/c created (server dry run)\n', stderr: '' });
  const client1 = await pm8s(server, ['apply', '-f', path.join(dir, 'manifests'), '--dry-run=client']);
  t.same(client1, { code: 0, stdout: 'configmap/a created (dry run)\n', stderr: '' }, 'without -R subdirectories are skipped');
  t.equal(await server.engine.currentRevision(), before);

  await server.api.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  const named = await pm8s(server, ['apply', '-f', path.join(dir, 'manifests'), '-R', '-n', 'team', '-o', 'name']);
  t.same(named, { code: 0, stdout: 'configmap/a\nconfigmap/b\nconfigmap/c\n', stderr: '' });
  t.equal((await server.api.list(configMaps, 'team')).items.length, 3);

  const other = path.join(dir, 'other.yaml');
  await writeFile(other, configMapYaml('z').replace('name: z', 'name: z\n  namespace: elsewhere'));
  const mismatch = await pm8s(server, ['apply', '-f', other, '-n', 'team']);
  t.equal(mismatch.code, 1);
  t.match(mismatch.stderr, `the namespace from the provided object "elsewhere" does not match the namespace "team"`);

  const unknownKind = path.join(dir, 'widget.yaml');
  await writeFile(unknownKind, 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n');
  const unknown = await pm8s(server, ['apply', '-f', unknownKind]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'no matches for kind "Widget" in version "example.com/v1"');
});

t.test('YAML errors name file, line and column; alias bombs are refused fast', async (t) => {
  const server = await startTestServer(t);
  const dir = t.testdir();
  const broken = path.join(dir, 'broken.yaml');
  await writeFile(broken, `${configMapYaml('ok')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n`);
  const result = await pm8s(server, ['apply', '-f', broken]);
  t.equal(result.code, 1);
  t.match(result.stderr, new RegExp(`^error: error parsing ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:11:\\d+: `));
  t.same((await server.api.list(configMaps, 'default')).items, [], 'the valid document before it was not applied');

  const bomb = path.join(dir, 'bomb.yaml');
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let previous = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    previous = name;
  }
  await writeFile(bomb, `${lines.join('\n')}\n`);
  const started = Date.now();
  const refused = await pm8s(server, ['apply', '-f', bomb]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /error parsing .*bomb\.yaml: .*too many aliases/);
  t.ok(Date.now() - started < 2000, 'refused quickly');

  const missing = await pm8s(server, ['apply', '-f', path.join(dir, 'nope.yaml')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'does not exist');
});
