import { appendFileSync, closeSync } from 'node:fs';
import { mkdir, rm, stat, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Test } from 'tap';
import t from 'tap';
import { LogRotator } from '../../../src/runtime/logs/log-rotator.js';
import { containerLogPath, rotationStatePath } from '../../../src/runtime/logs/log-paths.js';
import { openLogFile } from '../../../src/runtime/logs/open-log-file.js';
import type { LogStream, ReadLogsOptions } from '../../../src/runtime/logs/read-logs.js';
import { readLogs } from '../../../src/runtime/logs/read-logs.js';
import { removePodLogs } from '../../../src/runtime/logs/remove-pod-logs.js';
import { rotateLog } from '../../../src/runtime/logs/rotate-log.js';
import { readRotationState } from '../../../src/runtime/logs/rotation-state.js';
import { waitFor } from '../../helpers/wait.js';
import { startWriter } from '../../helpers/log-writer.js';


async function collect(stream: LogStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function read(podDir: string, options: ReadLogsOptions = {}): Promise<string> {
  return collect(await readLogs(podDir, 'app', options));
}

function numbers(text: string): number[] {
  return text.split('\n').filter(Boolean).map((line) => Number(/^line (\d+)\.*$/.exec(line)?.[1]));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/**
 * A pod log dir whose run 0 went through rotations (20-byte copies, so lines are split across
 * files): .2, .1 and the live file all hold part of lines 1-11. Returns what is still on disk, and
 * `from(offset)`: what a reader starting at that offset of it outputs. The oldest byte on disk is
 * not the log's first (older copies were dropped), so a read from there, or from any point not
 * after a newline, goes on at the next whole line.
 */
async function rotatedPod(t: Test): Promise<{ podDir: string; file: string; all: string; from: (offset: number) => string }> {
  const root = t.testdir();
  const podDir = path.join(root, 'ns_web_uid1');
  const file = containerLogPath(podDir, 'app', 0);
  closeSync(await openLogFile(file));
  let written = '';
  for (let n = 1; n <= 11; n++) {
    appendFileSync(file, `line ${n}\n`);
    written += `line ${n}\n`;
    await rotateLog(file, { root, maxBytes: 20, maxFiles: 3 });
  }
  const sizes = await Promise.all([`${file}.2`, `${file}.1`, file].map(async (name) => (await stat(name)).size));
  t.ok(sizes.every((size) => size > 0), `three files hold the log (${sizes.join(', ')} bytes)`);
  const onDisk = sizes.reduce((sum, size) => sum + size, 0);
  const all = written.slice(written.length - onDisk);
  t.not(all[0], 'l', 'the oldest copy starts inside a line');
  const from = (offset: number) => (offset > 0 && all[offset - 1] === '\n' ? all.slice(offset) : all.slice(all.indexOf('\n', offset) + 1));
  return { podDir, file, all, from };
}

t.test('tail counts lines across the rotated copies and the live file', async (t) => {
  const { podDir, all, from } = await rotatedPod(t);
  const whole = from(0);
  t.equal(await read(podDir), whole, 'everything on disk from its first whole line, in order');
  t.equal(await read(podDir, { chunkBytes: 3 }), whole, 'the same through a 3-byte buffer');
  t.ok(whole.length < all.length && all.endsWith(whole), 'only the cut first line is left out');
  const lines = whole.split('\n').slice(0, -1);
  for (let count = 0; count <= lines.length + 1; count++) {
    const expected = count === 0 ? '' : lines.slice(-count).join('\n') + '\n';
    t.equal(await read(podDir, { tailLines: count }), count > lines.length ? whole : expected, `tail ${count}`);
    t.equal(await read(podDir, { tailLines: count, chunkBytes: 3 }), count > lines.length ? whole : expected, `tail ${count} with a 3-byte buffer`);
  }
});

t.test('tail counts a last line without its newline', async (t) => {
  const root = t.testdir({ ns_web_uid1: { app: { '0.log': 'a\nb\nc' } } });
  t.equal(await read(path.join(root, 'ns_web_uid1'), { tailLines: 2 }), 'b\nc');
});

t.test('previous, restartCount, and what is not there', async (t) => {
  const root = t.testdir({ ns_web_uid1: { app: { '0.log': 'zero\n', '1.log': 'one\n', '3.log': 'three\n' }, only: { '0.log': 'x\n' } } });
  const podDir = path.join(root, 'ns_web_uid1');
  t.equal(await read(podDir), 'three\n', 'the newest run by default');
  t.equal(await read(podDir, { previous: true }), 'one\n', 'the run before it');
  t.equal(await read(podDir, { restartCount: 1, previous: true }), 'zero\n');
  t.equal(await read(podDir, { previous: true, follow: true }), 'one\n', 'following an ended run just reads it');
  await t.rejects(readLogs(podDir, 'only', { previous: true }), { code: 'PreviousLogNotFound' });
  await t.rejects(readLogs(podDir, 'app', { restartCount: 2 }), { code: 'LogNotFound' });
  await t.rejects(readLogs(podDir, 'missing'), { code: 'LogNotFound' });
  await t.rejects(readLogs(podDir, '../etc'), { code: 'InvalidLogName' });
});

t.test('since picks whole files by their last write; limitBytes cuts the output', async (t) => {
  const { podDir, file, all, from } = await rotatedPod(t);
  const now = Date.now();
  await utimes(`${file}.2`, new Date(now - 600_000), new Date(now - 600_000));
  await utimes(`${file}.1`, new Date(now - 60_000), new Date(now - 60_000));
  const fromCopy1 = from((await stat(`${file}.2`)).size);
  t.equal(await read(podDir, { sinceSeconds: 300, now: () => now }), fromCopy1, 'the copy last written 10 min ago is left out');
  t.equal(await read(podDir, { sinceTime: new Date(now - 30_000).toISOString() }), from(all.length - (await stat(file)).size), 'only the live file');
  t.equal(await read(podDir, { sinceSeconds: 3600, tailLines: 1 }), 'line 11\n', 'tail and since: the later start wins');
  t.equal(await read(podDir, { sinceSeconds: 1, now: () => now + 60_000 }), '', 'nothing written in the last second');
  t.equal(await read(podDir, { limitBytes: 12 }), from(0).slice(0, 12));
  t.equal(await read(podDir, { limitBytes: 12, tailLines: 2 }), 'line 10\nline');
});

t.test('timestamps are refused with a code, and nonsense options too', async (t) => {
  const root = t.testdir({ ns_web_uid1: { app: { '0.log': 'x\n' } } });
  const podDir = path.join(root, 'ns_web_uid1');
  await t.rejects(readLogs(podDir, 'app', { timestamps: true }), { code: 'TimestampsUnsupported' });
  await t.rejects(readLogs(podDir, 'app', { tailLines: -1 }), { code: 'InvalidLogOptions' });
  await t.rejects(readLogs(podDir, 'app', { sinceTime: 'yesterday-ish' }), { code: 'InvalidLogOptions' });
  await t.rejects(readLogs(podDir, 'app', { sinceTime: new Date(), sinceSeconds: 1 }), { code: 'InvalidLogOptions' });
  const stream = await readLogs(podDir, 'app');
  await stream.close();
});

t.test('a pod that swaps its log or a copy for a symlink gets an error, never the target', async (t) => {
  const root = t.testdir({ shadow: 'root:secret\n', ns_web_uid1: { app: { '0.log': 'mine\n', '1.log': 'mine too\n' } } });
  const podDir = path.join(root, 'ns_web_uid1');
  await symlink(path.join(root, 'shadow'), path.join(podDir, 'app', '1.log.1'));
  await t.rejects(read(podDir), { code: 'UnsafeLogPath' }, 'a symlinked copy');
  await rm(path.join(podDir, 'app', '1.log'));
  await symlink(path.join(root, 'shadow'), path.join(podDir, 'app', '1.log'));
  t.equal(await read(podDir), 'mine\n', 'a symlinked live file is not a log: the real one is read');
  await t.rejects(readLogs(podDir, 'app', { restartCount: 1 }), { code: 'LogNotFound' });
});

t.test('follow across several rotations gets every line of a slow writer, once, in order', async (t) => {
  const root = t.testdir();
  const podDir = path.join(root, 'ns_web_uid1');
  const file = containerLogPath(podDir, 'app', 0);
  const { exited } = startWriter(t, await openLogFile(file), [120, 15, 40]);
  const rotator = new LogRotator({ root, maxBytes: 200, maxFiles: 3 });
  rotator.add(file);
  await waitFor(async () => (await stat(file)).size > 0, { what: 'the first line' });
  const stream = await readLogs(podDir, 'app', { follow: true, done: exited, pollIntervalMs: 60 });
  const reading = collect(stream);
  let rotations = 0;
  let writerDone = false;
  void exited.then(() => (writerDone = true));
  while (!writerDone) {
    // Rotate right after a line lands (see rotate-log.test.ts): this test is about the reader.
    await waitFor(async () => writerDone || (await stat(file)).size > 200, { interval: 1, what: 'the log to fill' });
    if ((await rotator.checkNow()).some((result) => result.rotated)) rotations++;
  }
  const text = await reading;
  t.ok(rotations >= 15, `${rotations} rotations while following`);
  t.same(numbers(text), range(1, 120), 'no gap, no duplicate');
  t.equal(stream.lostBytes, 0);
  t.equal(stream.position, 120 * 40, 'the position counts every byte of the stream');
});

t.test('a fast writer followed across rotations: whole lines, strictly increasing', async (t) => {
  const root = t.testdir();
  const podDir = path.join(root, 'ns_web_uid1');
  const file = containerLogPath(podDir, 'app', 0);
  const { exited } = startWriter(t, await openLogFile(file), [2000, 1, 30]);
  const rotator = new LogRotator({ root, maxBytes: 3000, maxFiles: 3, intervalMs: 20, busyIntervalMs: 20 });
  rotator.add(file);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const rotating = rotator.run(controller.signal);
  const stream = await readLogs(podDir, 'app', { follow: true, done: exited, pollIntervalMs: 10 });
  const seen = numbers(await collect(stream));
  controller.abort();
  await rotating;
  const whole = seen.filter((number) => Number.isInteger(number));
  t.ok(whole.every((number, index) => index === 0 || number > whole[index - 1]!), 'strictly increasing: nothing twice, nothing out of order');
  t.ok(seen.length - whole.length <= (stream.lostBytes > 0 ? 1 : 0) * seen.length, 'a broken line only where bytes were skipped');
  t.equal(whole.at(-1), 2000, 'the last line arrives');
  t.comment(`followed ${whole.length} of 2000 lines; ${stream.lostBytes} bytes were rotated away before they were read`);
});

t.test('a follower left behind by rotation ends the cut line and goes on at the next whole line', async (t) => {
  const root = t.testdir();
  const podDir = path.join(root, 'ns_web_uid1');
  const file = containerLogPath(podDir, 'app', 0);
  closeSync(await openLogFile(file));
  const line = (n: number) => `line ${n}........\n`;
  for (let n = 1; n <= 5; n++) appendFileSync(file, line(n));
  // 7-byte chunks: the first chunk the follower gets ends inside line 1.
  const stream = await readLogs(podDir, 'app', { follow: true, pollIntervalMs: 10, chunkBytes: 7 });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  t.equal(first.value!.toString(), 'line 1.', 'the follower got part of line 1');
  // While it does not read, the writer goes on and rotation drops everything it had not read.
  for (let n = 6; n <= 60; n++) {
    appendFileSync(file, line(n));
    await rotateLog(file, { root, maxBytes: 60, maxFiles: 3 });
  }
  let text: string = first.value!.toString();
  while (!text.endsWith(line(60))) text += (await iterator.next()).value!.toString();
  await iterator.return!();
  const [cut, ...rest] = text.split('\n').slice(0, -1);
  t.equal(cut, 'line 1.', 'the cut line is ended where the loss began');
  const numbers = rest.map((entry) => Number(/^line (\d+)\.{8}$/.exec(entry)?.[1]));
  t.ok(numbers.every(Number.isInteger), `every line after it is whole: ${rest.slice(0, 3).join(' | ')}`);
  t.ok(numbers.every((number, index) => index === 0 || number === numbers[index - 1]! + 1), 'and they follow one another');
  t.ok(numbers[0]! > 5 && numbers.length >= 5, `it went on at the oldest whole line on disk (${numbers[0]}, then ${numbers.length - 1} more)`);
  t.equal(stream.lostBytes, Buffer.byteLength(Array.from({ length: numbers[0]! - 1 }, (_, index) => line(index + 1)).join('')) - 7, 'lostBytes counts what it never sent, the rest of the cut line included');
});

t.test('a reader that restarts resumes at the position the old one reached', async (t) => {
  const root = t.testdir();
  const podDir = path.join(root, 'ns_web_uid1');
  const file = containerLogPath(podDir, 'app', 0);
  const { exited } = startWriter(t, await openLogFile(file), [100, 15, 40]);
  const rotator = new LogRotator({ root, maxBytes: 200, maxFiles: 4 });
  rotator.add(file);
  let writerDone = false;
  void exited.then(() => (writerDone = true));
  const rotating = (async () => {
    while (!writerDone) {
      await waitFor(async () => writerDone || (await stat(file)).size > 200, { interval: 1, what: 'the log to fill' });
      await rotator.checkNow();
    }
  })();
  await waitFor(async () => (await stat(file)).size > 0, { what: 'the first line' });

  const firstAgent = new AbortController();
  const first = await readLogs(podDir, 'app', { follow: true, signal: firstAgent.signal, pollIntervalMs: 20 });
  let firstText = '';
  for await (const chunk of first) {
    firstText += chunk.toString('utf8');
    if (numbers(firstText).length >= 30) firstAgent.abort();
  }
  // The "agent" is down for a while; the writer goes on and the log is rotated twice meanwhile.
  const { sequence } = await readRotationState(file, root);
  await waitFor(async () => writerDone || (await readRotationState(file, root)).sequence >= sequence + 4, { what: 'rotations while no one reads' });
  const second = await readLogs(podDir, 'app', { follow: true, done: exited, startAt: first.position, pollIntervalMs: 20 });
  const secondText = await collect(second);
  await rotating;
  t.same(numbers(firstText + secondText), range(1, 100), 'together: every line once');
  t.equal(second.lostBytes, 0);
});

t.test('a follow ends on abort, and when the pod logs are removed', async (t) => {
  const root = t.testdir({ ns_web_uid1: { app: { '0.log': 'first\n' } } });
  const podDir = path.join(root, 'ns_web_uid1');
  const controller = new AbortController();
  const aborted = await readLogs(podDir, 'app', { follow: true, signal: controller.signal, pollIntervalMs: 10 });
  const reading = collect(aborted);
  await new Promise((resolve) => setTimeout(resolve, 50));
  controller.abort();
  t.equal(await reading, 'first\n');

  const removed = await readLogs(podDir, 'app', { follow: true, pollIntervalMs: 10 });
  const readingRemoved = collect(removed);
  await new Promise((resolve) => setTimeout(resolve, 30));
  await removePodLogs(podDir);
  t.equal(await readingRemoved, 'first\n', 'ends once the file is gone');
  await mkdir(podDir);
});

t.test('a follower whose rotation state vanishes before the live file (logs being removed) never rewinds', async (t) => {
  const { podDir, file, from } = await rotatedPod(t);
  const stream = await readLogs(podDir, 'app', { follow: true, pollIntervalMs: 10 });
  const reading = collect(stream);
  await new Promise((resolve) => setTimeout(resolve, 50));
  // removePodLogs unlinks files one by one: here the state goes first and the live file stays a while.
  await rm(rotationStatePath(file));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await rm(file);
  t.equal(await reading, from(0), 'every byte once: nothing read again from the live file start');
});
