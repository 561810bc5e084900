import { spawn } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { detectCgroupDriver } from '../../../src/runtime/cgroups/detect-cgroup-driver.js';
import { V1Driver } from '../../../src/runtime/cgroups/v1-driver.js';
import { exited, ProcessHandle, reattach, startProcess, stopProcess, type ProcessSpec } from '../../../src/runtime/process/index.js';
import { readProcStat } from '../../../src/runtime/process/proc-stat.js';
import { waitFor } from '../../helpers/wait.js';

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Starts a command; the wrapper and any pid it writes to `<dir>/pids` are killed by pid in teardown. */
async function start(t: Test, command: string[], extra: Partial<ProcessSpec> = {}) {
  const dir = t.testdir();
  const logFd = openSync(join(dir, 'out.log'), 'a');
  const result = await startProcess({ command, env: { ...ENV, PIDS: join(dir, 'pids') }, logFd, statusFile: join(dir, 'status'), ...extra });
  closeSync(logFd);
  if (!result.ok) throw new Error(result.message);
  const handle = result.handle;
  t.teardown(() => {
    let extraPids: number[] = [];
    try {
      extraPids = readFileSync(join(dir, 'pids'), 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // no pids file: the command wrote none
    }
    for (const pid of extraPids) kill(pid);
    kill(handle.pid);
  });
  return { handle, dir, log: () => readFileSync(join(dir, 'out.log'), 'utf8') };
}

t.test('the exit status is recorded even after the agent forgot the handle', async (t) => {
  const { handle, log } = await start(t, ['sh', '-c', 'echo hello; echo oops >&2; sleep 0.3; exit 3']);
  const record = JSON.parse(JSON.stringify(handle)) as { pid: number; startTime: string; statusFile: string };
  t.same(Object.keys(record).sort(), ['pid', 'startTime', 'statusFile']);
  t.equal((await readProcStat(handle.pid))?.pgrp, handle.pid, 'the wrapper leads its own process group');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${handle.pid}/status`, 'utf8'))?.[1]);
  t.comment(`wrapper RSS: ${rss} KiB`);
  t.ok(rss > 0 && rss < 4096, 'the wrapper is a small shell');
  await waitFor(async () => !(await new ProcessHandle(record).alive()), { what: 'exit' });
  t.match(readFileSync(record.statusFile, 'utf8'), /^3 \n$/);
  t.equal(log(), 'hello\noops\n');
  t.equal(await reattach(record), undefined, 'an exited process is not reattached');
  const result = await exited(new ProcessHandle(record));
  t.match(result, { exitCode: 3, reason: 'Error' });
  t.ok(result?.finishedAt instanceof Date);
});

t.test('reattach by pid and start time; a reused pid is never adopted or signalled', async (t) => {
  const { handle } = await start(t, ['sleep', '30']);
  const startedAt = Date.now();
  const again = await reattach(handle.toJSON());
  t.ok(again, 'a live process is reattached');
  t.equal(again?.pid, handle.pid);
  // Start times count clock ticks (10 ms): the stranger must start in a later tick, as any real
  // reuse of a pid does (the kernel cycles through the whole pid space first).
  await waitFor(() => Date.now() - startedAt > 50, { what: 'a later clock tick' });
  const stranger = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
  t.teardown(() => kill(stranger.pid));
  const record = { ...handle.toJSON(), pid: stranger.pid! };
  t.equal(await reattach(record), undefined, 'same start time record, other process');
  const impostor = new ProcessHandle(record);
  const stopped = await stopProcess(impostor, { gracePeriodMs: 100 });
  t.equal(stopped.killed, false);
  t.equal(stranger.exitCode, null);
  t.equal((await readProcStat(stranger.pid!))?.state !== undefined, true, 'the unrelated sleep still runs');
  t.equal(stranger.signalCode, null, 'and was not signalled');
  const aborted = new AbortController();
  const waiting = exited(handle, { signal: aborted.signal, intervalMs: 20 });
  aborted.abort();
  t.equal(await waiting, undefined, 'exited() stops on abort');
  const done = await stopProcess(handle, { gracePeriodMs: 2_000 });
  t.match(done, { exitCode: 143, signal: 'SIGTERM', reason: 'Error', killed: false });
});

t.test('a missing or non-executable binary is a StartError', async (t) => {
  const dir = t.testdir({ script: '#!/bin/sh\necho hi\n' });
  const base = { env: ENV, logFd: 1, statusFile: join(dir, 'status') };
  t.same(await startProcess({ ...base, command: ['nosuch-binary-xyz'] }), { ok: false, reason: 'StartError', message: 'exec: "nosuch-binary-xyz": executable file not found in $PATH' });
  t.same(await startProcess({ ...base, command: [join(dir, 'script')] }), { ok: false, reason: 'StartError', message: `exec: "${join(dir, 'script')}": permission denied` });
  t.same(await startProcess({ ...base, command: ['/no/such/file'] }), { ok: false, reason: 'StartError', message: 'exec: "/no/such/file": stat /no/such/file: no such file or directory' });
  t.match(await startProcess({ ...base, command: ['true'], cwd: join(dir, 'nope') }), { ok: false, reason: 'StartError', message: /chdir to cwd/ });
  chmodSync(join(dir, 'script'), 0o744);
  t.match(await startProcess({ ...base, command: [join(dir, 'script')], uid: 65534, gid: 65534 }), { ok: false, message: /permission denied/ }, 'execute permission is judged for the pod user');
});

t.test('uid/gid, working directory and env reach the command', async (t) => {
  const cwd = t.testdir();
  const { handle, log } = await start(t, ['sh', '-c', 'id -u; id -g; pwd; echo "$GREETING"'], { uid: 65534, gid: 65534, cwd, env: { ...ENV, GREETING: 'hi there' } });
  t.match(await exited(handle, { intervalMs: 20 }), { exitCode: 0, reason: 'Completed' });
  t.equal(log(), `65534\n65534\n${cwd}\nhi there\n`);
});

t.test('SIGTERM reaches a well-behaved app, whose exit code is recorded', async (t) => {
  const { handle, log } = await start(t, ['node', '-e', "process.on('SIGTERM', () => { console.log('bye'); process.exit(0) }); console.log('up'); setInterval(() => {}, 1000)"]);
  await waitFor(() => log().includes('up'), { what: 'app up' });
  const result = await stopProcess(handle, { gracePeriodMs: 5_000 });
  t.match(result, { exitCode: 0, reason: 'Completed', killed: false });
  t.equal(log(), 'up\nbye\n');
});

t.test('stop: SIGTERM ignored, grandchild holding a port → both gone after the grace period', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const script = `trap '' TERM; node -e "require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))" & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; while :; do sleep 0.1; done`;
  const { handle, dir, log } = await start(t, ['sh', '-c', script]);
  await waitFor(() => log().includes('listening'), { what: 'grandchild listening' });
  const pids = readFileSync(join(dir, 'pids'), 'utf8').split(/\s+/).filter(Boolean).map(Number);
  const hookFile = join(dir, 'hook');
  const began = Date.now();
  const result = await stopProcess(handle, { gracePeriodMs: 800, preStop: ['sh', '-c', `echo ran > ${hookFile}`], hookContext: { env: ENV } });
  const took = Date.now() - began;
  t.equal(readFileSync(hookFile, 'utf8'), 'ran\n', 'preStop ran');
  t.match(result, { exitCode: 137, signal: 'SIGKILL', reason: 'Error', killed: true, preStop: { outcome: 'success' } });
  t.ok(took >= 750 && took < 5_000, `stopped after the grace period (${took} ms)`);
  for (const pid of [handle.pid, ...pids]) t.equal(await readProcStat(pid).then((s) => s === undefined || s.state === 'Z'), true, `pid ${pid} is gone`);
  await new Promise<void>((resolve, reject) => {
    const server = createServer().once('error', reject).listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
  t.pass('the port is free again');
});

const cgroupRoot = `pm8s-test-${process.pid}`;
const driver = await detectCgroupDriver({ root: cgroupRoot });
// v2 would build below this test's own cgroup; what the brief asks for is a real v1/hybrid driver.
const noCgroups = driver instanceof V1Driver ? undefined : `no writable v1/hybrid cgroups here (driver ${driver.kind}: ${driver.reason ?? 'not v1/hybrid'})`;
if (driver instanceof V1Driver) {
  // The root was created by detection: remove it whatever the tests do.
  t.teardown(async () => {
    for (const mount of driver.mountPoints) await rmdir(join(mount, cgroupRoot)).catch(() => undefined);
  });
}

t.test('a grace period shortened while the stop runs cuts the preStop hook and the wait short', async (t) => {
  const { handle, log } = await start(t, ['sh', '-c', 'trap "" TERM; echo $$ >> "$PIDS"; echo armed; while :; do sleep 0.1; done']);
  await waitFor(() => log().includes('armed'), { what: 'the trap set' });
  let graceMs = 60_000;
  const began = Date.now();
  const stopping = stopProcess(handle, { gracePeriodMs: 60_000, preStop: ['sleep', '60'], hookContext: { env: ENV }, currentGraceMs: () => graceMs });
  await new Promise((resolve) => setTimeout(resolve, 300));
  graceMs = 500;
  const result = await stopping;
  const took = Date.now() - began;
  t.match(result, { exitCode: 137, signal: 'SIGKILL', killed: true, preStop: { outcome: 'unknown' } }, 'the hook was abandoned, the process killed');
  t.ok(took >= 450 && took < 10_000, `stopped ${took} ms after it began: the shortened 0.5 s, not 60 s`);
  t.equal(await readProcStat(handle.pid).then((s) => s === undefined || s.state === 'Z'), true, 'the wrapper is gone');
});

t.test('the command is in its cgroup before it runs', noCgroups === undefined ? {} : { skip: noCgroups }, async (t) => {
  const handle = await driver.createContainer('uid-1', 'web', {});
  t.teardown(async () => {
    await driver.signalAll(handle, 'SIGKILL');
    await driver.remove(handle);
  });
  const started = await start(t, ['cat', '/proc/self/cgroup'], { cgroupJoin: driver.joinCommand(handle) });
  t.match(await exited(started.handle, { intervalMs: 20 }), { exitCode: 0 });
  const lines = started.log().trim().split('\n');
  const memory = lines.find((line) => /:memory:/.test(line));
  t.equal(memory?.split(':')[2], handle, `memory hierarchy: ${memory}`);
  if (driver.kind === 'hybrid') t.equal(lines.find((line) => line.startsWith('0::'))?.slice(3), handle, 'unified tree too');
  t.notMatch(readFileSync('/proc/self/cgroup', 'utf8'), handle, 'the test process itself was not moved');
});

t.test('a cgroup join that fails exits 125 without running the command', async (t) => {
  const dir = t.testdir();
  const { handle, log } = await start(t, ['sh', '-c', 'echo ran'], { cgroupJoin: `{ echo $$ > ${join(dir, 'missing', 'cgroup.procs')}; } 2>/dev/null || exit 125` });
  t.match(await exited(handle, { intervalMs: 20 }), { exitCode: 125, reason: 'Error' });
  t.equal(log(), '');
});

t.test('SIGTERM sent to the wrapper itself is forwarded to the command', async (t) => {
  const { handle, log } = await start(t, ['node', '-e', "process.on('SIGTERM', () => process.exit(7)); console.log('up'); setInterval(() => {}, 1000)"]);
  await waitFor(() => log().includes('up'), { what: 'app up' });
  process.kill(handle.pid, 'SIGTERM');
  t.match(await exited(handle, { intervalMs: 20 }), { exitCode: 7, reason: 'Error' });
});
