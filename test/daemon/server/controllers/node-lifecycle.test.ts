import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { ApiError } from '../../../../src/api/errors.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { InProcessClient } from '../../../../src/client/in-process-client.js';
import type { ControllerConfig } from '../../../../src/daemon/server/controllers/controller.js';
import { DEFAULT_CONTROLLER_CONFIG } from '../../../../src/daemon/server/controllers/controller.js';
import { createControllers } from '../../../../src/daemon/server/controllers/index.js';
import { startControllers } from '../../../../src/daemon/server/controllers/manager.js';
import type { Taint } from '../../../../src/daemon/server/controllers/node-lifecycle.js';
import { NodeLifecycleController, readyCondition, taintsOf } from '../../../../src/daemon/server/controllers/node-lifecycle.js';
import { TaintEvictionController } from '../../../../src/daemon/server/controllers/taint-eviction.js';
import { startServer } from '../../../../src/daemon/server/server.js';
import { silentLogger } from '../../../../src/lib/logger.js';
import { SimulatedCluster } from '../../../../src/testing/simulated-nodes.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';
import { SQLITE_LOCKER } from '../../../helpers/sqlite-locker.js';

const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;
const events = resolveResource('events')!;
const configmaps = resolveResource('configmaps')!;
const deployments = resolveResource('deployments')!;

const GRACE_MS = 1500;
const TIMERS = { nodeMonitorGracePeriodMs: GRACE_MS, nodeMonitorPeriodMs: 200, defaultTolerationSeconds: 1 };
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const NOT_READY = 'node.kubernetes.io/not-ready';

type Toleration = NonNullable<Pod['spec']['tolerations']>[number];

function podOn(name: string, nodeName: string, tolerations?: Toleration[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, containers: [{ name: 'main', image: 'app', command: ['sleep', '1000'] }], ...(tolerations ? { tolerations } : {}) },
  };
}

const getNode = (client: InProcessClient, name: string) => client.get(nodes, undefined, name);
const readyOf = async (client: InProcessClient, name: string) => readyCondition(await getNode(client, name));
const taintsOn = async (client: InProcessClient, name: string): Promise<string[]> =>
  taintsOf(await getNode(client, name)).map((taint) => `${taint.key}:${taint.effect}`).sort();
const podOrUndefined = async (client: InProcessClient, name: string): Promise<KubeObject | undefined> => {
  try {
    return await client.get(pods, 'default', name);
  } catch (error) {
    if ((error as ApiError).code === 404) return undefined;
    throw error;
  }
};
/** The pod once it is marked for deletion. */
const terminating = async (client: InProcessClient, name: string): Promise<KubeObject | undefined> => {
  const pod = await client.get(pods, 'default', name);
  return pod.metadata.deletionTimestamp ? pod : undefined;
};
const eventsFor = async (client: InProcessClient, name: string, reason: string) =>
  (await client.list(events, 'default')).items.filter((event) => event.reason === reason && (event.involvedObject as { name?: string }).name === name);

/** Bounded pause for "nothing happens" assertions: long enough for several grace periods to pass. */
const quietPeriod = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('new pods tolerate not-ready/unreachable for defaultTolerationSeconds unless they already do', async (t) => {
  const { client } = await startTestCluster(t, { controllers: { ...TIMERS, defaultTolerationSeconds: 42 } });
  const plain = (await client.create(pods, 'default', podOn('plain', ''))) as Pod;
  t.same(plain.spec.tolerations, [
    { key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 42 },
    { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 42 },
  ]);
  const own = (await client.create(pods, 'default', podOn('own', '', [{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }]))) as Pod;
  t.same(own.spec.tolerations, [
    { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 42 },
  ], 'its own unreachable toleration is kept; only not-ready is added');
  const everything = (await client.create(pods, 'default', podOn('everything', '', [{ operator: 'Exists' }]))) as Pod;
  t.same(everything.spec.tolerations, [{ operator: 'Exists' }], 'a pod tolerating every taint gets nothing added');
});

