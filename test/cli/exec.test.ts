/**
 * `pm8s exec` through the real CLI, over HTTPS to a real server, its node proxy and a real agent:
 * output on the right streams, the command's exit code as the CLI's, errors as kubectl words them.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { serveExec } from '../../src/daemon/agent/node-api-exec.js';
import { phaseOf, startAgentCluster } from '../helpers/agent-cluster.js';
import { pm8s, pm8sBinary } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pm8s.js');

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

t.test('exec through the CLI', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { exec: serveExec } } });
  await cluster.createPod('box', { containers: [{ name: 'main', command: ['sleep', '1000'], env: [{ name: 'GREETING', value: 'hello' }] }] });
  await cluster.createPod('duo', {
    containers: [
      { name: 'first', command: ['sleep', '1000'], env: [{ name: 'WHO', value: 'first' }] },
      { name: 'second', command: ['sleep', '1000'], env: [{ name: 'WHO', value: 'second' }] },
    ],
  });
  for (const name of ['box', 'duo']) await cluster.waitForPod(name, (pod) => phaseOf(pod) === 'Running', 'Running');

  const split = await pm8s(cluster.server, ['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.same(split, { code: 3, stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 3\n' }, "the command's streams and exit code");

  t.same(await pm8s(cluster.server, ['exec', 'pod/box', '-c', 'main', '--', 'printenv', 'GREETING']), { code: 0, stdout: 'hello\n', stderr: '' }, "the container's env");
  t.same(await pm8s(cluster.server, ['exec', '-n', 'default', 'box', '--', 'echo', '$GREETING', '*']), { code: 0, stdout: '$GREETING *\n', stderr: '' }, 'no shell unless asked for');

  const defaulted = await pm8s(cluster.server, ['exec', 'duo', '--', 'printenv', 'WHO']);
  t.same(defaulted, { code: 0, stdout: 'first\n', stderr: 'Defaulted container "first" out of: first, second\n' });
  t.equal((await pm8s(cluster.server, ['exec', 'duo', '-c', 'second', '--', 'printenv', 'WHO'])).stdout, 'second\n');

  const missing = await pm8s(cluster.server, ['exec', 'box', '--', 'nosuch-binary']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^Error from server \(InternalError\): error executing command in container: exec: "nosuch-binary": executable file not found in \$PATH\n$/);

  const ghost = await pm8s(cluster.server, ['exec', 'ghost', '--', 'true']);
  t.equal(ghost.code, 1);
  t.match(ghost.stderr, /pods "ghost" not found/);
  const badContainer = await pm8s(cluster.server, ['exec', 'box', '-c', 'nope', '--', 'true']);
  t.equal(badContainer.code, 1);
  t.match(badContainer.stderr, /container nope is not valid for pod box/);
  const noCommand = await pm8s(cluster.server, ['exec', 'box']);
  t.equal(noCommand.code, 1);
  t.match(noCommand.stderr, /you must specify at least one command/);
  const deployment = await pm8s(cluster.server, ['exec', 'deploy/web', '--', 'true']);
  t.equal(deployment.code, 1);

  // The built binary: the process's own exit code and stdout.
  const binary = await pm8sBinary(['--kubeconfig', cluster.server.kubeconfigPath, 'exec', 'box', '--', 'sh', '-c', 'seq 1 20000; exit 42']);
  t.equal(binary.code, 42, 'the binary exits with the command exit code');
  t.equal(binary.stdout.split('\n').length, 20001, 'all of a larger output arrives');
  t.equal(binary.stderr, 'command terminated with exit code 42\n');
});

t.test('Ctrl-C on the CLI ends the command in the container, through the API server', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { exec: serveExec } } });
  await cluster.createPod('box', { containers: [{ name: 'main', command: ['sleep', '1000'] }] });
  await cluster.waitForPod('box', (pod) => phaseOf(pod) === 'Running', 'Running');
  const cli = spawn(process.execPath, [BIN, '--kubeconfig', cluster.server.kubeconfigPath, 'exec', 'box', '--', 'sh', '-c', 'echo $$; sleep 1000 & wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  let leader: number | undefined;
  t.teardown(() => {
    for (const pid of [cli.pid, leader === undefined ? undefined : -leader]) {
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  let stdout = '';
  cli.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  leader = await waitFor(() => (stdout.includes('\n') ? Number(stdout.trim()) : undefined), { what: 'the command to print its pid', timeout: 10_000 });
  t.ok(alive(leader), 'the command runs');
  cli.kill('SIGINT');
  await exited;
  await waitFor(() => !alive(leader!), { what: 'the command to be killed', timeout: 5000 });
  t.pass('the command is gone once the CLI is');
  t.equal(phaseOf(await cluster.getPod('box')), 'Running', 'the container keeps running');
});
