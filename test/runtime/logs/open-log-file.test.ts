import { spawn, spawnSync } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { mkdir, readFile, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { LogError } from '../../../src/runtime/logs/log-error.js';
import { openLogFile, openLogForReading } from '../../../src/runtime/logs/open-log-file.js';
import { killProcess } from '../../helpers/processes.js';

const noMkfifo = spawnSync('mkfifo', ['--version']).status === 0 ? false : 'the mkfifo command is not available here';

t.test('creates the directories and a 0640 append-only file that a child writes to directly', async (t) => {
  const root = path.join(t.testdir(), 'pods');
  const file = path.join(root, 'ns_web_uid1', 'app', '0.log');
  const previousMask = process.umask(0o077);
  t.teardown(() => void process.umask(previousMask));
  const fd = await openLogFile(file, { root });
  t.equal((await stat(root)).mode & 0o777, 0o700, 'the log root is private');
  t.equal((await stat(path.dirname(file))).mode & 0o777 & ~0o077, 0o700 & 0o750, 'directories created with mode 0750 (minus umask)');
  t.equal((await stat(file)).mode & 0o777, 0o640, 'the file is 0640 whatever the umask');

  const child = spawn('sh', ['-c', 'echo out; echo err >&2'], { stdio: ['ignore', fd, fd], detached: true });
  t.teardown(() => killProcess(child));
  closeSync(fd);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  t.equal(code, 0);
  t.equal(await readFile(file, 'utf8'), 'out\nerr\n', 'both streams go to the same file');

  const again = await openLogFile(file, { root });
  writeSync(again, 'more\n', 0);
  closeSync(again);
  t.equal(await readFile(file, 'utf8'), 'out\nerr\nmore\n', 'O_APPEND: a write at position 0 still lands at the end');
});

t.test('a symlink planted at the log path is refused and its target untouched', async (t) => {
  const dir = t.testdir({ target: 'secret\n' });
  const file = path.join(dir, 'pod', 'app', '0.log');
  await mkdir(path.dirname(file), { recursive: true });
  await symlink(path.join(dir, 'target'), file);
  await t.rejects(openLogFile(file), { code: 'UnsafeLogPath' });
  await t.rejects(openLogForReading(file, path.join(dir, 'pod')), { code: 'UnsafeLogPath' });
  t.equal(await readFile(path.join(dir, 'target'), 'utf8'), 'secret\n', 'the target is unchanged');
  t.equal((await stat(path.join(dir, 'target'))).mode & 0o777, 0o644 & ~process.umask(), 'and not chmodded');
});

t.test('a symlinked directory inside the pod log dir is refused', async (t) => {
  const dir = t.testdir({ elsewhere: {} });
  const podDir = path.join(dir, 'pods', 'ns_web_uid1');
  await mkdir(podDir, { recursive: true });
  await symlink(path.join(dir, 'elsewhere'), path.join(podDir, 'app'));
  const error = await openLogFile(path.join(podDir, 'app', '0.log'), { root: path.join(dir, 'pods') }).catch((caught: unknown) => caught);
  t.ok(error instanceof LogError);
  t.equal((error as LogError).code, 'UnsafeLogPath');
  await t.rejects(stat(path.join(dir, 'elsewhere', '0.log')), { code: 'ENOENT' }, 'nothing created through the link');
  await t.rejects(openLogForReading(path.join(podDir, 'app', '0.log'), path.join(dir, 'pods')), { code: 'UnsafeLogPath' });
});

t.test('the pod log dir itself is checked when the root is the pods directory', async (t) => {
  const dir = t.testdir({ elsewhere: { app: {} }, pods: {} });
  await symlink(path.join(dir, 'elsewhere'), path.join(dir, 'pods', 'ns_web_uid1'));
  await t.rejects(openLogFile(path.join(dir, 'pods', 'ns_web_uid1', 'app', '0.log'), { root: path.join(dir, 'pods') }), { code: 'UnsafeLogPath' });
});

t.test('a FIFO at the path is refused without blocking', { skip: noMkfifo }, async (t) => {
  const dir = t.testdir({ pod: { app: {} } });
  const file = path.join(dir, 'pod', 'app', '0.log');
  t.equal(spawnSync('mkfifo', [file]).status, 0, 'mkfifo made the FIFO');
  await t.rejects(openLogFile(file), { code: 'UnsafeLogPath' }, 'for writing (no reader: ENXIO)');
  await t.rejects(openLogForReading(file, path.join(dir, 'pod')), { code: 'UnsafeLogPath' }, 'for reading (not a regular file)');
});

t.test('a path outside its root and a regular file in place of a directory are refused', async (t) => {
  const dir = t.testdir({ pods: { 'ns_web_uid1': 'not a directory' } });
  await t.rejects(openLogFile(path.join(dir, 'other', 'x.log'), { root: path.join(dir, 'pods') }), { code: 'UnsafeLogPath' });
  await t.rejects(openLogFile(path.join(dir, 'pods', 'ns_web_uid1', 'app', '0.log'), { root: path.join(dir, 'pods') }), { code: 'UnsafeLogPath' });
});
