import t from 'tap';
import { lstat, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  buildKubeconfig,
  defaultKubeconfigPath,
  KubeconfigError,
  loadKubeconfig,
  resolveContext,
  resolveContextWithFiles,
  setServer,
  useContext,
  writeKubeconfig,
} from '../../src/client/kubeconfig.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

t.test('round trip through a file kubectl can read', async (t) => {
  const file = path.join(t.testdir(), 'home', '.pm8s', 'config');
  const config = buildKubeconfig({ server: 'https://127.0.0.1:6443', caPem: CA_PEM, token: 'abc123.secret' });
  await writeKubeconfig(file, config);
  t.same(await loadKubeconfig(file), config);

  // The plain YAML shape kubectl expects.
  t.same(parse(await readFile(file, 'utf8')), {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'pm8s', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from(CA_PEM).toString('base64') } }],
    users: [{ name: 'pm8s', user: { token: 'abc123.secret' } }],
    contexts: [{ name: 'pm8s', context: { cluster: 'pm8s', user: 'pm8s' } }],
    'current-context': 'pm8s',
    preferences: {},
  });

  t.same(resolveContext(await loadKubeconfig(file)), {
    server: 'https://127.0.0.1:6443',
    caPem: CA_PEM,
    insecureSkipTlsVerify: false,
    token: 'abc123.secret',
    namespace: 'default',
    contextName: 'pm8s',
  });
});

t.test('the file and its new directory are private', async (t) => {
  const dir = path.join(t.testdir(), 'fresh');
  const file = path.join(dir, 'config');
  await writeKubeconfig(file, buildKubeconfig({ server: 'https://h:6443', token: 'x' }));
  t.equal((await stat(file)).mode & 0o777, 0o600);
  t.equal((await stat(dir)).mode & 0o777, 0o700);
  // Overwriting keeps the mode even when the old file was wider.
  await writeFile(file, 'old', { mode: 0o644 });
  await writeKubeconfig(file, buildKubeconfig({ server: 'https://h:6443', token: 'y' }));
  t.equal((await stat(file)).mode & 0o777, 0o600);
});

t.test('a symlink planted at the path is replaced, not followed', async (t) => {
  const dir = t.testdir({ 'victim.txt': 'do not touch\n' });
  const victim = path.join(dir, 'victim.txt');
  const file = path.join(dir, 'config');
  await symlink(victim, file);
  await writeKubeconfig(file, buildKubeconfig({ server: 'https://h:6443', token: 'x' }));
  t.equal(await readFile(victim, 'utf8'), 'do not touch\n');
  t.ok((await lstat(file)).isFile(), 'the path is now a regular file');
  t.equal(resolveContext(await loadKubeconfig(file)).token, 'x');
});

t.test('default path honours PM8S_CONFIG', async (t) => {
  t.equal(defaultKubeconfigPath({ PM8S_CONFIG: '/etc/pm8s/admin.conf', HOME: '/home/u' }), '/etc/pm8s/admin.conf');
  t.equal(defaultKubeconfigPath({ HOME: '/home/u' }), '/home/u/.pm8s/config');
  t.equal(defaultKubeconfigPath({ PM8S_CONFIG: '' }), path.join(os.homedir(), '.pm8s', 'config'));
});

t.test('missing and invalid files are errors naming the file', async (t) => {
  const dir = t.testdir({
    'bad-yaml': 'clusters: [\n',
    'bad-shape': 'clusters:\n  - name: a\n    cluster:\n      server: 42\n',
    'bad-kind': 'kind: Pod\n',
    duplicate: 'contexts:\n  - name: a\n    context: {cluster: c}\n  - name: a\n    context: {cluster: d}\n',
  });
  for (const [name, code] of [['missing', 'KubeconfigNotFound'], ['bad-yaml', 'KubeconfigInvalid'], ['bad-shape', 'KubeconfigInvalid'], ['bad-kind', 'KubeconfigInvalid'], ['duplicate', 'KubeconfigInvalid']] as const) {
    const file = path.join(dir, name);
    const error = await loadKubeconfig(file).catch((caught: unknown) => caught);
    t.ok(error instanceof KubeconfigError, name);
    t.match(error, { code, message: file }, name);
  }
});