t.test('a silent node goes Ready=Unknown and is tainted; pods are evicted by their tolerations; back, it is cleaned up', async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, { controllers: TIMERS, nodes: { a: {}, b: {}, c: {} } });
  await client.create(pods, 'default', podOn('default-toleration', 'b'));
  await client.create(pods, 'default', podOn('tolerates-4s', 'b', [{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 4 }]));
  await client.create(pods, 'default', podOn('tolerates-forever', 'b', [{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }]));
  await client.create(pods, 'default', podOn('elsewhere', 'a'));
  await waitFor(async () => (await client.list(pods, 'default')).items.every((pod) => (pod as Pod).status?.phase === 'Running'), { what: 'pods running' });

  const pausedAt = Date.now();
  cluster.pauseNode('b');
  const ready = await waitFor(async () => {
    const condition = await readyOf(client, 'b');
    return condition?.status === 'Unknown' ? condition : undefined;
  }, { what: 'node b Ready=Unknown' });
  // The grace period runs from the last renewal the controller saw, which may precede the pause.
  const lease = await client.get(resolveResource('leases')!, 'kube-node-lease', 'b');
  const renewed = Date.parse((lease as unknown as { spec: { renewTime: string } }).spec.renewTime);
  t.ok(renewed <= pausedAt + 50, 'no renewal after the pause');
  t.ok(Date.now() - renewed >= GRACE_MS, `not before the grace period (${Date.now() - renewed} ms after the last renewal)`);
  t.equal(ready.reason, 'NodeStatusUnknown');
  t.equal(ready.message, 'Kubelet stopped posting node status.');
  await waitFor(async () => (await taintsOn(client, 'b')).length === 2, { what: 'taints on b' });
  t.same(await taintsOn(client, 'b'), [`${UNREACHABLE}:NoExecute`, `${UNREACHABLE}:NoSchedule`]);
  const noExecute = taintsOf(await getNode(client, 'b')).find((taint) => taint.effect === 'NoExecute') as Taint;
  t.ok(noExecute.timeAdded, 'the NoExecute taint has timeAdded');
  const taintedAt = Date.parse(noExecute.timeAdded!);
  t.equal((await eventsFor(client, 'b', 'NodeNotReady')).length, 1, 'a NodeNotReady event');
  t.same(await taintsOn(client, 'a'), [], 'the other nodes are untouched');
  t.equal((await readyOf(client, 'a'))?.status, 'True');

  const defaultTolerating = await waitFor(() => terminating(client, 'default-toleration'), { what: 'the 1 s pod evicted' });
  t.ok(Date.parse(defaultTolerating.metadata.deletionTimestamp!) >= taintedAt + 1000, 'evicted no sooner than its 1 s toleration');
  t.notOk((await client.get(pods, 'default', 'tolerates-4s')).metadata.deletionTimestamp, 'the 4 s pod is still there');
  const [eviction] = await waitFor(() => eventsFor(client, 'default-toleration', 'TaintManagerEviction').then((list) => (list.length ? list : undefined)), { what: 'eviction event' });
  t.equal(eviction?.message, 'Marking for deletion Pod default/default-toleration');

  const fourSeconds = await waitFor(() => terminating(client, 'tolerates-4s'), { what: 'the 4 s pod evicted' });
  t.ok(Date.parse(fourSeconds.metadata.deletionTimestamp!) >= taintedAt + 4000, 'evicted no sooner than its 4 s toleration');
  t.notOk((await client.get(pods, 'default', 'tolerates-forever')).metadata.deletionTimestamp, 'a pod tolerating forever stays');
  t.notOk((await client.get(pods, 'default', 'elsewhere')).metadata.deletionTimestamp, 'a pod on a healthy node stays');

  await cluster.resumeNode('b');
  await waitFor(async () => (await taintsOn(client, 'b')).length === 0, { what: 'taints removed from b' });
  t.equal((await readyOf(client, 'b'))?.status, 'True');
  await waitFor(async () => !(await podOrUndefined(client, 'default-toleration')) && !(await podOrUndefined(client, 'tolerates-4s')), {
    what: 'the node confirming its evicted pods deleted',
  });
  t.notOk((await client.get(pods, 'default', 'tolerates-forever')).metadata.deletionTimestamp, 'the tolerating pod survived the outage');
});

t.test('a NoExecute taint a pod does not tolerate evicts it at once; Ready=False gives the not-ready taints', async (t) => {
  const { client } = await startTestCluster(t, { controllers: TIMERS, nodes: { a: {}, b: {}, c: {} } });
  await client.create(pods, 'default', podOn('victim', 'a'));
  await client.create(pods, 'default', podOn('dedicated', 'a', [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }]));
  await waitFor(async () => (await client.list(pods, 'default')).items.every((pod) => (pod as Pod).status?.phase === 'Running'), { what: 'pods running' });
  const node = await getNode(client, 'a');
  await client.update(nodes, undefined, { ...node, spec: { ...(node.spec as object), taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] } });
  await waitFor(async () => !(await podOrUndefined(client, 'victim')), { what: 'the intolerant pod evicted and confirmed' });
  t.ok(await podOrUndefined(client, 'dedicated'), 'the tolerating pod stays');

  // The agent reports its node not ready (its Lease keeps being renewed).
  const current = await getNode(client, 'c');
  const status = current.status as { conditions: Array<Record<string, string>> };
  await client.update(nodes, undefined, { ...current, status: { ...status, conditions: status.conditions.map((condition) => (condition.type === 'Ready' ? { ...condition, status: 'False', reason: 'KubeletNotReady' } : condition)) } }, { subresource: 'status' });
  await waitFor(async () => (await taintsOn(client, 'c')).length === 2, { what: 'not-ready taints' });
  t.same(await taintsOn(client, 'c'), [`${NOT_READY}:NoExecute`, `${NOT_READY}:NoSchedule`]);
  const notReady = await getNode(client, 'c');
  const back = notReady.status as { conditions: Array<Record<string, string>> };
  await client.update(nodes, undefined, { ...notReady, status: { ...back, conditions: back.conditions.map((condition) => (condition.type === 'Ready' ? { ...condition, status: 'True', reason: 'KubeletReady' } : condition)) } }, { subresource: 'status' });
  await waitFor(async () => (await taintsOn(client, 'c')).length === 0, { what: 'not-ready taints removed' });
});

