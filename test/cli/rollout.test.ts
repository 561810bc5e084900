import t from 'tap';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import type { InProcessClient } from '../../src/client/in-process-client.js';
import { main } from '../../src/cli/main.js';
import { BufferOutput } from '../../src/cli/output.js';
import type { RunningServer } from '../../src/daemon/server/server.js';
import { pm8s, waitFor } from '../helpers/cli.js';
import { startTestCluster } from '../helpers/cluster.js';
import { workload } from '../helpers/workloads.js';

const deployments = resolveResource('deployments')!;
const replicaSets = resolveResource('replicasets')!;
const statefulSets = resolveResource('statefulsets')!;
const daemonSets = resolveResource('daemonsets')!;
const pods = resolveResource('pods')!;

/** `pm8s ARGS…` in this process, with output readable while it runs. */
function running(server: RunningServer, args: string[], interactive = false): { output: BufferOutput; exit: Promise<number> } {
  const output = new BufferOutput();
  output.interactive = interactive;
  return { output, exit: main(['node', 'pm8s', '--kubeconfig', server.kubeconfigPath, ...args], { output }) };
}

const envOf = (object: KubeObject): unknown => (object.spec as { template: { spec: { containers: Array<{ env?: unknown }> } } }).template.spec.containers[0]?.env;
const setsOf = async (client: InProcessClient, app: string) => (await client.list(replicaSets, 'default', { labelSelector: `app=${app}` })).items;
const setVersion = (client: InProcessClient, name: string, version: string, annotations: Record<string, string> = {}) =>
  client.patch(deployments, 'default', name, 'application/strategic-merge-patch+json', {
    metadata: { annotations },
    spec: { template: { spec: { containers: [{ name: 'main', env: [{ name: 'VERSION', value: version }] }] } } },
  });

t.test('rollout status: a live progress line until the rollout is done, then exit 0', async (t) => {
  let readyNow = false;
  const { server, client, nodes } = await startTestCluster(t, { nodes: { n1: {}, n2: {} }, simulated: { ready: () => readyNow } });
  await client.create(deployments, 'default', workload('Deployment', 'web', { replicas: 2 }));
  const plain = running(server, ['rollout', 'status', 'deployment/web', '--timeout', '30s']);
  const tty = running(server, ['rollout', 'status', 'deploy', 'web', '--timeout', '30s'], true);
  await waitFor(() => plain.output.stdout.includes('Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...\n'), {
    what: 'the availability progress line',
    timeout: 15_000,
  });
  readyNow = true;
  for (const pod of (await client.list(pods, 'default', { labelSelector: 'app=web' })).items) await nodes.setReady('default', pod.metadata.name ?? '', true);

  t.equal(await plain.exit, 0, plain.output.stderr);
  const lines = plain.output.stdout.split('\n').filter(Boolean);
  t.equal(lines.at(-1), 'deployment "web" successfully rolled out');
  t.equal(new Set(lines).size, lines.length, 'without a terminal each distinct line is printed once');
  t.ok(lines.slice(0, -1).every((line) => line.startsWith('Waiting for deployment')), lines.join('\n'));
  t.notMatch(plain.output.stdout, '\r');

  t.equal(await tty.exit, 0, tty.output.stderr);
  t.match(tty.output.stdout, /^\rWaiting for deployment/, 'on a terminal the line is rewritten in place');
  t.ok(tty.output.stdout.endsWith('\rdeployment "web" successfully rolled out\x1b[K\n'));
  t.equal(tty.output.stdout.split('\n').length, 2, 'one line in the end');

  const done = await pm8s(server, ['rollout', 'status', 'deploy/web']);
  t.same(done, { code: 0, stdout: 'deployment "web" successfully rolled out\n', stderr: '' }, 'a finished rollout returns at once');
});

