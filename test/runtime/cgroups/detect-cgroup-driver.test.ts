import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseMountinfo } from '../../../src/runtime/cgroups/cgroup-mounts.js';
import { detectCgroupDriver } from '../../../src/runtime/cgroups/detect-cgroup-driver.js';
import { removeCgroupTree } from '../../helpers/cgroup-conformance.js';
import { killProcess } from '../../helpers/processes.js';

const CHILD_ROOT = process.env.PM8S_DETECT_CHILD_ROOT;

if (CHILD_ROOT !== undefined) {
  // The child of 'a process that is not root gets the none driver': detect as that user, report.
  const driver = await detectCgroupDriver({ root: CHILD_ROOT });
  process.stdout.write(`RESULT ${JSON.stringify({ kind: driver.kind, enforced: driver.enforced, reason: driver.reason })}\n`);
} else {
  tests();
}

function tests(): void {
  const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  const underSys = mounts.filter((mount) => mount.mountPoint === '/sys/fs/cgroup' || mount.mountPoint.startsWith('/sys/fs/cgroup/'));
  const pureV2 = underSys.some((mount) => mount.version === 2 && mount.mountPoint === '/sys/fs/cgroup');
  const hasV1 = underSys.some((mount) => mount.version === 1 && mount.controllers.includes('memory'));
  const unified = underSys.find((mount) => mount.version === 2)?.mountPoint;
  const expected = pureV2 ? 'v2' : hasV1 ? (unified === undefined ? 'v1' : 'hybrid') : 'none';
  const root = process.getuid?.() === 0 ? undefined : 'detection writes cgroups only as root here';

  /** Removes the test's root in every hierarchy under /sys/fs/cgroup. */
  const cleanUp = (name: string) => async () => {
    for (const mount of underSys) await removeCgroupTree(join(mount.mountPoint, name));
  };

  t.test(`this host is detected as '${expected}' (from its mount table)`, root === undefined ? {} : { skip: root }, async (t) => {
    const name = `pm8s-test-${process.pid}-detect`;
    t.teardown(cleanUp(name));
    const driver = await detectCgroupDriver({ root: name });
    t.equal(driver.kind, expected);
    if (driver.kind === 'hybrid' || driver.kind === 'v1') {
      t.equal(driver.enforced, true, 'v1 memory, cpu and pids are mounted here, so limits are enforced');
      t.same(driver.controllers, ['memory', 'cpu', 'pids']);
      t.equal(driver.reason, undefined, 'no reason to give');
    }
    const used = underSys.filter((mount) => (mount.version === 2 ? !pureV2 || mount.mountPoint === '/sys/fs/cgroup' : ['memory', 'cpu', 'cpuacct', 'pids'].some((controller) => mount.controllers.includes(controller))));
    for (const mount of used) t.ok(existsSync(join(mount.mountPoint, name)), `the root cgroup exists in ${mount.mountPoint}`);
  });

  t.test('sysfsRoot at a cgroup2 mount gives the v2 driver, with the reason when controllers are missing', unified === undefined || root !== undefined ? { skip: root ?? 'no cgroup2 mount' } : {}, async (t) => {
    const name = `pm8s-test-${process.pid}-unified`;
    t.teardown(cleanUp(name));
    const driver = await detectCgroupDriver({ root: name, sysfsRoot: unified! });
    t.equal(driver.kind, 'v2');
    const offered = readFileSync(join(unified!, 'cgroup.controllers'), 'utf8').split(/\s+/);
    if (['memory', 'cpu', 'pids'].every((controller) => offered.includes(controller))) t.equal(driver.enforced, true);
    else {
      t.equal(driver.enforced, false, 'controllers missing: not enforced');
      t.match(driver.reason, /cgroup v2 controllers .* are not delegated/, 'and the reason says so');
    }
  });

  t.test('no cgroup filesystem: the none driver, with a reason', async (t) => {
    const missing = await detectCgroupDriver({ sysfsRoot: join(t.testdir(), 'missing') });
    t.equal(missing.kind, 'none');
    t.equal(missing.enforced, false);
    t.match(missing.reason, /no cgroup filesystem .* is mounted at .*missing; pods run without resource limits/);
    const plain = await detectCgroupDriver({ sysfsRoot: t.testdir() });
    t.equal(plain.kind, 'none', 'a plain directory is not a cgroup mount');
    const noProc = await detectCgroupDriver({ procRoot: join(t.testdir(), 'proc') });
    t.equal(noProc.kind, 'none');
    t.match(noProc.reason, /cannot read .*mountinfo \(ENOENT\)/);
  });

  t.test('read-only cgroup mounts: the none driver, with a reason', async (t) => {
    const dir = t.testdir();
    await mkdir(join(dir, 'proc', 'self'), { recursive: true });
    const mountinfo = (lines: string[]) => writeFile(join(dir, 'proc', 'self', 'mountinfo'), `${lines.join('\n')}\n`);
    await mountinfo([`30 23 0:27 / ${dir}/cg ro,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 ro,nsdelegate`]);
    const v2 = await detectCgroupDriver({ procRoot: join(dir, 'proc'), sysfsRoot: `${dir}/cg` });
    t.equal(v2.kind, 'none');
    t.match(v2.reason, /cgroup v2 hierarchy at .* is mounted read-only/);
    await mountinfo([`32 31 0:29 / ${dir}/cg/memory ro,relatime - cgroup cgroup ro,memory`, `33 31 0:30 / ${dir}/cg/pids ro,relatime - cgroup cgroup ro,pids`]);
    const v1 = await detectCgroupDriver({ procRoot: join(dir, 'proc'), sysfsRoot: `${dir}/cg` });
    t.equal(v1.kind, 'none');
    t.match(v1.reason, /hierarchies under .* are mounted read-only/);
  });

  t.test('a process that is not root gets the none driver, and the reason names the refusal', root === undefined ? {} : { skip: root }, async (t) => {
    const name = `pm8s-test-${process.pid}-nobody`;
    t.teardown(cleanUp(name));
    const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps');
    const child = spawn(process.execPath, [...loader, fileURLToPath(import.meta.url)], {
      uid: 65534,
      gid: 65534,
      cwd: '/',
      env: { PATH: process.env.PATH, HOME: '/', PM8S_DETECT_CHILD_ROOT: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => killProcess(child));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.on('exit', resolve));
    // (tap's process-info hook in the child cannot write its record as nobody; that noise is harmless.)
    const line = output.split('\n').find((text) => text.startsWith('RESULT '));
    t.ok(line, 'the child reported its driver', { output });
    const result = JSON.parse(line?.slice('RESULT '.length) ?? '{}') as { kind?: string; enforced?: boolean; reason?: string };
    t.equal(result.kind, 'none', 'uid 65534 cannot write cgroups');
    t.equal(result.enforced, false);
    t.match(result.reason, /not writable by this process \(uid 65534\): cannot create cgroup .*: EACCES/, 'the reason names the error');
  });

  t.test('a root name that is not one directory is refused', async (t) => {
    await t.rejects(detectCgroupDriver({ root: '../etc' }), { code: 'CgroupInvalidName' });
  });
}
