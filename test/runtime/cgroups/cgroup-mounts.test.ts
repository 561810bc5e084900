import t from 'tap';
import { parseMountinfo, parseProcCgroup } from '../../../src/runtime/cgroups/cgroup-mounts.js';

t.test('mountinfo: pure v2, hybrid, co-mounted cpu,cpuacct, read-only, escaped paths', async (t) => {
  const mounts = parseMountinfo(
    [
      '22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw',
      '26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
      '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '41 31 0:38 /docker/abc /mnt/my\\040cgroups ro,relatime - cgroup cgroup rw,memory',
    ].join('\n'),
  );
  t.same(mounts, [
    { mountPoint: '/sys/fs/cgroup', root: '/', version: 2, controllers: [], readOnly: false },
    { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/', version: 1, controllers: ['cpu', 'cpuacct'], readOnly: false },
    { mountPoint: '/sys/fs/cgroup/systemd', root: '/', version: 1, controllers: [], readOnly: false },
    { mountPoint: '/mnt/my cgroups', root: '/docker/abc', version: 1, controllers: ['memory'], readOnly: true },
  ]);
});

t.test('/proc/<pid>/cgroup: the v2 path and the v1 paths by controller', async (t) => {
  const parsed = parseProcCgroup('12:pids:/pm8s/pod-1/web\n4:cpu,cpuacct:/pm8s/pod-1/web\n1:name=systemd:/init.scope\n0::/system.slice/pm8s.service/agent\n');
  t.equal(parsed.unified, '/system.slice/pm8s.service/agent');
  t.same([...parsed.v1], [
    ['pids', '/pm8s/pod-1/web'],
    ['cpu', '/pm8s/pod-1/web'],
    ['cpuacct', '/pm8s/pod-1/web'],
    ['name=systemd', '/init.scope'],
  ]);
  t.equal(parseProcCgroup('3:memory:/\n').unified, undefined, 'a pure v1 process has no v2 path');
});