t.test('rollout status fails on a progress deadline, on --timeout, and for kinds without a status viewer', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {} }, simulated: { ready: (pod) => pod.metadata.labels?.app !== 'stuck' && pod.metadata.labels?.app !== 'slow' } });
  await client.create(deployments, 'default', workload('Deployment', 'stuck', { replicas: 1, spec: { progressDeadlineSeconds: 1 } }));
  await client.create(deployments, 'default', workload('Deployment', 'slow', { replicas: 1 }));

  const deadline = await pm8s(server, ['rollout', 'status', 'deploy/stuck', '--timeout', '30s']);
  t.equal(deadline.code, 1);
  t.ok(deadline.stderr.endsWith('error: deployment "stuck" exceeded its progress deadline\n'), deadline.stderr);

  const started = Date.now();
  const timedOut = await pm8s(server, ['rollout', 'status', 'deploy/slow', '--timeout', '1s']);
  t.ok(Date.now() - started < 5000, 'bounded by --timeout');
  t.equal(timedOut.code, 1);
  t.equal(timedOut.stderr, 'error: timed out waiting for the condition\n');
  t.match(timedOut.stdout, 'Waiting for deployment');

  const once = await pm8s(server, ['rollout', 'status', 'deploy/slow', '--watch=false']);
  t.equal(once.code, 0);
  t.match(once.stdout, /^Waiting for deployment[^\n]*\n$/, '--watch=false prints the state once');

  await client.create(replicaSets, 'default', workload('ReplicaSet', 'plain'));
  const noViewer = await pm8s(server, ['rollout', 'status', 'rs/plain']);
  t.equal(noViewer.code, 1);
  t.equal(noViewer.stderr, 'error: no status viewer has been implemented for ReplicaSet\n');
  const missing = await pm8s(server, ['rollout', 'status', 'deploy/nope']);
  t.equal(missing.stderr, 'Error from server (NotFound): deployments.apps "nope" not found\n');
});

