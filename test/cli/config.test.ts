import t from 'tap';
import path from 'node:path';
import { buildKubeconfig, loadKubeconfig, writeKubeconfig } from '../../src/client/kubeconfig.js';
import { pm8s } from '../helpers/cli.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

async function twoContexts(dir: string): Promise<string> {
  const file = path.join(dir, 'config');
  const config = buildKubeconfig({ server: 'https://127.0.0.1:6443', caPem: CA, token: 'abc.secret-token', name: 'dev' });
  config.clusters.push({ name: 'prod', cluster: { server: 'https://10.0.0.5:6443' } });
  config.users.push({ name: 'prod', user: { token: 'prod.token' } });
  config.contexts.push({ name: 'prod', context: { cluster: 'prod', user: 'prod', namespace: 'shop' } });
  await writeKubeconfig(file, config);
  return file;
}

t.test('config view redacts secrets unless --raw', async (t) => {
  const file = await twoContexts(t.testdir());
  const view = await pm8s(file, ['config', 'view']);
  t.equal(view.code, 0);
  t.match(view.stdout, 'token: REDACTED');
  t.match(view.stdout, 'certificate-authority-data: DATA+OMITTED');
  t.notMatch(view.stdout, 'secret-token');
  t.notMatch(view.stdout, 'prod.token');
  const raw = await pm8s(file, ['config', 'view', '--raw']);
  t.match(raw.stdout, 'token: abc.secret-token');
  t.match(raw.stdout, Buffer.from(CA).toString('base64'));
});

t.test('contexts: current, list, switch, unknown', async (t) => {
  const file = await twoContexts(t.testdir());
  t.same(await pm8s(file, ['config', 'current-context']), { code: 0, stdout: 'dev\n', stderr: '' });
  const listed = await pm8s(file, ['config', 'get-contexts']);
  t.match(listed.stdout, /^CURRENT\s+NAME\s+CLUSTER\s+AUTHINFO\s+NAMESPACE\n\*\s+dev\s+dev\s+dev\n\s+prod\s+prod\s+prod\s+shop\n$/);

  t.same(await pm8s(file, ['config', 'use-context', 'prod']), { code: 0, stdout: 'Switched to context "prod".\n', stderr: '' });
  t.equal((await loadKubeconfig(file))['current-context'], 'prod');

  const unknown = await pm8s(file, ['config', 'use-context', 'staging']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /^error: context "staging" not found/);
  t.equal((await loadKubeconfig(file))['current-context'], 'prod', 'unchanged');
});

t.test('set-server edits the current or the named context', async (t) => {
  const file = await twoContexts(t.testdir());
  t.equal((await pm8s(file, ['config', 'set-server', 'https://192.168.1.9:6443'])).code, 0);
  t.equal((await loadKubeconfig(file)).clusters.find((entry) => entry.name === 'dev')?.cluster.server, 'https://192.168.1.9:6443');
  t.equal((await pm8s(file, ['config', 'set-server', 'https://10.9.9.9:6443', '--context', 'prod'])).code, 0);
  t.equal((await loadKubeconfig(file)).clusters.find((entry) => entry.name === 'prod')?.cluster.server, 'https://10.9.9.9:6443');
  const bad = await pm8s(file, ['config', 'set-server', 'not a url']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, 'is not a URL');
});

t.test('a missing config file', async (t) => {
  const file = path.join(t.testdir(), 'absent');
  const view = await pm8s(file, ['config', 'view']);
  t.equal(view.code, 0);
  t.match(view.stdout, 'kind: Config');
  const get = await pm8s(file, ['get', 'pods']);
  t.equal(get.code, 1);
  t.match(get.stderr, /^error: kubeconfig .*absent does not exist/);
});
