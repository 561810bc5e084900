import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { LocalState, LocalStateError, type ContainerRecord } from '../../../src/daemon/agent/local-state.js';

function record(podUid: string, containerName: string, pid = 1234): ContainerRecord {
  return {
    podUid,
    namespace: 'default',
    podName: `pod-${podUid}`,
    containerName,
    restartCount: 0,
    process: { pid, startTime: '4242', statusFile: `/data/status/${podUid}/${containerName}` },
    cgroupHandle: `/pm8s/pod-${podUid}/${containerName}`,
    tracker: { version: 1, phase: 'running', restartCount: 0 },
    logPath: `/data/logs/${podUid}/${containerName}/0.log`,
  };
}

t.test('put, get, list, remove, removePod; records survive reopening', async (t) => {
  const dir = t.testdir();
  const state = await LocalState.open(dir);
  t.match(state.startedEmpty, { reason: 'missing' }, 'a first start says the state is empty');
  await state.put(record('uid-a', 'web'));
  await state.put(record('uid-a', 'sidecar'));
  await state.put(record('uid-b', 'web'));
  await state.put({ ...record('uid-a', 'web', 999), restartCount: 2 });
  t.match(state.get('uid-a', 'web'), { process: { pid: 999 }, restartCount: 2 }, 'put replaces');
  t.ok(typeof state.get('uid-a', 'web')?.updatedAt === 'string', 'updatedAt is set');
  t.equal(state.get('uid-x', 'web'), undefined);
  t.same(state.list().map((r) => `${r.podUid}/${r.containerName}`), ['uid-a/sidecar', 'uid-a/web', 'uid-b/web']);
  state.close();

  const again = await LocalState.open(dir);
  t.equal(again.startedEmpty, undefined, 'an existing state is not reported empty');
  t.equal(again.list().length, 3);
  t.equal(await again.remove('uid-b', 'web'), true);
  t.equal(await again.remove('uid-b', 'web'), false);
  t.equal(await again.removePod('uid-a'), 2);
  t.same(again.list(), []);
  again.close();
});

t.test('an invalid record is refused with a code', async (t) => {
  const state = await LocalState.open(t.testdir());
  t.teardown(() => state.close());
  const bad = { ...record('uid-a', 'web'), process: { pid: 'x' } } as unknown as ContainerRecord;
  await t.rejects(state.put(bad), { code: 'LocalStateInvalidRecord' });
  t.ok(new LocalStateError('LocalStateTooNew', 'x') instanceof Error);
});

t.test('a corrupt file is moved aside and the state starts empty, saying so', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'agent-state.db'), 'this is not an sqlite database, not at all, no header here'.repeat(100));
  const state = await LocalState.open(dir);
  t.teardown(() => state.close());
  t.match(state.startedEmpty, { reason: 'corrupt', message: /unreadable/ });
  const movedTo = state.startedEmpty?.reason === 'corrupt' ? state.startedEmpty.movedTo : undefined;
  t.ok(movedTo !== undefined && existsSync(movedTo), 'the corrupt file is kept for inspection');
  t.same(state.list(), []);
  await state.put(record('uid-a', 'web'));
  t.equal(state.list().length, 1, 'and the fresh state works');
});

const compiled = fileURLToPath(new URL('../../../dist/src/daemon/agent/local-state.js', import.meta.url));
t.test('put is durable when it resolves: SIGKILL right after loses nothing', { skip: existsSync(compiled) ? false : `${compiled} missing: run npx tsc -p tsconfig.build.json first` }, async (t) => {
  const dir = t.testdir();
  const script = `
    const { LocalState } = await import(${JSON.stringify(compiled)});
    const state = await LocalState.open(process.argv[1]);
    const rec = JSON.parse(process.argv[2]);
    for (let i = 0; i < 20; i++) await state.put({ ...rec, containerName: 'c' + i });
    process.stdout.write('committed\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, JSON.stringify(record('uid-d', 'c'))], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  });
  const ended = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child did not commit: ${out}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('committed')) {
        clearTimeout(timer);
        // Killed at once: no close, no checkpoint, the WAL alone must hold the commits.
        process.kill(child.pid!, 'SIGKILL');
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`child exited before committing: ${out}`)));
  });
  t.equal(await ended, 'SIGKILL');
  const state = await LocalState.open(dir);
  t.teardown(() => state.close());
  t.equal(state.startedEmpty, undefined);
  t.equal(state.list().length, 20, 'every put that resolved is there');
  t.match(state.get('uid-d', 'c19'), { process: { pid: 1234, startTime: '4242' } });
});
