import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parseMountinfo } from '../../../src/runtime/cgroups/cgroup-mounts.js';
import { detectCgroupDriver } from '../../../src/runtime/cgroups/detect-cgroup-driver.js';
import { openV2Driver } from '../../../src/runtime/cgroups/v2-driver.js';
import { cgroupConformance, removeCgroupTree } from '../../helpers/cgroup-conformance.js';
import { killProcess } from '../../helpers/processes.js';

/** The unified hierarchy: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one. */
const unified = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).find(
  (mount) => mount.version === 2 && !mount.readOnly && (mount.mountPoint === '/sys/fs/cgroup' || mount.mountPoint.startsWith('/sys/fs/cgroup/')),
)?.mountPoint;
const whyNot = process.getuid?.() !== 0 ? 'writing the cgroup v2 tree needs root here' : unified === undefined ? 'no cgroup2 filesystem is mounted under /sys/fs/cgroup' : undefined;

t.test('the v2 tree of this host', whyNot === undefined ? {} : { skip: whyNot }, async (t) => {
  const options = { mount: unified!, base: '/', root: `pm8s-test-${process.pid}-v2` };
  const driver = await openV2Driver(options);
  t.equal(driver.kind, 'v2');
  if (!driver.enforced) t.comment(`v2 limits are not testable on this host, only the tree: ${driver.reason}`);
  cgroupConformance(t, {
    driver,
    reopen: () => openV2Driver(options),
    dirOf: (_controller, path) => join(unified!, path),
    rootDirs: [join(unified!, options.root)],
  });
});

t.test('under a delegated base, the agent moves itself into a leaf first', whyNot === undefined ? {} : { skip: whyNot }, async (t) => {
  const base = `/pm8s-test-${process.pid}-delegated`;
  const baseDir = join(unified!, base);
  await mkdir(baseDir);
  t.teardown(() => removeCgroupTree(baseDir));
  // A stand-in for the agent, started in the delegated cgroup as systemd would start the service.
  const agent = spawn('sh', ['-c', `echo $$ > '${baseDir}/cgroup.procs' && exec sleep 60`], { stdio: 'ignore' });
  t.teardown(() => killProcess(agent));
  const inBase = async () => (await readFile(join(baseDir, 'cgroup.procs'), 'utf8')).split('\n').includes(String(agent.pid));
  for (let tries = 0; !(await inBase()); tries++) {
    if (tries > 200) throw new Error('the stand-in agent never joined its cgroup');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const driver = await detectCgroupDriver({ sysfsRoot: unified!, selfPid: agent.pid! });
  t.equal(driver.kind, 'v2', 'a cgroup2 mount at sysfsRoot is v2');
  t.equal((await readFile(`/proc/${agent.pid}/cgroup`, 'utf8')).trim().split('\n').find((line) => line.startsWith('0::')), `0::${base}/agent`, 'the agent now sits in <base>/agent');
  t.equal((await readFile(join(baseDir, 'cgroup.procs'), 'utf8')).trim(), '', 'the base holds no process, as v2 requires before enabling controllers');
  const handle = await driver.createContainer('uid-1', 'web', {});
  t.equal(handle, `${base}/pm8s/pod-uid-1/web`, 'containers go below <base>/pm8s');
  t.ok(existsSync(join(baseDir, 'pm8s', 'pod-uid-1', 'web')), 'the cgroup exists there');

  const restarted = await detectCgroupDriver({ sysfsRoot: unified!, selfPid: agent.pid! });
  t.same((await restarted.scan()).map((entry) => entry.handle), [handle], 'an agent restarted inside the leaf builds beside it, not below it');
  await driver.remove(handle);
});
