/**
 * The README's main command: `pm8s up -f examples/hello` runs a whole cluster in one process,
 * writes the default client config, and `pm8s get pods` right after shows the example Running.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { killWrappers } from '../helpers/agent-cluster.js';
import { pm8sBinary } from '../helpers/cli.js';
import { freePort, scratchDir, testCgroupRoot } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'pm8s.js');

t.test('pm8s up -f examples/hello, then pm8s get pods shows the example Running and serving', async (t) => {
  const home = scratchDir(t);
  const dataDir = path.join(scratchDir(t), 'cluster');
  const port = await freePort();
  const { PM8S_CONFIG: _ignored, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, HOME: home };
  const up = spawn(process.execPath, [BIN, 'up', '-f', path.join(ROOT, 'examples', 'hello'), '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--node-name', 'up-test', '--cgroup-root', testCgroupRoot(t)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  up.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  up.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  t.teardown(async () => {
    if (up.exitCode === null && up.signalCode === null) {
      process.kill(up.pid!, 'SIGKILL');
      await new Promise((resolve) => up.once('exit', resolve));
    }
    killWrappers(path.join(dataDir, 'agent'));
  });
  await waitFor(() => stdout.includes('pm8s is up') || up.exitCode !== null, { what: 'pm8s up to report it is up', timeout: 30_000 });
  t.match(stdout, /namespace\/hello created/, 'the manifests were applied');
  t.match(stdout, /pm8s is up: node up-test is Ready, API at https:\/\/127\.0\.0\.1:\d+/);
  t.ok(existsSync(path.join(home, '.pm8s', 'config')), 'the default client config was written');

  // The default config (~/.pm8s/config) is all the CLI needs.
  const running = await waitFor(async () => {
    const result = await pm8sBinary(['get', 'pods', '-n', 'hello'], { env });
    return / 1\/1 +Running +0 /.test(result.stdout) ? result : undefined;
  }, { what: 'the example Running and Ready', timeout: 30_000 });
  t.match(running.stdout, /^NAME +READY +STATUS +RESTARTS +AGE\nhello-[a-z0-9]+-[a-z0-9]+ +1\/1 +Running +0 /);
  // The example app answers on the port it chose (the README's curl).
  const answer = await waitFor(() => fetch('http://127.0.0.1:8080/').then((r) => r.text(), () => undefined), { what: 'the example app answering on 8080' });
  t.equal(answer, 'Hello from pm8s\n', 'the example serves its ConfigMap greeting');
  const nodes = await pm8sBinary(['get', 'nodes'], { env });
  t.match(nodes.stdout, /up-test +Ready/);
  const logs = await pm8sBinary(['logs', '-n', 'hello', running.stdout.split('\n')[1]!.split(/\s+/)[0]!], { env });
  t.equal(logs.code, 0, `pm8s logs works: ${logs.stderr}`);

  // Clean up through the cluster, then stop pm8s up (pods would otherwise outlive it, by design).
  const deleted = await pm8sBinary(['delete', 'namespace', 'hello', '--wait'], { env, timeoutMs: 60_000 });
  t.equal(deleted.code, 0, deleted.stderr);
  process.kill(up.pid!, 'SIGTERM');
  const code = await new Promise<number | null>((resolve) => up.once('exit', (exitCode) => resolve(exitCode)));
  t.equal(code, 0, `pm8s up exits cleanly on SIGTERM: ${stderr.slice(-500)}`);
});
