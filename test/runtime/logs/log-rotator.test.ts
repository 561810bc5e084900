import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { lstat, readdir, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../../../src/lib/logger.js';
import { LogRotator } from '../../../src/runtime/logs/log-rotator.js';
import { openLogFile } from '../../../src/runtime/logs/open-log-file.js';
import { readRotationState } from '../../../src/runtime/logs/rotation-state.js';
import { killProcess } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait.js';

const MiB = 1024 * 1024;

async function sizes(dir: string): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const name of await readdir(dir)) {
    try {
      result.set(name, (await lstat(path.join(dir, name))).size);
    } catch (error) {
      // A copy renamed or dropped between readdir and lstat is simply not counted in this sample.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return result;
}

t.test('`yes` as fast as it can: the directory stays bounded and the rotator memory flat', async (t) => {
  const root = t.testdir();
  const maxBytes = MiB;
  const maxFiles = 3;
  const intervalMs = 100;
  const file = path.join(root, 'app', '0.log');
  const rotator = new LogRotator({ root, maxBytes, maxFiles, intervalMs, busyIntervalMs: intervalMs });
  rotator.add(file);
  const fd = await openLogFile(file, { root });
  const yes = spawn('yes', [], { stdio: ['ignore', fd, fd], detached: true });
  t.teardown(() => killProcess(yes));
  closeSync(fd);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const running = rotator.run(controller.signal);

  let maxLive = 0;
  let maxCopies = 0;
  let maxCopy = 0;
  let baseline: NodeJS.MemoryUsage | undefined;
  const started = Date.now();
  while (Date.now() - started < 4000) {
    const current = await sizes(path.dirname(file));
    maxLive = Math.max(maxLive, current.get('0.log') ?? 0);
    const copies = [...current].filter(([name]) => /^0\.log\.\d+$|^\.0\.log\.rotating$/.test(name));
    maxCopies = Math.max(maxCopies, copies.length);
    maxCopy = Math.max(maxCopy, ...copies.map(([, size]) => size));
    if (!baseline && Date.now() - started > 500) baseline = process.memoryUsage();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const after = process.memoryUsage();
  killProcess(yes);
  await new Promise((resolve) => yes.on('exit', resolve));
  const elapsed = (Date.now() - started) / 1000;
  // Everything yes wrote went through the live file: what left it (rotatedBytes) plus what is still in it.
  const bytesPerSecond = ((await readRotationState(file, root)).rotatedBytes + (await stat(file)).size) / elapsed;
  controller.abort();
  await running;
  await rotator.checkNow();

  // The live file can only outgrow the limit by what yes writes between two checks (plus the time a
  // busy 2-core machine delays the rotator, and truncating hundreds of MiB of dirty pages takes); over
  // 4 s of output, a bound of 1.5 s shows the file does not keep growing, with room for that noise.
  const growthBound = bytesPerSecond * 1.5;
  t.comment(`yes writes ~${Math.round(bytesPerSecond / MiB)} MiB/s here; live file peaked at ${(maxLive / MiB).toFixed(1)} MiB`);
  t.ok(maxCopy <= maxBytes, `no copy ever exceeds ${maxBytes} bytes (largest ${maxCopy})`);
  t.ok(maxCopies <= maxFiles, `at most ${maxFiles - 1} copies plus the one being written (saw ${maxCopies})`);
  t.ok(maxLive <= maxBytes + growthBound, `the live file stays within the limit plus what yes writes in 1.5 s (${(growthBound / MiB).toFixed(0)} MiB; peak ${(maxLive / MiB).toFixed(0)} MiB)`);
  const final = await sizes(path.dirname(file));
  const total = [...final].filter(([name]) => name.startsWith('0.log')).reduce((sum, [, size]) => sum + size, 0);
  t.ok(total <= maxFiles * maxBytes, `at rest the log uses at most maxFiles × maxBytes (${total} bytes)`);
  t.ok(baseline, 'memory sampled');
  t.ok(after.rss - baseline!.rss < 32 * MiB, `rss grew ${((after.rss - baseline!.rss) / MiB).toFixed(1)} MiB`);
  t.ok(after.arrayBuffers - baseline!.arrayBuffers < 2 * MiB, `buffers grew ${((after.arrayBuffers - baseline!.arrayBuffers) / 1024).toFixed(0)} KiB: nothing buffered`);
});

t.test('run() stops on abort and leaves no timer behind', async (t) => {
  const root = t.testdir();
  const rotator = new LogRotator({ root, intervalMs: 60_000 });
  const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
  const before = timers();
  const controller = new AbortController();
  const running = rotator.run(controller.signal);
  await waitFor(() => timers() > before, { what: 'the rotator to sleep' });
  controller.abort();
  await running;
  t.equal(timers(), before);
});

t.test('one log that cannot be rotated is reported and the others are still rotated', async (t) => {
  const root = t.testdir({ secret: 'keep\n', app: { '0.log': 'x\n'.repeat(100) } });
  await symlink(path.join(root, 'secret'), path.join(root, 'app', '1.log'));
  const warnings: string[] = [];
  const rotator = new LogRotator({ root, maxBytes: 10, maxFiles: 2, logger: createLogger({ write: (line) => warnings.push(line) }) });
  rotator.add(path.join(root, 'app', '1.log'));
  rotator.add(path.join(root, 'app', '0.log'));
  const results = await rotator.checkNow();
  t.same(results.map((result) => [path.basename(result.file), result.rotated]), [['0.log', true]]);
  t.equal(warnings.length, 1);
  t.match(warnings[0], /log rotation failed/);
  t.equal((await stat(path.join(root, 'secret'))).size, 5, 'the link target is untouched');

  rotator.remove(path.join(root, 'app', '1.log'));
  t.same(rotator.files, [path.join(root, 'app', '0.log')]);
  t.throws(() => new LogRotator({ root, maxFiles: 0 }), RangeError);
});
