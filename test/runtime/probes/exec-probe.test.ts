import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { PROBE_OUTPUT_LIMIT } from '../../../src/runtime/probes/probe-result.js';
import { runProbe } from '../../../src/runtime/probes/run-probe.js';
import type { ProbeTarget } from '../../../src/runtime/probes/run-probe.js';
import { waitFor } from '../../helpers/wait.js';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function target(overrides: Partial<ProbeTarget> = {}): ProbeTarget {
  return { host: '127.0.0.1', ports: {}, env: ENV, signal: new AbortController().signal, ...overrides };
}

/** Gone, or a zombie nobody reaped yet (PID 1 here may not reap): either way it runs no more. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * Reads the PIDs a probe command wrote, and kills them by PID when the test ends, whatever
 * happened. PIDs are remembered as soon as they are seen: the test directory may be removed
 * before this teardown runs.
 */
function pidsFrom(t: Test, file: string): () => number[] {
  const seen = new Set<number>();
  const read = () => {
    try {
      for (const pid of readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number)) seen.add(pid);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return [...seen];
  };
  t.teardown(() => {
    for (const pid of read()) {
      try {
        if (!isGone(pid)) process.kill(pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  });
  return read;
}

t.test('exit 0 is a success; the output is the message', async (t) => {
  t.same(await runProbe({ exec: { command: ['sh', '-c', 'echo healthy'] } }, target()), { outcome: 'success', message: 'healthy\n' });
});

t.test('a non-zero exit fails with stdout and stderr as the message', async (t) => {
  const result = await runProbe({ exec: { command: ['sh', '-c', 'echo out; echo "cat: /tmp/healthy: No such file or directory" >&2; exit 1'] } }, target());
  t.same(result, { outcome: 'failure', message: 'out\ncat: /tmp/healthy: No such file or directory\n' });
  t.same(await runProbe({ exec: { command: ['false'] } }, target()), { outcome: 'failure', message: '' });
});

t.test('the command is an argv: no shell unless the user wrote one', async (t) => {
  const result = await runProbe({ exec: { command: ['echo', '$HOME;', 'rm -rf /', '`id`'] } }, target());
  t.same(result, { outcome: 'success', message: '$HOME; rm -rf / `id`\n' });
});

t.test('the container env and working directory are used, not the agent\'s', async (t) => {
  const dir = t.testdir();
  const result = await runProbe({ exec: { command: ['sh', '-c', 'echo "$GREETING|$HOME|$(pwd)"'] } }, target({ env: { ...ENV, GREETING: 'hi' }, cwd: dir }));
  t.same(result, { outcome: 'success', message: `hi||${dir}\n` });
});

t.test('the container user', { skip: process.getuid?.() === 0 ? false : 'switching user needs root' }, async (t) => {
  const result = await runProbe({ exec: { command: ['sh', '-c', 'echo "$(id -u):$(id -g)"'] } }, target({ uid: 65534, gid: 65534 }));
  t.same(result, { outcome: 'success', message: '65534:65534\n' });
});

t.test('output is capped at 10 KiB and the command is not blocked by it', async (t) => {
  const result = await runProbe({ exec: { command: ['sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" a; exit 1'] } }, target());
  t.equal(result.outcome, 'failure', 'the command ran to its exit despite a full buffer');
  t.equal(result.message.length, PROBE_OUTPUT_LIMIT);
});

t.test('a missing binary fails with the runtime\'s message', async (t) => {
  t.same(await runProbe({ exec: { command: ['pm8s-no-such-binary'] } }, target()), { outcome: 'failure', message: 'exec: "pm8s-no-such-binary": executable file not found in $PATH' });
  t.same(await runProbe({ exec: { command: ['/nonexistent/check'] } }, target()), { outcome: 'failure', message: 'exec: "/nonexistent/check": stat /nonexistent/check: no such file or directory' });
  t.same(await runProbe({ exec: { command: [] } }, target()), { outcome: 'unknown', message: 'exec probe has no command' });
});

t.test('a timeout kills the whole process group, grandchild included', async (t) => {
  const pidFile = path.join(t.testdir(), 'pids');
  const pids = pidsFrom(t, pidFile);
  // The shell records itself and a background grandchild, then waits forever.
  const command = ['sh', '-c', `sleep 60 & echo $$ $! > ${pidFile}; wait`];
  const started = Date.now();
  const result = await runProbe({ exec: { command } }, target(), { timeoutMs: 500 });
  t.same(result, { outcome: 'failure', message: `command "sh -c sleep 60 & echo $$ $! > ${pidFile}; wait" timed out` });
  t.ok(Date.now() - started < 3000, 'returns promptly after the timeout');
  const [shell, grandchild] = pids();
  t.ok(shell !== undefined && grandchild !== undefined, `both PIDs recorded: ${pids().join(' ')}`);
  await waitFor(() => isGone(shell!) && isGone(grandchild!), { timeout: 5000, what: `PIDs ${shell} and ${grandchild} to be gone` });
  t.pass('shell and grandchild are gone');
});

t.test('a command that exits leaves no background child behind', async (t) => {
  const pidFile = path.join(t.testdir(), 'pids');
  const pids = pidsFrom(t, pidFile);
  const result = await runProbe({ exec: { command: ['sh', '-c', `sleep 60 & echo $! > ${pidFile}; echo done`] } }, target(), { timeoutMs: 5000 });
  t.same(result, { outcome: 'success', message: 'done\n' });
  const [straggler] = pids();
  t.ok(straggler !== undefined);
  await waitFor(() => isGone(straggler!), { timeout: 5000, what: `PID ${straggler} to be gone` });
  t.pass('the straggler is gone');
});

t.test('an abort kills the group and resolves as a probe error', async (t) => {
  const pidFile = path.join(t.testdir(), 'pids');
  const pids = pidsFrom(t, pidFile);
  const controller = new AbortController();
  const pending = runProbe({ exec: { command: ['sh', '-c', `sleep 60 & echo $$ $! > ${pidFile}; wait`] }, timeoutSeconds: 60 }, target({ signal: controller.signal }));
  await waitFor(() => pids().length === 2, { timeout: 5000, what: 'the probe command to record its PIDs' });
  controller.abort();
  t.same(await pending, { outcome: 'unknown', message: 'probe aborted' });
  const [shell, grandchild] = pids();
  await waitFor(() => isGone(shell!) && isGone(grandchild!), { timeout: 5000, what: 'the probe processes to be gone' });
  t.pass('shell and grandchild are gone');
});
