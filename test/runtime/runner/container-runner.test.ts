import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import type { Container } from '../../../src/api/kinds/container.js';
import { ContainerRunner } from '../../../src/runtime/runner/container-runner.js';
import type { ContainerRecord } from '../../../src/runtime/runner/container-status.js';
import { waitFor } from '../../helpers/wait.js';
import { alive, makePod, pidKiller, scratchDir, testDriver, TIMING } from '../../helpers/runner.js';

async function runner(t: Tap, container: Container, saved: ContainerRecord[] = []) {
  const dir = scratchDir(t);
  const driver = await testDriver(t);
  const track = pidKiller(t);
  const pod = makePod({ containers: [container], restartPolicy: 'Never' });
  const make = () => new ContainerRunner({
    pod, container, restartPolicy: 'Never', dirs: { logs: `${dir}/d`, state: `${dir}/s` }, cgroups: { driver }, timing: TIMING,
    onChange: (s) => track(s.containerID), onEvent: () => undefined, save: (r) => void saved.push(r),
  });
  return { make, driver, track };
}
type Tap = Test;

t.test('stop: a process ignoring SIGTERM and its grandchild are both gone after the grace period', async (t) => {
  const { make, track } = await runner(t, { name: 'stubborn', command: ['sh', '-c', 'trap "" TERM; sh -c "trap \\"\\" TERM; sleep 60" & sleep 60'] } as Container);
  const r = make();
  const done = r.run(new AbortController().signal);
  await waitFor(() => r.status().state.running, { what: 'running' });
  const pid = track(r.status().containerID)!;
  await waitFor(() => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '', { what: 'child' });
  const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim());
  await waitFor(() => readFileSync(`/proc/${child}/task/${child}/children`, 'utf8').trim().split(/\s+/).length >= 2, { what: 'grandchildren' });
  const family = readFileSync(`/proc/${child}/task/${child}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const status = await r.stop(300);
  await done;
  t.match(status.state.terminated, { exitCode: 137, signal: 9 });
  for (const p of [pid, child, ...family]) t.notOk(alive(p) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z '), `pid ${p} gone`);
});

t.test('detach leaves the process running; adopt re-attaches without a second copy', async (t) => {
  const saved: ContainerRecord[] = [];
  const { make, track } = await runner(t, { name: 'sleeper', command: ['sleep', '60'] } as Container, saved);
  const first = make();
  void first.run(new AbortController().signal);
  await waitFor(() => first.status().state.running, { what: 'running' });
  const pid = track(first.status().containerID)!;
  t.ok(saved.at(-1)?.process, 'the record was saved before Running');
  await first.detach();
  t.ok(alive(pid), 'still running after detach');
  const second = make();
  t.equal(await second.adopt(saved.at(-1)!), true);
  const done = second.run(new AbortController().signal);
  await waitFor(() => second.status().state.running, { what: 'running again' });
  t.equal(second.status().containerID, first.status().containerID, 'same pid and start time');
  t.equal(second.status().restartCount, 0);
  // The wrapper may not have forked its command yet (running is reported once the wrapper exists).
  const command = await waitFor(() => Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined, { what: 'the command' });
  process.kill(command, 'SIGTERM');
  const final = await done;
  t.match(final.state.terminated, { exitCode: 143, reason: 'Error' }, 'the exit of the adopted process is reported');
});

t.test('a memory hog over its limit is OOMKilled', async (t) => {
  const hog = `a=[];setInterval(()=>{const b=Buffer.alloc(16<<20);b.fill(1);a.push(b)},5)`;
  const { make, driver } = await runner(t, { name: 'hog', command: [process.execPath, '-e', hog], resources: { limits: { memory: '96Mi' } } } as Container);
  if (driver.kind === 'none') return void t.skip(`OOM needs cgroups: ${driver.reason ?? ''}`, () => undefined);
  const r = make();
  const final = await r.run(new AbortController().signal);
  t.match(final.state.terminated, { exitCode: 137, reason: 'OOMKilled' }, `driver ${driver.kind}`);
});
