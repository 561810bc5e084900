import t from 'tap';
import { CgroupError, checkLimits, containerPath, parseHandle } from '../../../src/runtime/cgroups/cgroup-driver.js';

t.test('container paths and handles', async (t) => {
  t.equal(containerPath('/pm8s', '0a1b-2c', 'web'), '/pm8s/pod-0a1b-2c/web');
  t.equal(containerPath('/', 'uid', 'web'), '/pod-uid/web', 'a root at the top of the tree');
  t.same(parseHandle('/a/pm8s', '/a/pm8s/pod-uid/web'), { podUid: 'uid', containerName: 'web', podPath: '/a/pm8s/pod-uid' });
  for (const [uid, name] of [['..', 'web'], ['uid', '..'], ['uid', 'Web'], ['a/b', 'web'], ['uid', 'a b'], ['', 'web'], ['uid', '-web']]) {
    t.throws(() => containerPath('/pm8s', uid!, name!), { code: 'CgroupInvalidName' }, `${uid} / ${name}`);
  }
  for (const handle of ['/pm8s', '/pm8s/pod-uid', '/pm8s/pod-uid/web/x', '/other/pod-uid/web', '/pm8s/pod-../web', '/pm8s/pod-uid/../../etc', 'pm8s/pod-uid/web']) {
    t.throws(() => parseHandle('/pm8s', handle), { code: 'CgroupInvalidHandle' }, handle);
  }
});

t.test('limits are checked before anything is written', async (t) => {
  t.doesNotThrow(() => checkLimits({ memoryBytes: 1n, cpuMillis: 1, cpuRequestMillis: 0, pidsMax: 1 }, { pidsMax: 1 }));
  for (const limits of [{ memoryBytes: 0n }, { cpuMillis: 0 }, { cpuMillis: 1.5 }, { cpuRequestMillis: -1 }, { pidsMax: Number.NaN }]) {
    t.throws(() => checkLimits(limits), { name: CgroupError.name, code: 'CgroupInvalidLimit' }, JSON.stringify(limits, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)));
  }
  t.throws(() => checkLimits({}, { pidsMax: 0 }), { code: 'CgroupInvalidLimit' }, 'pod pidsMax 0');
});