t.test('reads kubectl-written configs, keeping fields pm8s does not use', async (t) => {
  const dir = t.testdir({
    'ca.crt': CA_PEM,
    config: [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: prod',
      '  cluster:',
      '    server: https://10.0.0.1:6443',
      '    certificate-authority: ca.crt',
      '  extensions: [{name: x, extension: {a: 1}}]',
      '- name: dev',
      '  cluster: {server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}',
      'users:',
      '- name: admin',
      '  user: {client-certificate-data: Zm9v, token: t0k}',
      'contexts:',
      '- name: prod',
      '  context: {cluster: prod, user: admin, namespace: web}',
      '- name: dev',
      '  context: {cluster: dev, user: ""}',
      'current-context: prod',
      'preferences: {}',
      '',
    ].join('\n'),
  });
  const file = path.join(dir, 'config');
  const config = await loadKubeconfig(file);
  t.same(resolveContext(config), { server: 'https://10.0.0.1:6443', caFile: 'ca.crt', insecureSkipTlsVerify: false, token: 't0k', namespace: 'web', contextName: 'prod' });
  t.same(await resolveContextWithFiles(config, undefined, file), {
    server: 'https://10.0.0.1:6443',
    caFile: path.join(dir, 'ca.crt'),
    caPem: CA_PEM,
    insecureSkipTlsVerify: false,
    token: 't0k',
    namespace: 'web',
    contextName: 'prod',
  });
  t.same(resolveContext(config, 'dev'), { server: 'http://127.0.0.1:8080', insecureSkipTlsVerify: true, namespace: 'default', contextName: 'dev' });

  const copy = path.join(dir, 'copy');
  await writeKubeconfig(copy, setServer(config, 'https://10.0.0.2:6443'));
  const written = parse(await readFile(copy, 'utf8')) as { clusters: Array<Record<string, unknown>>; users: Array<{ user: Record<string, unknown> }> };
  t.same(written.clusters[0]?.extensions, [{ name: 'x', extension: { a: 1 } }]);
  t.equal(written.users[0]?.user['client-certificate-data'], 'Zm9v');
  t.equal(resolveContext(await loadKubeconfig(copy)).server, 'https://10.0.0.2:6443');
});

t.test('setServer and useContext are pure and check names', async (t) => {
  const config = buildKubeconfig({ server: 'https://a:6443', token: 'x', name: 'one' });
  config.clusters.push({ name: 'two', cluster: { server: 'https://b:6443' } });
  config.users.push({ name: 'two', user: {} });
  config.contexts.push({ name: 'two', context: { cluster: 'two', user: 'two', namespace: 'team' } });

  const switched = useContext(config, 'two');
  t.equal(config['current-context'], 'one', 'input unchanged');
  t.same(resolveContext(switched), { server: 'https://b:6443', insecureSkipTlsVerify: false, namespace: 'team', contextName: 'two' });

  const moved = setServer(config, 'https://c:6443');
  t.equal(resolveContext(moved).server, 'https://c:6443');
  t.equal(resolveContext(config).server, 'https://a:6443', 'input unchanged');
  t.equal(resolveContext(setServer(config, 'https://d:6443', 'two'), 'two').server, 'https://d:6443');

  t.throws(() => useContext(config, 'nope'), { name: 'KubeconfigError', code: 'ContextNotFound', message: /context "nope" not found.*one, two/ });
  t.throws(() => resolveContext(config, 'nope'), { code: 'ContextNotFound' });
  t.throws(() => setServer(config, 'https://e:6443', 'nope'), { code: 'ContextNotFound' });
  t.throws(() => resolveContext({ ...config, 'current-context': '' }), { code: 'NoCurrentContext' });
  t.throws(() => resolveContext({ ...config, users: [] }), { code: 'UserNotFound' });
  t.throws(() => resolveContext({ ...config, clusters: [] }), { code: 'ClusterNotFound' });
  const both = buildKubeconfig({ server: 'https://a:6443', token: 'x', caPem: CA_PEM, insecureSkipTlsVerify: true });
  t.throws(() => resolveContext(both), { code: 'KubeconfigInvalid' });
});
