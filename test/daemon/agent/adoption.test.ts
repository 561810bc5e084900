import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { adoptRunningContainers, type AdoptionPlan } from '../../../src/daemon/agent/adoption.js';
import { LocalState, type ContainerRecord } from '../../../src/daemon/agent/local-state.js';
import type { ScannedContainer } from '../../../src/runtime/cgroups/cgroup-driver.js';
import { detectCgroupDriver } from '../../../src/runtime/cgroups/detect-cgroup-driver.js';
import { V1Driver } from '../../../src/runtime/cgroups/v1-driver.js';
import { startProcess } from '../../../src/runtime/process/index.js';
import { readProcStat } from '../../../src/runtime/process/proc-stat.js';
import { waitFor } from '../../helpers/wait.js';

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const cgroupRoot = `pm8s-test-${process.pid}`;
const driver = await detectCgroupDriver({ root: cgroupRoot });
// As in start-process.test.ts: v2 would build below (and move) this test's own cgroup; this host offers v1/hybrid.
const noCgroups = driver instanceof V1Driver ? undefined : `no writable v1/hybrid cgroups here (driver ${driver.kind}: ${driver.reason ?? 'not v1/hybrid'})`;
if (noCgroups !== undefined) t.comment(`skipping cgroup adoption tests: ${noCgroups}`);
if (driver instanceof V1Driver) {
  t.teardown(async () => {
    for (const mount of driver.mountPoints) await rmdir(join(mount, cgroupRoot)).catch(() => undefined);
  });
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Starts `sh -c 'sleep 300; exit 42'` in its own cgroup; every process and the cgroup are removed in teardown. */
async function startContainer(t: Test, dir: string, podUid: string): Promise<ContainerRecord> {
  const cgroupHandle = await driver.createContainer(podUid, 'app', {});
  const logPath = join(dir, `${podUid}.log`);
  const logFd = openSync(logPath, 'a');
  const started = await startProcess({ command: ['sh', '-c', 'sleep 300; exit 42'], env: ENV, logFd, statusFile: join(dir, `${podUid}.status`), cgroupJoin: driver.joinCommand(cgroupHandle) });
  closeSync(logFd);
  if (!started.ok) throw new Error(started.message);
  t.teardown(async () => {
    kill(started.handle.pid);
    await driver.signalAll(cgroupHandle, 'SIGKILL');
    await driver.remove(cgroupHandle);
  });
  // Both the command's sh and its sleep are in the cgroup before the container counts as started.
  await waitFor(async () => (await driver.pids(cgroupHandle)).some((pid) => comm(pid) === 'sleep'), { what: `${podUid} running` });
  return {
    podUid,
    namespace: 'default',
    podName: `pod-${podUid}`,
    containerName: 'app',
    restartCount: 0,
    process: started.handle.toJSON(),
    cgroupHandle,
    oomKillsAtStart: await driver.oomKills(cgroupHandle),
    tracker: { version: 1, phase: 'running', restartCount: 0 },
    logPath,
  };
}

/** The invariant: every cgroup with a live process is adopted or flagged for stopping — never left for a fresh start. */
function assertNoSecondCopy(t: Test, plan: AdoptionPlan, scan: ScannedContainer[]): void {
  for (const cgroup of scan) {
    const live = cgroup.pids.filter((pid) => comm(pid) !== undefined);
    const entries = plan.entries.filter((entry) => entry.podUid === cgroup.podUid && entry.containerName === cgroup.containerName);
    t.equal(entries.length, 1, `one plan entry for ${cgroup.handle}`);
    const entry = entries[0];
    if (live.length === 0 || entry === undefined) continue;
    const keeps = entry.outcome === 'adopted' || entry.outcome === 'adoptedFromCgroup' || entry.outcome === 'orphaned' || (entry.outcome === 'exitedWhileDown' && entry.leftoverPids.length > 0);
    t.ok(keeps, `${cgroup.handle} has live processes and is ${entry.outcome}, not free to start again`);
  }
}

t.test('re-adoption by state, exits while down, and by cgroup scan when the state is lost', { skip: noCgroups ?? false }, async (t) => {
  const dir = t.testdir();
  const state = await LocalState.open(join(dir, 'data'));
  const records: ContainerRecord[] = [];
  for (let i = 0; i < 10; i++) {
    const record = await startContainer(t, dir, `uid-${i}`);
    await state.put(record); // D7: committed before it would be reported Running
    records.push(record);
  }
  state.close();

  // The agent restarts: a new LocalState, the same processes.
  const reopened = await LocalState.open(join(dir, 'data'));
  let scan = await driver.scan();
  let plan = await adoptRunningContainers({ state: reopened, driver, scan });
  t.equal(plan.stateLoss, undefined);
  t.same(plan.entries.map((entry) => entry.outcome), Array(10).fill('adopted'), 'all 10 adopted');
  t.same(plan.entries.map((entry) => (entry.outcome === 'adopted' ? entry.handle.pid : 0)), records.map((record) => record.process!.pid), 'with the same PIDs');
  assertNoSecondCopy(t, plan, scan);

  // While the agent is down: container 3's command ends (exit 42); container 7's wrapper is killed, its command lives on.
  const three = records[3]!;
  const seven = records[7]!;
  const sleep3 = (await driver.pids(three.cgroupHandle!)).find((pid) => comm(pid) === 'sleep');
  kill(sleep3);
  await waitFor(async () => (await readProcStat(three.process!.pid)) === undefined || (await readProcStat(three.process!.pid))?.state === 'Z', { what: 'container 3 exited' });
  kill(seven.process!.pid);
  await waitFor(async () => (await readProcStat(seven.process!.pid))?.state !== 'S', { what: 'wrapper 7 gone' });

  scan = await driver.scan();
  plan = await adoptRunningContainers({ state: reopened, driver, scan });
  const byPod = new Map(plan.entries.map((entry) => [entry.podUid, entry]));
  t.match(byPod.get('uid-3'), { outcome: 'exitedWhileDown', exitResult: { exitCode: 42, reason: 'Error' }, leftoverPids: [] }, 'the true exit code');
  t.match(byPod.get('uid-7'), { outcome: 'orphaned', cgroupHandle: seven.cgroupHandle }, 'a command without its wrapper is flagged, not restarted beside itself');
  t.equal(plan.entries.filter((entry) => entry.outcome === 'adopted').length, 8);
  assertNoSecondCopy(t, plan, scan);
  reopened.close();

  // The state file is deleted: everything live is found again through the cgroups.
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  const empty = await LocalState.open(join(dir, 'data'));
  t.teardown(() => empty.close());
  t.match(empty.startedEmpty, { reason: 'missing' });
  scan = await driver.scan();
  plan = await adoptRunningContainers({ state: empty, driver });
  t.match(plan.stateLoss, { reason: 'missing' });
  const found = new Map(plan.entries.map((entry) => [entry.podUid, entry]));
  for (const [i, record] of records.entries()) {
    const entry = found.get(record.podUid);
    if (i === 3) t.match(entry, { outcome: 'emptyCgroup' }, 'the exited container left an empty cgroup');
    else if (i === 7) t.match(entry, { outcome: 'orphaned' });
    else {
      t.match(entry, { outcome: 'adoptedFromCgroup', cgroupHandle: record.cgroupHandle }, `${record.podUid} adopted from its cgroup`);
      if (entry?.outcome === 'adoptedFromCgroup') {
        t.same(entry.handle.toJSON(), record.process, `${record.podUid}: same wrapper pid, start time and status file`);
      }
    }
  }
  t.equal(plan.entries.length, 10, 'none missing, none extra');
  assertNoSecondCopy(t, plan, scan);
});

t.test('a reused pid is never adopted nor signalled', { skip: noCgroups ?? false }, async (t) => {
  const dir = t.testdir();
  const record = await startContainer(t, dir, 'uid-reuse');
  const stranger = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => kill(stranger.pid));
  const strangerPid = stranger.pid!;
  const strangerStat = await waitFor(() => readProcStat(strangerPid), { what: 'stranger running' });
  t.not(strangerStat.startTime, record.process!.startTime, 'the stranger started later than the container');

  const state = await LocalState.open(join(dir, 'data'));
  t.teardown(() => state.close());
  // The container's record now names the stranger's pid with the container's start time ...
  await state.put({ ...record, process: { ...record.process!, pid: strangerPid } });
  // ... and a container whose cgroup and status are gone names it too.
  await state.put({ ...record, podUid: 'uid-gone', cgroupHandle: undefined, process: { pid: strangerPid, startTime: record.process!.startTime, statusFile: join(dir, 'none.status') } });

  const scan = await driver.scan();
  const plan = await adoptRunningContainers({ state, driver, scan });
  const byPod = new Map(plan.entries.map((entry) => [entry.podUid, entry]));
  const adopted = byPod.get('uid-reuse');
  t.match(adopted, { outcome: 'adoptedFromCgroup' }, 'the real container is found through its cgroup');
  t.equal(adopted?.outcome === 'adoptedFromCgroup' ? adopted.handle.pid : undefined, record.process!.pid, 'the real wrapper, not the stranger');
  t.match(byPod.get('uid-gone'), { outcome: 'lost', exitResult: { reason: 'ContainerStatusUnknown', exitCode: 137 } });
  for (const entry of plan.entries) {
    if (entry.outcome === 'adopted' || entry.outcome === 'adoptedFromCgroup') t.not(entry.handle.pid, strangerPid);
    if (entry.outcome === 'orphaned') t.notOk(entry.pids.includes(strangerPid));
  }
  assertNoSecondCopy(t, plan, scan);
  t.equal(stranger.exitCode, null);
  t.equal(stranger.signalCode, null);
  t.match(await readProcStat(strangerPid), { startTime: strangerStat.startTime }, 'the stranger still runs, unsignalled');
});
