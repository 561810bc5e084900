/** `pm8s agent` joins with --server/--token/--ca-file, as on a second machine; bad flags fail clearly. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import { loadKubeconfig, resolveContext } from '../../src/client/kubeconfig.js';
import { killWrappers, startAgentTestServer } from '../helpers/agent-cluster.js';
import { pm8sBinary } from '../helpers/cli.js';
import { scratchDir, testCgroupRoot } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pm8s.js');
const nodes = resolveResource('nodes')!;

t.test('pm8s agent --server --token --ca-file registers the node', async (t) => {
  const dir = scratchDir(t);
  const server = await startAgentTestServer(dir, 4000);
  t.teardown(() => server.stop());
  const token = resolveContext(await loadKubeconfig(server.kubeconfigPath)).token!;
  const dataDir = path.join(dir, 'agent');
  const args = ['agent', '--server', server.url, '--ca-file', path.join(dir, 'server', 'tls', 'ca.crt'), '--node-name', 'joined', '--node-ip', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--cgroup-root', testCgroupRoot(t), '--node-label', 'tier=web'];
  const agent = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PM8S_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  agent.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  agent.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  t.teardown(async () => {
    if (agent.exitCode === null && agent.signalCode === null) {
      process.kill(agent.pid!, 'SIGKILL');
      await new Promise((resolve) => agent.once('exit', resolve));
    }
    killWrappers(dataDir);
  });
  const client = new InProcessClient(server.api);
  const node = await waitFor(() => client.get(nodes, undefined, 'joined').catch(() => undefined), { what: `the node to register (${output})`, timeout: 20_000 });
  t.match(node.metadata.labels, { tier: 'web', 'kubernetes.io/hostname': 'joined' });
  process.kill(agent.pid!, 'SIGTERM');
  const code = await new Promise((resolve) => agent.once('exit', (exitCode) => resolve(exitCode)));
  t.equal(code, 0, 'SIGTERM stops the agent cleanly');
});

t.test('pm8s agent refuses to start without what it needs', async (t) => {
  const dataDir = scratchDir(t);
  const noToken = await pm8sBinary(['agent', '--server', 'https://127.0.0.1:1', '--data-dir', dataDir, '--port', '0'], { env: { ...process.env, PM8S_TOKEN: '' } });
  t.equal(noToken.code, 1);
  t.match(noToken.stdout, /--server needs --token/);
  const badLabel = await pm8sBinary(['agent', '--server', 'https://127.0.0.1:1', '--token', 'x', '--node-label', 'oops', '--data-dir', dataDir, '--port', '0']);
  t.equal(badLabel.code, 1);
  t.match(badLabel.stdout, /--node-label \\"oops\\" must be key=value/);
});
