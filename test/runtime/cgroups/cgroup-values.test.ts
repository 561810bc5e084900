import t from 'tap';
import { CPU_PERIOD_MICROS, milliCpuToQuota, milliCpuToShares, sharesToWeight } from '../../../src/runtime/cgroups/cgroup-values.js';

t.test('millicores to cpu.shares, as the kubelet converts them', async (t) => {
  t.equal(milliCpuToShares(undefined), 2, 'no request: the minimum');
  t.equal(milliCpuToShares(0), 2, '0: the minimum');
  t.equal(milliCpuToShares(1), 2, '1m rounds below the minimum');
  t.equal(milliCpuToShares(250), 256);
  t.equal(milliCpuToShares(1000), 1024, 'one core = 1024 shares');
  t.equal(milliCpuToShares(300_000), 262_144, 'clamped at the kernel maximum');
});

t.test('cpu.shares to cpu.weight: the linear runc conversion', async (t) => {
  t.equal(sharesToWeight(2), 1);
  t.equal(sharesToWeight(256), 10);
  t.equal(sharesToWeight(1024), 39, 'the classic 1024 → 39');
  t.equal(sharesToWeight(262_144), 10_000);
});

t.test('millicores to a CFS quota per 100 ms', async (t) => {
  t.equal(CPU_PERIOD_MICROS, 100_000);
  t.equal(milliCpuToQuota(500), 50_000);
  t.equal(milliCpuToQuota(2500), 250_000, 'more than one core');
  t.equal(milliCpuToQuota(1), 1_000, 'never below the kernel minimum of 1 ms');
});
