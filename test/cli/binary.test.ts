/** The built binary end to end (`npm test` builds first; run `npx tsc -p tsconfig.build.json` before running tap directly). */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configMapYaml, pm8sBinary, startTestServer } from '../helpers/cli.js';

t.test('apply, get and errors through bin/pm8s.js', async (t) => {
  const server = await startTestServer(t);
  const env = { ...process.env, PM8S_CONFIG: server.kubeconfigPath };
  const file = path.join(t.testdir(), 'cm.yaml');
  await writeFile(file, configMapYaml('from-binary'));

  t.same(await pm8sBinary(['apply', '-f', file], { env }), { code: 0, stdout: 'configmap/from-binary created\n', stderr: '' });
  const piped = await pm8sBinary(['apply', '-f', '-'], { env, stdin: configMapYaml('from-stdin') });
  t.same(piped, { code: 0, stdout: 'configmap/from-stdin created\n', stderr: '' });
  const listed = await pm8sBinary(['get', 'cm', '-o', 'name'], { env });
  t.same(listed, { code: 0, stdout: 'configmap/from-binary\nconfigmap/from-stdin\n', stderr: '' });
  t.same(await pm8sBinary(['--kubeconfig', server.kubeconfigPath, 'get', 'configmaps', 'nope']), {
    code: 1,
    stdout: '',
    stderr: 'Error from server (NotFound): configmaps "nope" not found\n',
  });
});

t.test('help, usage errors and an unreachable server', async (t) => {
  const help = await pm8sBinary(['apply', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, '--filename <file>');
  t.match(help.stdout, 'Examples:');
  const usage = await pm8sBinary(['get', '-o', 'xml', 'pods']);
  t.equal(usage.code, 1);
  t.match(usage.stderr, "argument 'xml' is invalid");

  const dir = t.testdir();
  const config = path.join(dir, 'config');
  await writeFile(config, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
  const down = await pm8sBinary(['--kubeconfig', config, 'get', 'pods']);
  t.equal(down.code, 1);
  t.match(down.stderr, /^Unable to connect to the server: https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
});