t.test('rollout history, undo and restart work on the ReplicaSets\' revisions', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {}, n2: {} } });
  await client.create(deployments, 'default', workload('Deployment', 'web', { replicas: 2, env: 'one' }));
  t.equal((await pm8s(server, ['rollout', 'status', 'deploy/web', '--timeout', '20s'])).code, 0);
  await setVersion(client, 'web', 'two', { 'kubernetes.io/change-cause': 'set VERSION=two' });
  t.equal((await pm8s(server, ['rollout', 'status', 'deploy/web', '--timeout', '20s'])).code, 0);

  const history = await pm8s(server, ['rollout', 'history', 'deployment/web']);
  t.same(history, { code: 0, stdout: 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         set VERSION=two\n\n', stderr: '' });
  const one = await pm8s(server, ['rollout', 'history', 'deploy/web', '--revision', '1']);
  t.match(one.stdout, /^deployment\.apps\/web with revision #1\nPod Template:\n {2}Labels:\s+app=web\n\s+pod-template-hash=\w+\n/);
  t.match(one.stdout, /VERSION:\s+one\n/);
  const none = await pm8s(server, ['rollout', 'history', 'deploy/web', '--revision', '9']);
  t.equal(none.stderr, 'error: unable to find the specified revision\n');

  const [firstSet] = (await setsOf(client, 'web')).filter((set) => set.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
  const undone = await pm8s(server, ['rollout', 'undo', 'deployment/web']);
  t.same(undone, { code: 0, stdout: 'deployment.apps/web rolled back\n', stderr: '' });
  t.same(envOf(await client.get(deployments, 'default', 'web')), [{ name: 'VERSION', value: 'one' }], 'the template of revision 1 is back');
  t.equal((await pm8s(server, ['rollout', 'status', 'deploy/web', '--timeout', '20s'])).code, 0);
  const reused = await client.get(replicaSets, 'default', firstSet?.metadata.name ?? '');
  t.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision'], '3', 'the old ReplicaSet is the new revision 3');
  t.equal((reused.spec as { replicas?: number }).replicas, 2);
  t.equal((await setsOf(client, 'web')).length, 2, 'no new ReplicaSet for a template seen before');
  t.same(await pm8s(server, ['rollout', 'undo', 'deploy/web', '--to-revision', '3']), {
    code: 0,
    stdout: 'deployment.apps/web skipped rollback (current template already matches revision 3)\n',
    stderr: '',
  });
  const missing = await pm8s(server, ['rollout', 'undo', 'deploy/web', '--to-revision', '7']);
  t.equal(missing.stderr, 'error: unable to find specified revision 7 in history\n');

  const restarted = await pm8s(server, ['rollout', 'restart', 'deploy/web']);
  t.same(restarted, { code: 0, stdout: 'deployment.apps/web restarted\n', stderr: '' });
  const annotations = ((await client.get(deployments, 'default', 'web')).spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations;
  t.match(annotations?.['kubectl.kubernetes.io/restartedAt'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.equal((await pm8s(server, ['rollout', 'status', 'deploy/web', '--timeout', '20s'])).code, 0);
  t.equal((await setsOf(client, 'web')).length, 3, 'a restart rolls out a new ReplicaSet');
  t.match((await pm8s(server, ['rollout', 'history', 'deploy/web'])).stdout, /\n2\s+set VERSION=two\n3\s+<none>\n4\s+<none>\n\n$/);
});

t.test('rollout pause holds template changes back until resume', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {} } });
  await client.create(deployments, 'default', workload('Deployment', 'web', { replicas: 1, env: 'one' }));
  t.equal((await pm8s(server, ['rollout', 'status', 'deploy/web', '--timeout', '20s'])).code, 0);

  t.same(await pm8s(server, ['rollout', 'pause', 'deploy/web']), { code: 0, stdout: 'deployment.apps/web paused\n', stderr: '' });
  t.equal(((await client.get(deployments, 'default', 'web')).spec as { paused?: boolean }).paused, true);
  t.same(await pm8s(server, ['rollout', 'pause', 'deploy/web']), { code: 1, stdout: '', stderr: 'error: deployments.apps "web" is already paused\n' });
  const changed = await setVersion(client, 'web', 'two');
  await waitFor(async () => ((await client.get(deployments, 'default', 'web')).status as { observedGeneration?: number }).observedGeneration === changed.metadata.generation, {
    what: 'the controller to observe the paused change',
  });
  t.equal((await setsOf(client, 'web')).length, 1, 'no rollout while paused');
  const restart = await pm8s(server, ['rollout', 'restart', 'deploy/web']);
  t.equal(restart.stderr, 'error: deployments.apps "web" can\'t restart paused deployment (run rollout resume first)\n');
  const undo = await pm8s(server, ['rollout', 'undo', 'deploy/web']);
  t.equal(undo.code, 1);

  t.same(await pm8s(server, ['rollout', 'resume', 'deploy/web']), { code: 0, stdout: 'deployment.apps/web resumed\n', stderr: '' });
  t.notOk('paused' in ((await client.get(deployments, 'default', 'web')).spec as object));
  t.equal((await pm8s(server, ['rollout', 'status', 'deploy/web', '--timeout', '20s'])).code, 0);
  t.equal((await setsOf(client, 'web')).length, 2, 'resumed: the held change rolled out');
  t.same(await pm8s(server, ['rollout', 'resume', 'deploy/web']), { code: 1, stdout: '', stderr: 'error: deployments.apps "web" is not paused\n' });
});

t.test('statefulsets and daemonsets: status and restart; no history, undo or pause', async (t) => {
  const { server, client } = await startTestCluster(t, { nodes: { n1: {}, n2: {} } });
  await client.create(statefulSets, 'default', workload('StatefulSet', 'db', { replicas: 2 }));
  await client.create(daemonSets, 'default', workload('DaemonSet', 'logs'));

  const sts = await pm8s(server, ['rollout', 'status', 'sts/db', '--timeout', '20s']);
  t.equal(sts.code, 0, sts.stderr);
  t.match(sts.stdout, /(partitioned roll out complete: 2 new pods have been updated|statefulset rolling update complete 2 pods at revision \S+)\.\.\.\n$/);
  const ds = await pm8s(server, ['rollout', 'status', 'ds/logs', '--timeout', '20s']);
  t.equal(ds.code, 0, ds.stderr);
  t.ok(ds.stdout.endsWith('daemon set "logs" successfully rolled out\n'), ds.stdout);

  const uids = new Set((await client.list(pods, 'default', { labelSelector: 'app=logs' })).items.map((pod) => pod.metadata.uid));
  t.same(await pm8s(server, ['rollout', 'restart', 'daemonset/logs']), { code: 0, stdout: 'daemonset.apps/logs restarted\n', stderr: '' });
  await waitFor(
    async () => {
      const now = (await client.list(pods, 'default', { labelSelector: 'app=logs' })).items;
      return now.length === 2 && now.every((pod) => !uids.has(pod.metadata.uid) && !pod.metadata.deletionTimestamp);
    },
    { what: 'every logs pod replaced', timeout: 15_000 },
  );
  t.equal((await pm8s(server, ['rollout', 'status', 'ds/logs', '--timeout', '20s'])).code, 0);
  t.same(await pm8s(server, ['rollout', 'restart', 'sts/db']), { code: 0, stdout: 'statefulset.apps/db restarted\n', stderr: '' });

  const history = await pm8s(server, ['rollout', 'history', 'sts/db']);
  t.equal(history.code, 1);
  t.match(history.stderr, /^error: rollout history is only available for deployments/);
  t.match((await pm8s(server, ['rollout', 'undo', 'ds/logs'])).stderr, /^error: rollout undo is only available for deployments/);
  t.same(await pm8s(server, ['rollout', 'pause', 'ds/logs']), { code: 1, stdout: '', stderr: 'error: daemonsets.apps "logs" pausing is not supported\n' });
});
