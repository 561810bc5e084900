/**
 * The one conformance suite every cgroup driver must pass (the Hono habit). Driver test files call
 * `cgroupConformance` with a factory; controller-specific checks skip, with the driver's reason,
 * where the driver has no such controller (the v2 tree of this hybrid host has none).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from 'tap';
import { CgroupError, type CgroupController, type CgroupDriver, type CgroupErrorCode } from '../../src/runtime/cgroups/cgroup-driver.js';
import { killProcess, run } from './processes.js';
import { waitFor } from './wait.js';

export interface DriverUnderTest {
  driver: CgroupDriver;
  /** A new driver over the same tree, as after an agent restart that lost its state. */
  reopen(): Promise<CgroupDriver>;
  /** The directory of cgroup `path` in the hierarchy holding `controller` ('procs': where processes are listed). */
  dirOf(controller: CgroupController | 'procs', path: string): string;
  /** Every directory the driver builds in (its root in each hierarchy), removed after the tests. */
  rootDirs: string[];
}

/** Whether a pid names a live process (a zombie has exited and left its cgroup). */
export function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  // The state follows the last ')': the command name may hold spaces and parentheses.
  return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
}

function procField(pid: number, read: (stat: string) => string): string | undefined {
  try {
    return read(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw error;
  }
}

function command(pid: number): string | undefined {
  return procField(pid, (stat) => stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
}

function parentOf(pid: number): number | undefined {
  const parent = procField(pid, (stat) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '');
  return parent === undefined ? undefined : Number(parent);
}

/** Kills (by pid) whatever is left in a test's cgroup tree, then removes it bottom-up. */
export async function removeCgroupTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) await removeCgroupTree(join(dir, entry.name));
  const procs = (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
  for (const pid of procs) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  await waitFor(async () => {
    try {
      await rmdir(dir);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
      return false;
    }
  }, { timeout: 5_000, what: `${dir} to be removable` });
}

export async function rejectsWithCode(t: Test, promise: Promise<unknown>, code: CgroupErrorCode, message: string): Promise<void> {
  try {
    await promise;
    t.fail(`${message}: expected a CgroupError '${code}', but it resolved`);
  } catch (error) {
    t.ok(error instanceof CgroupError, `${message}: rejects with a CgroupError`, { error });
    t.equal((error as CgroupError).code, code, `${message}: code ${code}`);
  }
}

/** `sh -c '<join>; SCRIPT'`: the shell joins the cgroup first; killed by pid in teardown. */
export function startIn(t: Test, driver: CgroupDriver, handle: string, script: string): ChildProcess {
  const child = spawn('sh', ['-c', `${driver.joinCommand(handle)}; ${script}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => killProcess(child));
  return child;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

let sequence = 0;

/** A container in a fresh pod, killed and removed when the test ends. */
export async function freshContainer(
  t: Test,
  driver: CgroupDriver,
  limits: Parameters<CgroupDriver['createContainer']>[2] = {},
  podLimits?: Parameters<CgroupDriver['createContainer']>[3],
): Promise<string> {
  const handle = await driver.createContainer(`test-${process.pid}-${++sequence}`, 'main', limits, podLimits);
  t.teardown(async () => {
    await driver.signalAll(handle, 'SIGKILL');
    await driver.remove(handle);
  });
  return handle;
}

function skipUnless(driver: CgroupDriver, controller: CgroupController): { skip: string } | Record<string, never> {
  return driver.controllers.includes(controller) ? {} : { skip: `${driver.kind} driver has no ${controller} controller here: ${driver.reason ?? 'unknown reason'}` };
}

/** Runs the suite against `subject`, created by the caller beforehand so that skips can name its reason. */
export function cgroupConformance(t: Test, subject: DriverUnderTest): void {
  t.teardown(async () => {
    for (const dir of subject.rootDirs) await removeCgroupTree(dir);
  });
  const file = (controller: CgroupController, path: string, name: string) => readFile(join(subject.dirOf(controller, path), name), 'utf8').then((text) => text.trim());

  t.test('limits land in the cgroup files, and creating again rewrites them', async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver, { memoryBytes: 32n << 20n, cpuMillis: 500, cpuRequestMillis: 250, pidsMax: 20 }, { pidsMax: 50 });
    const podPath = handle.slice(0, handle.lastIndexOf('/'));
    t.ok(existsSync(subject.dirOf('procs', handle)), 'the container cgroup exists');
    t.equal(await driver.createContainer(handle.split('/').at(-2)!.slice(4), 'main', { cpuMillis: 1500 }), handle, 'creating again returns the same handle');
    await driver.createContainer(handle.split('/').at(-2)!.slice(4), 'main', { memoryBytes: 32n << 20n, cpuMillis: 500, cpuRequestMillis: 250, pidsMax: 20 }, { pidsMax: 50 });
    const v2 = driver.kind === 'v2';
    t.test('memory', skipUnless(driver, 'memory'), async (t) => {
      t.equal(await file('memory', handle, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(32 << 20), 'the memory limit file holds 32 MiB');
      if (v2) t.equal(await file('memory', handle, 'memory.oom.group'), '1', 'an OOM kills the whole container');
    });
    t.test('cpu', skipUnless(driver, 'cpu'), async (t) => {
      if (v2) {
        t.equal(await file('cpu', handle, 'cpu.max'), '50000 100000', 'the cpu quota file holds the expected value (500m → 50 ms per 100 ms)');
        t.equal(await file('cpu', handle, 'cpu.weight'), '10', '250m → 256 shares → weight 10');
      } else {
        t.equal(await file('cpu', handle, 'cpu.cfs_quota_us'), '50000', 'the cpu quota file holds the expected value (500m → 50 ms)');
        t.equal(await file('cpu', handle, 'cpu.cfs_period_us'), '100000', 'per 100 ms period');
        t.equal(await file('cpu', handle, 'cpu.shares'), '256', '250m → 256 shares');
      }
    });
    t.test('pids', skipUnless(driver, 'pids'), async (t) => {
      t.equal(await file('pids', handle, 'pids.max'), '20', 'container pids.max');
      t.equal(await file('pids', podPath, 'pids.max'), '50', 'pod pids.max');
    });
    t.test('limits removed again', driver.controllers.length > 0 ? {} : { skip: `no controllers: ${driver.reason ?? ''}` }, async (t) => {
      await driver.createContainer(handle.split('/').at(-2)!.slice(4), 'main', {});
      if (driver.controllers.includes('memory')) t.match(await file('memory', handle, v2 ? 'memory.max' : 'memory.limit_in_bytes'), v2 ? /^max$/ : /^9223372036854\d+$/, 'no memory limit');
      if (driver.controllers.includes('cpu')) {
        t.equal(await file('cpu', handle, v2 ? 'cpu.max' : 'cpu.cfs_quota_us'), v2 ? 'max 100000' : '-1', 'no cpu quota');
        t.equal(await file('cpu', handle, v2 ? 'cpu.weight' : 'cpu.shares'), v2 ? '1' : '2', 'no request: the minimum weight, as Kubernetes gives best-effort pods');
      }
      if (driver.controllers.includes('pids')) t.equal(await file('pids', handle, 'pids.max'), 'max', 'no pids limit');
    });
  });

  t.test('names and handles that could leave the tree are refused', async (t) => {
    const { driver } = subject;
    await rejectsWithCode(t, driver.createContainer('../..', 'main', {}), 'CgroupInvalidName', 'pod UID ../..');
    await rejectsWithCode(t, driver.createContainer('abc', 'a/b', {}), 'CgroupInvalidName', 'container a/b');
    await rejectsWithCode(t, driver.createContainer('abc', 'main', { pidsMax: 0 }), 'CgroupInvalidLimit', 'pidsMax 0');
    t.throws(() => driver.joinCommand('/'), { code: 'CgroupInvalidHandle' }, 'the root cgroup is not a container');
    await rejectsWithCode(t, driver.signalAll('/user.slice', 'SIGKILL'), 'CgroupInvalidHandle', 'a foreign cgroup is never signalled');
    await rejectsWithCode(t, driver.remove('/pm8s/pod-a/../../etc'), 'CgroupInvalidHandle', 'a climbing handle');
  });

  t.test('a process joins before it runs anything; children and orphans are listed', async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver);
    const out = join(t.testdir(), 'cgroup-before-exec');
    const child = startIn(t, driver, handle, `cat /proc/$$/cgroup > '${out}'; sleep 61 & (sleep 62 &); exec sleep 60`);
    // The subshell that orphans `sleep 62` is listed for a moment too; wait for the settled set.
    const pids = await waitFor(async () => {
      const current = await driver.pids(handle);
      return current.length === 3 && current.every((pid) => command(pid) === 'sleep') ? current : undefined;
    }, { what: 'three sleeps in the cgroup' });
    t.ok(pids.includes(child.pid!), 'the shell that exec’d sleep is listed');
    t.ok(pids.some((pid) => parentOf(pid) !== child.pid), 'the orphaned grandchild (reparented away) is listed too');
    const before = await readFile(out, 'utf8');
    t.ok(before.split('\n').some((line) => line.endsWith(`:${handle}`)), `before exec the shell was already in ${handle}: ${before}`);
    t.ok((await readFile(`/proc/${child.pid}/cgroup`, 'utf8')).split('\n').some((line) => line.endsWith(`:${handle}`)), '/proc/<pid>/cgroup shows the path');
    const outside = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.teardown(() => killProcess(outside));
    await driver.addProcess(handle, outside.pid!);
    t.ok((await driver.pids(handle)).includes(outside.pid!), 'addProcess moves a running process in');
  });

  t.test('signalAll reaches grandchildren and forks that race the kill', async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver, {}, {});
    const child = startIn(t, driver, handle, `trap '' TERM; sleep 63 & exec sleep 60`);
    const pids = await waitFor(async () => ((await driver.pids(handle)).length === 2 ? driver.pids(handle) : undefined), { what: 'the process and its child' });
    t.equal(await driver.signalAll(handle, 'SIGKILL'), 2, 'both were signalled');
    await exited(child);
    await waitFor(() => pids.every((pid) => !alive(pid)), { what: 'both processes to be gone from /proc' });
    t.same(await driver.pids(handle), [], 'the cgroup is empty');

    const terms = startIn(t, driver, handle, 'sleep 64 & wait');
    await waitFor(async () => (await driver.pids(handle)).length === 2, { what: 'two processes' });
    t.equal(await driver.signalAll(handle, 'SIGTERM'), 2, 'SIGTERM goes to both');
    t.same((await exited(terms)).signal, 'SIGTERM', 'the shell died of SIGTERM');
    await waitFor(async () => (await driver.pids(handle)).length === 0, { what: 'the sleep to die of SIGTERM too' });

    startIn(t, driver, handle, 'while :; do sleep 30 & sleep 0.01; done');
    await waitFor(async () => (await driver.pids(handle)).length >= 10, { what: 'a few forks' });
    const signalled = await driver.signalAll(handle, 'SIGKILL');
    t.ok(signalled >= 10, `a forking loop and its children were killed (${signalled})`);
    t.same(await driver.pids(handle), [], 'nothing forked past the kill');
  });

  t.test('SIGTERM goes once to the processes there are: what a TERM trap starts is not killed by it', async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver, {}, {});
    const dir = t.testdir();
    // A busy fork loop (new pids all the time) whose TERM trap runs a cleanup command.
    startIn(t, driver, handle, `trap 'sleep 0.3 && echo cleaned > ${dir}/cleaned; exit 0' TERM; echo armed > ${dir}/armed; while :; do sleep 0.01; done`);
    await waitFor(() => existsSync(join(dir, 'armed')), { what: 'the trap set' });
    const signalled = await driver.signalAll(handle, 'SIGTERM');
    t.ok(signalled >= 1 && signalled <= 3, `the shell and the sleep it had then (${signalled})`);
    await waitFor(() => existsSync(join(dir, 'cleaned')), { what: 'the cleanup command to finish', timeout: 5000 });
    t.equal(readFileSync(join(dir, 'cleaned'), 'utf8'), 'cleaned\n', 'the cleanup command ran to its end');
    await waitFor(async () => (await driver.pids(handle)).length === 0, { what: 'the shell to exit after its cleanup' });
  });

  t.test('remove cleans up, and refuses while processes remain', async (t) => {
    const { driver } = subject;
    const uid = `rm-${process.pid}`;
    const first = await driver.createContainer(uid, 'first', {});
    const second = await driver.createContainer(uid, 'second', {});
    const podPath = first.slice(0, first.lastIndexOf('/'));
    const child = startIn(t, driver, first, 'exec sleep 60');
    await waitFor(async () => (await driver.pids(first)).includes(child.pid!), { what: 'the sleep to join' });
    await rejectsWithCode(t, driver.remove(first), 'CgroupBusy', 'a cgroup with a process');
    t.ok(existsSync(subject.dirOf('procs', first)), 'it is still there');
    await driver.signalAll(first, 'SIGKILL');
    await driver.remove(first);
    for (const controller of driver.controllers) t.notOk(existsSync(subject.dirOf(controller, first)), `the container's ${controller} cgroup is gone`);
    t.notOk(existsSync(subject.dirOf('procs', first)), 'the container cgroup is gone');
    t.ok(existsSync(subject.dirOf('procs', podPath)), 'the pod cgroup stays while a container remains');
    await driver.remove(second);
    t.notOk(existsSync(subject.dirOf('procs', podPath)), 'the pod cgroup goes with its last container');
    for (const controller of driver.controllers) t.notOk(existsSync(subject.dirOf(controller, podPath)), `the pod's ${controller} cgroup is gone`);
    await driver.remove(second);
    t.pass('removing again is fine');
  });

  t.test('scan finds every container after a restart', async (t) => {
    const { driver } = subject;
    const uid = `scan-${process.pid}`;
    const busy = await driver.createContainer(uid, 'busy', {});
    const idle = await driver.createContainer(uid, 'idle', {});
    t.teardown(async () => {
      await driver.signalAll(busy, 'SIGKILL');
      await driver.remove(busy);
      await driver.remove(idle);
    });
    const child = startIn(t, driver, busy, 'exec sleep 60');
    await waitFor(async () => (await driver.pids(busy)).includes(child.pid!), { what: 'the sleep to join' });
    const restarted = await subject.reopen();
    t.equal(restarted.kind, driver.kind, 'the same kind of driver');
    const found = (await restarted.scan()).filter((entry) => entry.podUid === uid);
    t.same(found, [
      { podUid: uid, containerName: 'busy', handle: busy, pids: [child.pid] },
      { podUid: uid, containerName: 'idle', handle: idle, pids: [] },
    ], 'both containers, with their processes');
  });

  t.test('stats count a busy process', async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver);
    startIn(t, driver, handle, 'while :; do :; done');
    const stats = await waitFor(async () => {
      const current = await driver.stats(handle);
      return current.cpuUsageMicros > 50_000n ? current : undefined;
    }, { what: 'cpu usage above 50 ms' });
    t.ok(stats.cpuUsageMicros > 50_000n, `cpu ${stats.cpuUsageMicros} µs`);
    t.equal(stats.pids, 1, 'one task');
    t.test('memory', skipUnless(driver, 'memory'), async (t) => {
      t.ok(stats.memoryBytes > 0n, `memory ${stats.memoryBytes} bytes`);
    });
  });

  t.test('the kernel OOM-kills a process over its memory limit, and oomKills counts it', skipUnless(subject.driver, 'memory'), async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver, { memoryBytes: 32n << 20n });
    t.equal(await driver.oomKills(handle), 0, 'no OOM kill yet');
    const child = startIn(t, driver, handle, 'exec dd if=/dev/zero of=/dev/null bs=64M count=1');
    t.same(await exited(child), { code: null, signal: 'SIGKILL' }, 'dd (a 64 MiB buffer) was SIGKILLed');
    t.equal(await driver.oomKills(handle), 1, 'one OOM kill counted');
  });

  t.test('a fork bomb stops at pids.max while the host keeps working', skipUnless(subject.driver, 'pids'), async (t) => {
    const { driver } = subject;
    const handle = await freshContainer(t, driver, { pidsMax: 20 }, { pidsMax: 20 });
    // dash exits when a fork fails, so an outer loop keeps starting new forking shells.
    startIn(t, driver, handle, `while :; do sh -c 'while :; do sleep 30 & done' 2>/dev/null; done`);
    await waitFor(async () => (await driver.stats(handle)).pids === 20, { what: 'the bomb to reach 20 tasks' });
    for (let sample = 0; sample < 10; sample++) {
      const stats = await driver.stats(handle);
      if (stats.pids > 20) t.fail(`${stats.pids} tasks exceed pids.max 20`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.ok((await driver.pids(handle)).length <= 20, 'never more than 20 processes');
    const outside = await run(t, 'sh', ['-c', 'sleep 0.01 & wait; echo alive'], { timeoutMs: 5_000 });
    t.equal(outside.stdout, 'alive\n', 'a process outside the cgroup still forks');
    await driver.signalAll(handle, 'SIGKILL');
    t.same(await driver.pids(handle), [], 'signalAll ends the bomb');
  });
}