t.test('full disruption: every node silent at once is marked Unknown and unschedulable, but nothing is evicted; one node heard again ends it', async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, { controllers: TIMERS, nodes: { a: {}, b: {}, c: {} } });
  await client.create(pods, 'default', podOn('web', 'a'));
  await waitFor(async () => (await client.get(pods, 'default', 'web') as Pod).status?.phase === 'Running', { what: 'pod running' });
  for (const name of ['a', 'b', 'c']) cluster.pauseNode(name);
  await quietPeriod(GRACE_MS * 3);
  for (const name of ['a', 'b', 'c']) {
    t.equal((await readyOf(client, name))?.status, 'Unknown', `${name} is marked Unknown, so nothing new is scheduled there`);
    t.same(
      await taintsOn(client, name),
      ['node.kubernetes.io/unreachable:NoSchedule'],
      `${name} is unschedulable but has no evicting NoExecute taint`,
    );
  }
  t.notOk((await client.get(pods, 'default', 'web')).metadata.deletionTimestamp, 'no pod evicted');

  // b and c are heard again; a stays silent, and after a fresh grace period it is judged as usual.
  const resumedAt = Date.now();
  await cluster.resumeNode('b');
  await cluster.resumeNode('c');
  await waitFor(async () => (await taintsOn(client, 'a')).includes('node.kubernetes.io/unreachable:NoExecute'), { what: 'a tainted NoExecute once the others are back' });
  t.ok(Date.now() - resumedAt >= GRACE_MS, 'a gets a full grace period after the disruption ends');
  await waitFor(async () => (await client.get(pods, 'default', 'web')).metadata.deletionTimestamp, { what: 'its pod evicted' });
  await waitFor(async () => (await readyOf(client, 'b'))?.status === 'True' && (await taintsOn(client, 'b')).length === 0, { what: 'b Ready and untainted' });
});

t.test('while the store reports itself unhealthy no node is judged; afterwards nodes get a fresh grace period', async (t) => {
  const server = await startServer({ dataDir: t.testdir(), listen: '127.0.0.1:0', logger: silentLogger, version: 'test', controllers: false });
  const client = new InProcessClient(server.api);
  const cluster = new SimulatedCluster(client, { leaseRenewMs: 200 });
  let healthy = false;
  const config: ControllerConfig = { ...DEFAULT_CONTROLLER_CONFIG, ...TIMERS, queue: { baseDelayMs: 5, maxDelayMs: 1000 } };
  const manager = startControllers({ client, controllers: [new NodeLifecycleController(), new TaintEvictionController()], config, logger: silentLogger, storeHealthy: () => healthy });
  t.teardown(async () => {
    cluster.stop();
    await manager.stop();
    await server.stop();
  });
  await manager.started;
  await cluster.start();
  for (const name of ['a', 'b', 'c']) await cluster.addNode(name);
  cluster.pauseNode('b');
  await quietPeriod(GRACE_MS * 3);
  t.equal((await readyOf(client, 'b'))?.status, 'True', 'a silent node is not marked while the store is unhealthy');
  t.same(await taintsOn(client, 'b'), []);
  const recoveredAt = Date.now();
  healthy = true;
  await waitFor(async () => (await readyOf(client, 'b'))?.status === 'Unknown', { what: 'b marked once the store is healthy' });
  t.ok(Date.now() - recoveredAt >= GRACE_MS, 'only after a fresh grace period');
  t.equal((await readyOf(client, 'a'))?.status, 'True', 'the renewing nodes stay Ready');
});


async function holdWriteLock(t: Test, database: string): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['-e', SQLITE_LOCKER, createRequire(import.meta.url).resolve('better-sqlite3'), database], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('locked') && resolve());
    child.once('close', () => reject(new Error('the locker exited before taking the lock')));
  });
  return async () => {
    child.stdin.write('release\n');
    await exited;
  };
}

