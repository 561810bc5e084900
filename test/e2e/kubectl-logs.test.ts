/**
 * Real kubectl reads container logs through pm8s: `kubectl logs` uses `pods/log`, which the API
 * server streams from the agent of the pod's node. (kubectl exec speaks SPDY/websocket, which pm8s
 * does not serve: docs/cli.md.)
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import t from 'tap';
import { containerStatus, startAgentCluster } from '../helpers/agent-cluster.js';
import { run } from '../helpers/processes.js';
import { scratchDir } from '../helpers/runner.js';

const KUBECTL = '/opt/pm8s-test/kubectl-1.20/usr/bin/kubectl';

t.test('kubectl 1.20 logs, --tail and --previous, from a real agent', async (t) => {
  try {
    await access(KUBECTL, constants.X_OK);
  } catch {
    t.skip(`${KUBECTL} is not installed (Debian's kubernetes-client .deb, unpacked by .ci/install-test-deps)`, () => undefined);
    return;
  }
  const cluster = await startAgentCluster(t);
  const home = scratchDir(t);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.KUBECONFIG;
  const kubectl = (args: string[]) => run(t, KUBECTL, ['--kubeconfig', cluster.server.kubeconfigPath, '--cache-dir', `${home}/cache`, '--request-timeout=20s', ...args], { env, timeoutMs: 40_000 });
  await cluster.createPod('talker', { containers: [{ name: 'main', command: ['sh', '-c', 'echo first; echo second; echo third; sleep 0.3; exit 1'] }] });
  await cluster.waitForPod('talker', (pod) => (containerStatus(pod)?.restartCount ?? 0) >= 1, 'restarted once');
  const previous = await kubectl(['logs', 'talker', '--previous']);
  t.equal(previous.code, 0, previous.stderr);
  t.equal(previous.stdout, 'first\nsecond\nthird\n');
  const tail = await kubectl(['logs', 'talker', '--previous', '--tail=1']);
  t.equal(tail.stdout, 'third\n');
  const missing = await kubectl(['logs', 'talker', '-c', 'nope']);
  t.not(missing.code, 0);
  t.match(missing.stderr, /container nope is not valid for pod talker/);
});
