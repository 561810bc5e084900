/**
 * Kubernetes' conversions from millicores to cgroup values (kubelet `cm.MilliCPUToShares`,
 * `MilliCPUToQuota`; runc's linear `ConvertCPUSharesToCgroupV2Value`), so a pod gets the same
 * numbers here as on a kubelet.
 */

/** The CFS period, 100 ms, the kubelet's default `cpuCFSQuotaPeriod`. */
export const CPU_PERIOD_MICROS = 100_000;
const MIN_QUOTA_MICROS = 1_000;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/** cpu.shares for a request; no request (or 0) gets the minimum, so best-effort pods yield to requested ones. */
export function milliCpuToShares(milliCpu: number | undefined): number {
  if (!milliCpu) return MIN_SHARES;
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((milliCpu * 1024) / 1000)));
}

/** cpu.weight (v2, 1..10000) for cpu.shares (v1, 2..262144): 2 → 1, 1024 → 39, 262144 → 10000. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - MIN_SHARES) * 9999) / (MAX_SHARES - MIN_SHARES));
}

/** The CFS quota per `CPU_PERIOD_MICROS` for a limit; the kernel refuses less than 1 ms. */
export function milliCpuToQuota(milliCpu: number): number {
  return Math.max(MIN_QUOTA_MICROS, Math.floor((milliCpu * CPU_PERIOD_MICROS) / 1000));
}
