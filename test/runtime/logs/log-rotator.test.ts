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
  const warnings: string[] = [];
  const rotator = new LogRotator({ root, maxBytes, maxFiles, intervalMs, busyIntervalMs: intervalMs, logger: createLogger({ write: (line) => warnings.push(line) }) });
  rotator.add(file);
  // When each pass began and ended: a truncation happens inside a pass, so the live file can only
  // grow unchecked from the start of one pass to the end of the next.
  const passes: Array<{ began: number; ended: number }> = [];
  const checkNow = rotator.checkNow.bind(rotator);
  rotator.checkNow = async () => {
    const began = performance.now();
    const results = await checkNow();
    passes.push({ began, ended: performance.now() });
    return results;
  };
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
  // Everything yes wrote went through the live file: what left it (rotatedBytes), what rotations
  // dropped because yes outran the copy (droppedBytes), and what is still in it.
  const state = await readRotationState(file, root);
  const bytesPerSecond = (state.rotatedBytes + state.droppedBytes + (await stat(file)).size) / elapsed;
  controller.abort();
  await running;
  await rotator.checkNow();

  // The live file can only outgrow the limit by what yes writes between two truncations: at most from
  // the start of one pass to the end of the next. How long that is depends on how busy the machine
  // is (truncating hundreds of MiB of dirty pages takes time too), so it is measured; 1.5× allows for
  // yes writing faster than its average in that window. A file that kept growing would pass it.
  const window = Math.max(...passes.slice(1).map((pass, index) => pass.ended - passes[index]!.began)) / 1000;
  const growthBound = bytesPerSecond * window * 1.5;
  t.comment(`yes writes ~${Math.round(bytesPerSecond / MiB)} MiB/s here (${Math.round(state.droppedBytes / MiB)} MiB dropped by rotations it outran); live file peaked at ${(maxLive / MiB).toFixed(1)} MiB; longest unchecked window ${window.toFixed(2)} s over ${passes.length} passes`);
  t.ok(passes.length >= 3, `the rotator kept checking (${passes.length} passes in 4 s)`);
  t.ok(maxCopy <= maxBytes, `no copy ever exceeds ${maxBytes} bytes (largest ${maxCopy})`);
  t.ok(maxCopies <= maxFiles, `at most ${maxFiles - 1} copies plus the one being written (saw ${maxCopies})`);
  t.ok(maxLive <= maxBytes + growthBound, `the live file stays within the limit plus what yes writes in 1.5× the longest window between truncations (${(growthBound / MiB).toFixed(0)} MiB; peak ${(maxLive / MiB).toFixed(0)} MiB)`);
  const dropWarnings = warnings.filter((line) => line.includes('log rotation dropped output'));
  if (state.droppedBytes > 0) t.equal(dropWarnings.length, 1, `the drops are warned about, once a minute at most: ${dropWarnings[0]}`);
  else t.equal(dropWarnings.length, 0, 'no drop, no warning');
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
