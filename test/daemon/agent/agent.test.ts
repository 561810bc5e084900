/**
 * The agent end to end on one real node: registration and Lease, pods as real processes with the
 * status Kubernetes would report, restarts, probes, graceful deletion and logs through the API.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { HttpClient } from '../../../src/client/http-client.js';
import { loadKubeconfig, resolveContextWithFiles } from '../../../src/client/kubeconfig.js';
import { commandPid, conditionOf, containerStatus, phaseOf, startAgentCluster, wrapperPid } from '../../helpers/agent-cluster.js';
import { freePort, httpServer, scratchDir } from '../../helpers/runner.js';
import { waitFor } from '../../helpers/wait.js';
import { NoneDriver } from '../../../src/runtime/cgroups/none-driver.js';

const nodes = resolveResource('nodes')!;
const leases = resolveResource('leases')!;
const pods = resolveResource('pods')!;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('registers its Node with capacity, labels, conditions and a Lease', async (t) => {
  const cluster = await startAgentCluster(t);
  const node = await cluster.client.get(nodes, undefined, cluster.nodeName);
  const status = node.status as Record<string, any>;
  t.match(node.metadata.labels, { 'kubernetes.io/hostname': cluster.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': /\w+/ });
  t.match(status.capacity, { cpu: /^\d+$/, memory: /^\d+Ki$/, pods: '110' });
  t.same(status.allocatable, status.capacity);
  t.match(status.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname' }]);
  t.equal(status.daemonEndpoints.kubeletEndpoint.Port, cluster.agent.port);
  const conditions = Object.fromEntries((status.conditions as Array<{ type: string; status: string }>).map((c) => [c.type, c.status]));
  t.same(conditions, { MemoryPressure: 'False', DiskPressure: 'False', PIDPressure: 'False', Ready: 'True', LimitsEnforced: cluster.driver.enforced ? 'True' : 'False' });
  const lease = await cluster.client.get(leases, 'kube-node-lease', cluster.nodeName);
  const first = (lease.spec as { renewTime: string }).renewTime;
  await waitFor(async () => ((await cluster.client.get(leases, 'kube-node-lease', cluster.nodeName)).spec as { renewTime: string }).renewTime !== first, { what: 'lease renewed' });
});

t.test('a pod running an HTTP fixture becomes Running and Ready; SIGKILL of its process restarts it', async (t) => {
  const cluster = await startAgentCluster(t);
  const port = await freePort();
  const flags = scratchDir(t);
  await cluster.createPod('web', { containers: [{ name: 'web', command: httpServer(port, flags), readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 1 } }] });
  const ready = await cluster.waitForPod('web', (pod) => phaseOf(pod) === 'Running' && conditionOf(pod, 'Ready') === 'True', 'Running and Ready');
  const status = ready.status as Record<string, any>;
  t.match(status, { hostIP: '127.0.0.1', podIP: '127.0.0.1', qosClass: 'BestEffort', startTime: /Z$/ });
  t.same(status.conditions.map((c: { type: string }) => c.type).sort(), ['ContainersReady', 'Initialized', 'PodScheduled', 'Ready']);
  const web = containerStatus(ready)!;
  t.match(web, { name: 'web', ready: true, started: true, restartCount: 0, state: { running: { startedAt: /Z$/ } }, containerID: /^pm8s:\/\/\d+-\d+$/ });
  const response = await fetch(`http://127.0.0.1:${port}/hello`);
  t.equal(response.status, 200, 'the process serves');

  process.kill(commandPid(web.containerID), 'SIGKILL');
  const restarted = await cluster.waitForPod('web', (pod) => containerStatus(pod)?.restartCount === 1 && containerStatus(pod)?.ready === true, 'restarted and Ready');
  const after = containerStatus(restarted)!;
  t.match(after.lastState.terminated, { exitCode: 137, signal: 9, reason: 'Error', containerID: web.containerID });
  t.not(after.containerID, web.containerID, 'a new process');
});

t.test('crash loop backs off; Never and OnFailure end Succeeded or Failed', async (t) => {
  const cluster = await startAgentCluster(t);
  await cluster.createPod('crash', { containers: [{ name: 'crash', command: ['sh', '-c', 'echo dying; exit 3'] }] });
  await cluster.createPod('never', { restartPolicy: 'Never', containers: [{ name: 'main', command: ['sh', '-c', 'exit 4'] }] });
  await cluster.createPod('onfailure', { restartPolicy: 'OnFailure', containers: [{ name: 'main', command: ['sh', '-c', 'exit 0'] }] });
  await cluster.createPod('missing', { restartPolicy: 'Never', containers: [{ name: 'main', command: ['/nonexistent/binary'] }] });
  const looping = await cluster.waitForPod('crash', (pod) => containerStatus(pod)?.state.waiting?.reason === 'CrashLoopBackOff' && (containerStatus(pod)?.restartCount ?? 0) >= 2, 'CrashLoopBackOff');
  t.equal(phaseOf(looping), 'Running', 'a restarting pod under Always is Running');
  t.match(containerStatus(looping)!.lastState.terminated, { exitCode: 3, reason: 'Error' });
  t.match(containerStatus(looping)!.state.waiting.message, /^back-off .* restarting failed container=crash pod=crash_default\(/);
  const never = await cluster.waitForPod('never', (pod) => phaseOf(pod) === 'Failed', 'Failed');
  t.match(containerStatus(never)!.state.terminated, { exitCode: 4, reason: 'Error' });
  const onFailure = await cluster.waitForPod('onfailure', (pod) => phaseOf(pod) === 'Succeeded', 'Succeeded');
  t.match(containerStatus(onFailure)!.state.terminated, { exitCode: 0, reason: 'Completed' });
  t.equal(containerStatus(onFailure)!.restartCount, 0);
  const missing = await cluster.waitForPod('missing', (pod) => phaseOf(pod) === 'Failed', 'Failed with StartError');
  t.match(containerStatus(missing)!.state.terminated, { exitCode: 128, reason: 'StartError', message: /no such file or directory/ });
  const events = await cluster.client.list(resolveResource('events')!, 'default');
  t.ok(events.items.some((e) => (e as Record<string, any>).reason === 'BackOff' && (e as Record<string, any>).involvedObject.name === 'crash'), 'a BackOff event');
});

t.test('liveness failure restarts; readiness failure flips Ready without a restart', async (t) => {
  const cluster = await startAgentCluster(t);
  const port = await freePort();
  const flags = scratchDir(t);
  // Scaled by 0.1: liveness begins after 3 s, and an answer within 1 s is never a failure on a loaded machine.
  const probe = (probePath: string, initialDelaySeconds = 0) => ({ httpGet: { path: probePath, port }, periodSeconds: 1, timeoutSeconds: 10, failureThreshold: 2, initialDelaySeconds });
  await cluster.createPod('probed', { containers: [{ name: 'web', command: httpServer(port, flags), readinessProbe: probe('/ready'), livenessProbe: probe('/healthz', 30) }] });
  await cluster.waitForPod('probed', (pod) => conditionOf(pod, 'Ready') === 'True', 'Ready');
  writeFileSync(path.join(flags, 'ready'), '');
  const unready = await cluster.waitForPod('probed', (pod) => conditionOf(pod, 'Ready') === 'False', 'not Ready');
  t.equal(containerStatus(unready)!.restartCount, 0, 'readiness never restarts');
  t.equal(phaseOf(unready), 'Running');
  writeFileSync(path.join(flags, 'healthz'), '');
  await cluster.waitForPod('probed', (pod) => (containerStatus(pod)?.restartCount ?? 0) >= 1, 'liveness restart');
  const events = await cluster.client.list(resolveResource('events')!, 'default');
  const reasons = events.items.map((e) => `${(e as Record<string, any>).reason}: ${(e as Record<string, any>).message}`);
  t.ok(reasons.some((r) => r.startsWith('Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500')), reasons.join('\n'));
  t.ok(reasons.some((r) => r === 'Killing: Container web failed liveness probe, will be restarted'), reasons.join('\n'));
});

t.test('deleting a pod that ignores SIGTERM and forked a grandchild: both gone after the grace period, the port free, every trace removed', async (t) => {
  const cluster = await startAgentCluster(t);
  const port = await freePort();
  const grandchild = `process.on('SIGTERM',()=>{});require('net').createServer().listen(${port},'127.0.0.1')`;
  await cluster.createPod('stubborn', {
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'main', command: ['sh', '-c', `trap '' TERM; ${JSON.stringify(process.execPath)} -e "${grandchild}" & wait; wait`] }],
  });
  const running = await cluster.waitForPod('stubborn', (pod) => phaseOf(pod) === 'Running', 'Running');
  await waitFor(async () => !(await portFree(port)), { what: 'grandchild listening' });
  const wrapper = wrapperPid(containerStatus(running)!.containerID);
  const shell = commandPid(containerStatus(running)!.containerID);
  const uid = running.metadata.uid!;
  const began = Date.now();
  await cluster.client.delete(pods, 'default', 'stubborn');
  await waitFor(async () => (await cluster.client.get(pods, 'default', 'stubborn').catch(() => undefined)) === undefined, { what: 'pod object gone', timeout: 15_000 });
  const took = Date.now() - began;
  t.ok(took >= 900, `the grace period was honoured (${took} ms)`);
  t.notOk(alive(wrapper), 'wrapper gone');
  t.notOk(alive(shell), 'command gone');
  t.ok(await portFree(port), 'the port is free: no orphan holds it');
  t.equal(cluster.agent.state.list().filter((r) => r.podUid === uid).length, 0, 'local records removed');
  t.notOk(existsSync(path.join(cluster.dataDir, 'pods', `default_stubborn_${uid}`)), 'logs removed');
});

t.test('a repeated delete with a shorter grace period cuts a stop under way short, as in Kubernetes', async (t) => {
  const cluster = await startAgentCluster(t);
  const flags = scratchDir(t);
  await cluster.createPod('slow', {
    terminationGracePeriodSeconds: 60,
    containers: [{ name: 'main', command: ['sh', '-c', `trap "touch ${flags}/term" TERM; touch ${flags}/armed; while :; do sleep 0.1; done`] }],
  });
  const running = await cluster.waitForPod('slow', (pod) => phaseOf(pod) === 'Running', 'Running');
  await waitFor(() => existsSync(path.join(flags, 'armed')), { what: 'the trap set' });
  const shell = commandPid(containerStatus(running)!.containerID);
  await cluster.client.delete(pods, 'default', 'slow');
  await waitFor(() => existsSync(path.join(flags, 'term')), { what: 'SIGTERM: the 60 s stop began' });
  const began = Date.now();
  const shortened = await cluster.client.delete(pods, 'default', 'slow', { gracePeriodSeconds: 1 });
  t.equal(shortened.metadata.deletionGracePeriodSeconds, 1, 'the API took the shorter grace period');
  await waitFor(async () => (await cluster.client.get(pods, 'default', 'slow').catch(() => undefined)) === undefined, { what: 'pod gone', timeout: 20_000 });
  const took = Date.now() - began;
  t.ok(took < 20_000, `gone ${took} ms after the shorter delete, not after the first one's 60 s`);
  t.notOk(alive(shell), 'the process is gone');
});

t.test('status writes are coalesced: a steady pod causes no writes', async (t) => {
  const cluster = await startAgentCluster(t);
  await cluster.createPod('steady', { containers: [{ name: 'main', command: ['sleep', '1000'] }] });
  await cluster.waitForPod('steady', (pod) => phaseOf(pod) === 'Running' && conditionOf(pod, 'Ready') === 'True', 'Running');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = cluster.agent.reporter.writes;
  t.ok(before <= 3, `at most a few writes to reach Running (${before})`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal(cluster.agent.reporter.writes, before, 'no writes while nothing changes');
});

t.test('logs through the API server: tail, previous, errors as Status; the node API refuses unknown tokens', async (t) => {
  const cluster = await startAgentCluster(t);
  const config = await loadKubeconfig(cluster.server.kubeconfigPath);
  const context = await resolveContextWithFiles(config);
  const client = new HttpClient({ server: context.server, token: context.token!, caPem: context.caPem! });
  t.teardown(() => client.close());
  await cluster.createPod('talker', { containers: [{ name: 'main', command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; sleep 0.3; exit 1'] }] });
  await cluster.waitForPod('talker', (pod) => (containerStatus(pod)?.restartCount ?? 0) >= 1, 'restarted once');
  const read = async (query: Record<string, string>) => {
    const { response } = await client.stream('GET', '/api/v1/namespaces/default/pods/talker/log', query);
    let text = '';
    for await (const chunk of response) text += (chunk as Buffer).toString();
    return text;
  };
  t.equal(await read({ previous: 'true', tailLines: '2' }), 'line 4\nline 5\n');
  t.equal(await read({ previous: 'true', container: 'main' }), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
  await t.rejects(read({ container: 'nope' }), { code: 400, message: /container nope is not valid for pod talker/ });
  await t.rejects(read({ timestamps: 'true' }), { code: 400 });
  await t.rejects(client.stream('GET', '/api/v1/namespaces/default/pods/ghost/log'), { code: 404 });
  // A token the server does not know cannot reach the node API directly either.
  const direct = await fetch(`https://127.0.0.1:${cluster.agent.port}/containerLogs/default/talker/main`, { headers: { authorization: 'Bearer nope.nope' } }).catch((error: Error) => error);
  t.ok(direct instanceof Error || direct.status === 401, 'unauthenticated node API request refused');
});

t.test('without writable cgroups pods still run, and the Node and a pod event say limits are not enforced', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { driver: new NoneDriver('cgroups under /sys/fs/cgroup are not writable by this process (test)') } });
  const node = await cluster.client.get(nodes, undefined, cluster.nodeName);
  const limits = ((node.status as Record<string, any>).conditions as Array<Record<string, string>>).find((c) => c.type === 'LimitsEnforced');
  t.match(limits, { status: 'False', reason: 'CgroupsUnavailable', message: /pod limits are NOT enforced: cgroups under \/sys\/fs\/cgroup are not writable/ });
  await cluster.createPod('free', { containers: [{ name: 'main', command: ['sleep', '1000'], resources: { limits: { memory: '64Mi' } } }] });
  await cluster.waitForPod('free', (pod) => phaseOf(pod) === 'Running', 'Running without limits');
  const events = await waitFor(async () => {
    const list = await cluster.client.list(resolveResource('events')!, 'default');
    return list.items.find((e) => (e as Record<string, any>).reason === 'LimitsNotEnforced');
  }, { what: 'the LimitsNotEnforced event' });
  t.match(events, { type: 'Warning', message: /resource limits are not enforced on node/ });
});

t.test('pods deleted while the agent was down are stopped when it returns: graceful deletions confirmed, force-deleted ones found gone', async (t) => {
  const cluster = await startAgentCluster(t);
  await cluster.createPod('graceful', { containers: [{ name: 'main', command: ['sleep', '1000'] }] });
  await cluster.createPod('forced', { containers: [{ name: 'main', command: ['sleep', '1000'] }] });
  await cluster.createPod('kept', { containers: [{ name: 'main', command: ['sleep', '1000'] }] });
  const pids = new Map<string, number>();
  for (const name of ['graceful', 'forced', 'kept']) {
    const pod = await cluster.waitForPod(name, (p) => phaseOf(p) === 'Running', 'Running');
    pids.set(name, wrapperPid(containerStatus(pod)!.containerID));
  }
  await cluster.restartAgent({
    beforeStart: async () => {
      await cluster.client.delete(pods, 'default', 'graceful');
      await cluster.client.delete(pods, 'default', 'forced', { gracePeriodSeconds: 0 });
      t.ok(alive(pids.get('graceful')!) && alive(pids.get('forced')!), 'nothing stops a pod while no agent runs');
    },
  });
  await waitFor(async () => (await cluster.client.get(pods, 'default', 'graceful').catch(() => undefined)) === undefined, { what: 'the graceful deletion confirmed' });
  await waitFor(() => !alive(pids.get('graceful')!) && !alive(pids.get('forced')!), { what: 'both stopped' });
  t.ok(alive(pids.get('kept')!), 'the pod that was not deleted kept its process');
  const kept = await cluster.getPod('kept');
  t.equal(wrapperPid(containerStatus(kept)!.containerID), pids.get('kept'), 'and its status still names it');
  await waitFor(() => cluster.agent.state.list().every((record) => record.podName === 'kept'), { what: 'the deleted pods forgotten' });
  t.same(cluster.agent.state.list().map((record) => record.podName), ['kept'], 'only the kept pod is still recorded');
});
