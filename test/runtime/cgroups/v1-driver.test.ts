import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseMountinfo } from '../../../src/runtime/cgroups/cgroup-mounts.js';
import { openV1Driver, type V1DriverOptions, type V1Hierarchy } from '../../../src/runtime/cgroups/v1-driver.js';
import { cgroupConformance, type DriverUnderTest } from '../../helpers/cgroup-conformance.js';

const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((mount) => mount.mountPoint.startsWith('/sys/fs/cgroup/') && !mount.readOnly);
const hierarchies: Partial<Record<V1Hierarchy, string>> = {};
for (const controller of ['memory', 'cpu', 'cpuacct', 'pids'] as const) {
  const mount = mounts.find((candidate) => candidate.version === 1 && candidate.controllers.includes(controller));
  if (mount !== undefined) hierarchies[controller] = mount.mountPoint;
}
const unified = mounts.find((mount) => mount.version === 2)?.mountPoint;
const whyNot =
  process.getuid?.() !== 0 ? 'cgroup v1 needs root' : hierarchies.memory === undefined ? 'no cgroup v1 memory hierarchy is mounted under /sys/fs/cgroup (a pure v2 host)' : undefined;

async function subject(options: V1DriverOptions): Promise<DriverUnderTest> {
  const driver = await openV1Driver(options);
  const listMount = options.unified ?? options.mounts.pids ?? options.mounts.memory!;
  return {
    driver,
    reopen: () => openV1Driver(options),
    dirOf: (controller, path) => join(controller === 'procs' ? listMount : options.mounts[controller]!, path),
    rootDirs: driver.mountPoints.map((mount) => join(mount, options.root)),
  };
}

t.test('v1 controllers alone (a pure v1 host)', whyNot === undefined ? {} : { skip: whyNot }, async (t) => {
  const tested = await subject({ mounts: hierarchies, root: `pm8s-test-${process.pid}-v1` });
  t.equal(tested.driver.kind, 'v1');
  t.equal(tested.driver.enforced, hierarchies.cpu !== undefined && hierarchies.pids !== undefined, 'enforced when memory, cpu and pids are mounted');
  cgroupConformance(t, tested);
});

t.test('hybrid: v1 controllers plus the v2 tree', whyNot === undefined && unified === undefined ? { skip: 'no cgroup2 tree mounted beside the v1 hierarchies' } : whyNot === undefined ? {} : { skip: whyNot }, async (t) => {
  const tested = await subject({ mounts: hierarchies, unified: unified!, root: `pm8s-test-${process.pid}-hybrid` });
  t.equal(tested.driver.kind, 'hybrid');
  cgroupConformance(t, tested);
});
