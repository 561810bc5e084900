import { existsSync, writeFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import type { Container } from '../../../src/api/kinds/container.js';
import { PodRunner, type PodRunnerStatus } from '../../../src/runtime/runner/pod-runner.js';
import { waitFor } from '../../helpers/wait.js';
import { freePort, httpServer, makePod, pidKiller, scratchDir, testDriver, TIMING } from '../../helpers/runner.js';

async function startPod(t: Test, spec: Parameters<typeof makePod>[0]) {
  const dir = scratchDir(t);
  const driver = await testDriver(t);
  const track = pidKiller(t);
  const statuses: PodRunnerStatus[] = [];
  const events: string[] = [];
  const eventTimes: number[] = [];
  const pod = makePod(spec);
  const runner = new PodRunner({
    pod, dirs: { logs: `${dir}/data`, state: `${dir}/state` }, cgroups: { driver }, timing: TIMING,
    onChange: (status) => {
      statuses.push(status);
      for (const c of [...(status.initContainerStatuses ?? []), ...status.containerStatuses]) track(c.containerID);
    },
    onEvent: (container, type, reason, message) => {
      events.push(`${container} ${type} ${reason} ${message}`);
      eventTimes.push(Date.now());
    },
  });
  const abort = new AbortController();
  const done = runner.run(abort.signal);
  t.teardown(async () => {
    await runner.stop(0);
    abort.abort();
    await done;
  });
  return { runner, statuses, events, eventTimes, done, dir, last: () => statuses.at(-1) };
}


const cond = (status: PodRunnerStatus | undefined, type: string) => status?.conditions.find((c) => c.type === type)?.status;
const sh = (name: string, script: string): Container => ({ name, command: ['sh', '-c', script] }) as Container;

t.test('an HTTP server with a readiness probe becomes Running and Ready; SIGKILL restarts it', async (t) => {
  const port = await freePort();
  const flags = scratchDir(t);
  const { runner, last, statuses } = await startPod(t, {
    containers: [{ name: 'web', command: httpServer(port, flags), readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 1 } } as Container],
  });
  await waitFor(() => last()?.phase === 'Running' && cond(last(), 'Ready') === 'True', { what: 'Running and Ready', timeout: 15_000 });
  const status = last()!;
  t.same(status.conditions.map((c) => c.type), ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  const web = status.containerStatuses[0]!;
  t.match(web, { name: 'web', ready: true, started: true, restartCount: 0, image: '', imageID: '', containerID: /^pm8s:\/\/\d+-\d+$/ });
  t.ok(web.state.running?.startedAt.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/));
  const pid = Number(/(\d+)-/.exec(web.containerID!)![1]);
  // Kill the command itself (the wrapper's child), as a user would kill "the process".
  const child = Number((await import('node:fs')).readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  process.kill(child, 'SIGKILL');
  await waitFor(() => runner.status().containerStatuses[0]?.restartCount === 1 && runner.status().containerStatuses[0]?.ready, { what: 'restarted and ready again', timeout: 15_000 });
  const after = runner.status().containerStatuses[0]!;
  t.match(after.lastState.terminated, { exitCode: 137, signal: 9, reason: 'Error' });
  t.not(after.containerID, web.containerID, 'a new process');
  t.ok(statuses.some((s) => cond(s, 'Ready') === 'False' && s.phase === 'Running'), 'Ready went False while it restarted');
  for (let i = 1; i < statuses.length; i++) t.not(JSON.stringify(statuses[i]), JSON.stringify(statuses[i - 1]), 'onChange only on change');
});

t.test('crash loop: CrashLoopBackOff with growing delays', async (t) => {
  const { runner, events } = await startPod(t, { containers: [sh('crash', 'exit 1')] });
  await waitFor(() => runner.status().containerStatuses[0]!.restartCount >= 3, { what: '3 restarts', timeout: 15_000 });
  const status = runner.status();
  const c = status.containerStatuses[0]!;
  t.equal(status.phase, 'Running', 'Always: a restarting pod is Running');
  t.match(c.lastState.terminated, { exitCode: 1, reason: 'Error' });
  await waitFor(() => runner.status().containerStatuses[0]!.state.waiting?.reason === 'CrashLoopBackOff', { what: 'CrashLoopBackOff' });
  t.match(runner.status().containerStatuses[0]!.state.waiting!.message, /^back-off \d+ms|^back-off [\d.]+s restarting failed container=crash pod=p\d+_default\(/);
  const backoffs = events.filter((e) => e.includes('BackOff'));
  t.ok(backoffs.length >= 2, 'BackOff events');
  t.match(backoffs[0], /Back-off restarting failed container crash in pod/);
});

t.test('crash-loop delays double (scaled)', async (t) => {
  const { events, eventTimes, statuses } = await startPod(t, { containers: [sh('crash', 'exit 1')] });
  const starts = () => events.flatMap((event, index) => (event.includes(' Started ') ? [eventTimes[index]!] : []));
  await waitFor(() => starts().length >= 5, { what: '5 starts', timeout: 20_000 });
  const at = starts();
  const gaps = at.slice(1).map((time, index) => time - at[index]!);
  // Test timing: the first restart is immediate, then 300, 600, 1200 ms (doubling, capped at 2 s).
  // The delays the runner chose are read from its messages; the gaps only show they were waited
  // (each gap also holds a start's own cost, which a loaded machine stretches).
  const delays = [...new Set(statuses.flatMap((s) => /^back-off (\S+) restarting/.exec(s.containerStatuses[0]?.state.waiting?.message ?? '')?.[1] ?? []))];
  t.same(delays.slice(0, 3), ['300ms', '600ms', '1.2s'], 'back-off doubles');
  t.ok(gaps[1]! >= 250, `second delay ~300 ms (${gaps[1]} ms)`);
  t.ok(gaps[2]! >= 550, `third delay ~600 ms (${gaps.join(', ')} ms)`);
  t.ok(gaps[3]! >= 1100, `fourth delay ~1200 ms (${gaps.join(', ')} ms)`);
});

t.test('restartPolicy Never and OnFailure end Succeeded or Failed', async (t) => {
  const never = await startPod(t, { restartPolicy: 'Never', containers: [sh('fail', 'exit 3')] });
  const onFailure = await startPod(t, { restartPolicy: 'OnFailure', containers: [sh('ok', 'exit 0')] });
  const neverOk = await startPod(t, { restartPolicy: 'Never', containers: [sh('ok', 'exit 0'), sh('ok2', 'sleep 0.2')] });
  const [a, b, c] = await Promise.all([never.done, onFailure.done, neverOk.done]);
  t.equal(a.phase, 'Failed');
  t.match(a.containerStatuses[0]!.state.terminated, { exitCode: 3, reason: 'Error' });
  t.equal(cond(a, 'Ready'), 'False');
  t.equal(b.phase, 'Succeeded');
  t.match(b.containerStatuses[0]!.state.terminated, { exitCode: 0, reason: 'Completed' });
  t.match(b.conditions.find((x) => x.type === 'Ready'), { status: 'False', reason: 'PodCompleted' });
  t.equal(c.phase, 'Succeeded', JSON.stringify(c));
});

t.test('a missing binary is a StartError, not a crash', async (t) => {
  const { done } = await startPod(t, { restartPolicy: 'Never', containers: [{ name: 'nope', command: ['/nonexistent/bin'] } as Container] });
  const status = await done;
  t.equal(status.phase, 'Failed');
  t.match(status.containerStatuses[0]!.state.terminated, { exitCode: 128, reason: 'StartError', message: /no such file or directory/ });
});

t.test('liveness failure restarts; readiness failure flips Ready without restart', async (t) => {
  const port = await freePort();
  const flags = scratchDir(t);
  // The liveness delay (3 s scaled) lets node start listening before a failure can count; a 1 s
  // timeout (scaled) keeps a slow answer on a loaded machine from counting as a failure.
  const probe = (path: string, initialDelaySeconds = 0) => ({ httpGet: { path, port }, periodSeconds: 1, timeoutSeconds: 10, failureThreshold: 2, initialDelaySeconds });
  const { runner, events } = await startPod(t, {
    containers: [{ name: 'web', command: httpServer(port, flags), readinessProbe: probe('/ready'), livenessProbe: probe('/healthz', 30) } as Container],
  });
  await waitFor(() => cond(runner.status(), 'Ready') === 'True', { what: 'Ready', timeout: 15_000 });
  writeFileSync(`${flags}/ready`, '');
  await waitFor(() => cond(runner.status(), 'Ready') === 'False', { what: 'not Ready' });
  t.match(runner.status().conditions.find((c) => c.type === 'ContainersReady'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [web]' });
  t.equal(runner.status().containerStatuses[0]!.restartCount, 0, 'readiness never restarts');
  t.ok(events.some((e) => e.includes('Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 500')), events.join('\n'));
  const before = runner.status().containerStatuses[0]!.restartCount;
  writeFileSync(`${flags}/healthz`, '');
  await waitFor(() => runner.status().containerStatuses[0]!.restartCount === before + 1, { what: 'liveness restart', timeout: 15_000 });
  t.ok(events.some((e) => e.includes('Normal Killing Container web failed liveness probe, will be restarted')));
});

t.test('init containers run in order before the app containers', async (t) => {
  const dir = scratchDir(t);
  const { done, statuses } = await startPod(t, {
    restartPolicy: 'Never',
    initContainers: [sh('one', `sleep 0.2; echo one >> ${dir}/order`), sh('two', `echo two >> ${dir}/order`)],
    containers: [sh('app', `echo app >> ${dir}/order`)],
  });
  const status = await done;
  t.equal((await import('node:fs')).readFileSync(`${dir}/order`, 'utf8'), 'one\ntwo\napp\n');
  t.equal(status.phase, 'Succeeded');
  const early = statuses.find((s) => s.initContainerStatuses?.[0]?.state.running !== undefined);
  t.equal(early?.phase, 'Pending', 'Pending while init containers run');
  t.match(early?.conditions.find((c) => c.type === 'Initialized'), { status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [one two]' });
  t.match(early?.containerStatuses[0]?.state.waiting, { reason: 'PodInitializing' });
});

t.test('a failing init container fails the pod under Never; the app never starts', async (t) => {
  const dir = scratchDir(t);
  const { done } = await startPod(t, { restartPolicy: 'Never', initContainers: [sh('bad', 'exit 2')], containers: [sh('app', `touch ${dir}/ran`)] });
  const status = await done;
  t.equal(status.phase, 'Failed');
  t.notOk((await import('node:fs')).existsSync(`${dir}/ran`));
});

t.test('stop kills every container in parallel', async (t) => {
  const flags = scratchDir(t);
  // Each script marks the moment its trap is set: "running" is reported when the process starts, before sh has read its script.
  const stubborn = (name: string) => sh(name, `trap "" TERM; touch ${flags}/${name}; sleep 30`);
  const { runner } = await startPod(t, { containers: [stubborn('a'), stubborn('b')] });
  await waitFor(() => existsSync(`${flags}/a`) && existsSync(`${flags}/b`), { what: 'both traps set' });
  const began = Date.now();
  const status = await runner.stop(0.5);
  const took = Date.now() - began;
  t.ok(took < 2_500, `both stopped within about one grace period (${took} ms)`);
  t.equal(status.phase, 'Failed');
  for (const c of status.containerStatuses) t.match(c.state.terminated, { exitCode: 137 });
});