t.test('another process holding the store\'s write lock stalls lease renewals, and no node is marked for it', async (t) => {
  const { client, server } = await startTestCluster(t, { controllers: TIMERS, nodes: { a: {}, b: {}, c: {} } });
  await client.create(pods, 'default', podOn('web', 'a'));
  await waitFor(async () => (await client.get(pods, 'default', 'web') as Pod).status?.phase === 'Running', { what: 'pod running' });
  const release = await holdWriteLock(t, path.join(path.dirname(server.kubeconfigPath), 'state.db'));
  // This write waits out the busy timeout (5 s, longer than the grace period) and fails: the store is stalled.
  const stalled = await client.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe' } }).then(
    () => undefined,
    (error: unknown) => error as ApiError,
  );
  await release();
  t.equal(stalled?.code, 503, 'a write during the lock fails 503');
  await quietPeriod(GRACE_MS * 3);
  for (const name of ['a', 'b', 'c']) {
    t.equal((await readyOf(client, name))?.status, 'True', `${name} is not marked NotReady for the server's own stall`);
    t.same(await taintsOn(client, name), [], `${name} is not tainted`);
  }
  t.notOk((await client.get(pods, 'default', 'web')).metadata.deletionTimestamp, 'no pod evicted');
  t.equal((await client.list(events, 'default')).items.filter((event) => event.reason === 'NodeNotReady').length, 0, 'no NodeNotReady event');
});

// Needs the Deployment and ReplicaSet controllers, which are written alongside this one.
const registered = new Set(createControllers().map((controller) => controller.name));
const missing = ['deployment', 'replicaset'].filter((name) => !registered.has(name));
const acceptance = missing.length > 0 ? { skip: `the ${missing.join(' and ')} controller(s) are not registered yet` } : {};

t.test('acceptance: a node stops renewing its Lease; its pods are replaced elsewhere; back, it gets no duplicates', acceptance, async (t) => {
  const { client, nodes: cluster } = await startTestCluster(t, { controllers: TIMERS, nodes: { a: {}, b: {}, c: {} } });
  const selector = { app: 'web' };
  await client.create(deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 6, selector: { matchLabels: selector }, template: { metadata: { labels: selector }, spec: { containers: [{ name: 'main', image: 'app', command: ['sleep', '1000'] }] } } },
  });
  const list = async () => ((await client.list(pods, 'default')).items as Pod[]).filter((pod) => pod.metadata.labels?.app === 'web');
  const active = (all: Pod[]) => all.filter((pod) => !pod.metadata.deletionTimestamp);
  const running = (all: Pod[]) => active(all).filter((pod) => pod.status?.phase === 'Running');
  await waitFor(async () => running(await list()).length === 6, { timeout: 15_000, what: '6 web pods running' });
  const onB = (await list()).filter((pod) => pod.spec.nodeName === 'b').map((pod) => pod.metadata.name!);
  t.ok(onB.length > 0, `node b runs ${onB.length} pods`);

  // Never more than 6 active pods at any observed moment.
  let mostActive = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      mostActive = Math.max(mostActive, active(await list()).length);
      await quietPeriod(50);
    }
  })();
  t.teardown(async () => {
    watching = false;
    await watch;
  });

  cluster.pauseNode('b');
  await waitFor(async () => (await readyOf(client, 'b'))?.status === 'Unknown', { what: 'b Ready=Unknown' });
  await waitFor(async () => (await taintsOn(client, 'b')).includes(`${UNREACHABLE}:NoExecute`), { what: 'b tainted' });
  await waitFor(
    async () => {
      const all = await list();
      const evicted = onB.every((name) => all.find((pod) => pod.metadata.name === name)?.metadata.deletionTimestamp);
      const replaced = running(all).filter((pod) => pod.spec.nodeName !== 'b');
      return evicted && replaced.length === 6;
    },
    { timeout: 15_000, what: "b's pods terminating and 6 running on a and c" },
  );
  t.ok(running(await list()).every((pod) => pod.spec.nodeName === 'a' || pod.spec.nodeName === 'c'), 'replacements run on the other nodes');

  await cluster.resumeNode('b');
  await waitFor(async () => (await list()).every((pod) => !onB.includes(pod.metadata.name!)), { what: "b's old pods deleted once it is back" });
  await waitFor(async () => (await taintsOn(client, 'b')).length === 0, { what: 'b untainted' });
  const final = await list();
  t.equal(final.length, 6, 'exactly 6 pods, no duplicates');
  t.equal(active(final).length, 6);
  t.equal(final.filter((pod) => pod.spec.nodeName === 'b').length, 0, 'the node coming back runs none of its old pods');
  watching = false;
  await watch;
  t.ok(mostActive <= 6, `never more than 6 active pods (most seen: ${mostActive})`);
});
