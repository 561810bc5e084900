import { join } from 'node:path';
import t from 'tap';
import { detectCgroupDriver } from '../../../src/runtime/cgroups/detect-cgroup-driver.js';
import { NoneDriver } from '../../../src/runtime/cgroups/none-driver.js';
import { run } from '../../helpers/processes.js';
import { rejectsWithCode } from '../../helpers/cgroup-conformance.js';

t.test('without cgroups, pods still run: handles, a no-op join, nothing tracked', async (t) => {
  const driver = await detectCgroupDriver({ sysfsRoot: join(t.testdir(), 'nowhere') });
  t.ok(driver instanceof NoneDriver, 'detection falls back to the none driver');
  t.equal(driver.kind, 'none');
  t.equal(driver.enforced, false);
  t.same(driver.controllers, []);
  t.type(driver.reason, 'string', 'it says why');
  const handle = await driver.createContainer('uid-1', 'web', { memoryBytes: 1n << 20n, cpuMillis: 100, pidsMax: 5 });
  t.equal(handle, '/pm8s/pod-uid-1/web', 'a handle shaped like the real drivers’');
  const ran = await run(t, 'sh', ['-c', `${driver.joinCommand(handle)}; echo ran; exit 7`]);
  t.same({ code: ran.code, stdout: ran.stdout }, { code: 7, stdout: 'ran\n' }, 'the join snippet is a no-op, the command runs');
  await driver.addProcess(handle, process.pid);
  t.same(await driver.pids(handle), [], 'no process is tracked (stop containers by process group)');
  t.equal(await driver.oomKills(handle), 0);
  t.equal(await driver.signalAll(handle, 'SIGKILL'), 0, 'nothing is signalled');
  await rejectsWithCode(t, driver.stats(handle), 'CgroupUnsupported', 'stats are not invented');
  await driver.remove(handle);
  t.same(await driver.scan(), []);
});

t.test('the none driver still refuses names and handles that could not be cgroups', async (t) => {
  const driver = new NoneDriver('test');
  await rejectsWithCode(t, driver.createContainer('a/b', 'web', {}), 'CgroupInvalidName', 'pod UID a/b');
  await rejectsWithCode(t, driver.createContainer('uid', 'web', { memoryBytes: 0n }), 'CgroupInvalidLimit', 'memory 0');
  t.throws(() => driver.joinCommand('/etc'), { code: 'CgroupInvalidHandle' });
  await rejectsWithCode(t, driver.remove('/pm8s/pod-x'), 'CgroupInvalidHandle', 'a pod is not a container');
});
