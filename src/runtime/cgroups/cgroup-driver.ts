/**
 * One small interface over the ways a Linux host can confine processes: cgroup v2, cgroup v1,
 * hybrid (v1 controllers plus the v2 tree) and none. Every driver passes the same conformance
 * suite (test/helpers/cgroup-conformance.ts); `detectCgroupDriver` picks one for this host.
 */
import { CodedError } from '../../lib/coded-error.js';

/** The controllers pm8s sets limits with. */
export type CgroupController = 'memory' | 'cpu' | 'pids';
export const CGROUP_CONTROLLERS: readonly CgroupController[] = ['memory', 'cpu', 'pids'];

export interface ContainerLimits {
  /** Hard memory limit: v2 `memory.max`, v1 `memory.limit_in_bytes`. */
  memoryBytes?: bigint;
  /** CPU limit in millicores: a CFS quota per 100 ms period (v2 `cpu.max`, v1 `cpu.cfs_quota_us`). */
  cpuMillis?: number;
  /** CPU request in millicores: relative weight (v1 `cpu.shares`, v2 `cpu.weight`); absent means the minimum, as in Kubernetes. */
  cpuRequestMillis?: number;
  pidsMax?: number;
}

export interface PodLimits {
  /** Processes (tasks) for the whole pod, the kubelet's `podPidsLimit`. */
  pidsMax?: number;
}

export interface CgroupStats {
  /** Working set: usage minus inactive file cache, as `kubectl top` reports it; 0 without the memory controller. */
  memoryBytes: bigint;
  cpuUsageMicros: bigint;
  /** Tasks counted by the pids controller, or processes when it is absent. */
  pids: number;
}

export interface ScannedContainer {
  podUid: string;
  containerName: string;
  handle: string;
  pids: number[];
}

export type CgroupDriverKind = 'v2' | 'v1' | 'hybrid' | 'none';

export interface CgroupDriver {
  readonly kind: CgroupDriverKind;
  /** True when memory, cpu and pids limits are all enforced. */
  readonly enforced: boolean;
  /** Why limits are not (fully) enforced; for the Node condition and pod events. */
  readonly reason?: string;
  /** The controllers whose limits this driver writes. */
  readonly controllers: readonly CgroupController[];
  /**
   * Creates (idempotently) the pod's cgroup and the container's below it, and (re)writes the limits;
   * returns the handle: the container's cgroup path as /proc/<pid>/cgroup shows it.
   */
  createContainer(podUid: string, containerName: string, limits: ContainerLimits, podLimits?: PodLimits): Promise<string>;
  /**
   * A shell snippet that moves the shell running it into the cgroup, to run before it execs the
   * command (`<join>; exec cmd`), so nothing the command forks escapes. When joining fails the
   * snippet exits the shell with 125: a container never runs outside its limits by accident.
   */
  joinCommand(handle: string): string;
  addProcess(handle: string, pid: number): Promise<void>;
  /** Every process in the container's cgroup (and any cgroup below it), sorted. */
  pids(handle: string): Promise<number[]>;
  stats(handle: string): Promise<CgroupStats>;
  /** How many processes the kernel OOM-killed in this cgroup since it was created. */
  oomKills(handle: string): Promise<number>;
  /**
   * Signals every process in the cgroup, again for processes forked meanwhile, until no new one
   * appears (for SIGKILL: until the cgroup is empty, bounded); resolves with how many were signalled.
   */
  signalAll(handle: string, signal: NodeJS.Signals): Promise<number>;
  /** Removes the container's cgroup, and the pod's when it has no container left; rejects with `CgroupBusy` while processes remain. */
  remove(handle: string): Promise<void>;
  /** Every container cgroup under the driver's root, for re-adoption after the agent lost its state. */
  scan(): Promise<ScannedContainer[]>;
}

export type CgroupErrorCode =
  /** A pod UID or container name that cannot be a single cgroup directory name. */
  | 'CgroupInvalidName'
  /** A handle that is not a container cgroup below this driver's root. */
  | 'CgroupInvalidHandle'
  | 'CgroupInvalidLimit'
  /** Processes remain in a cgroup being removed. */
  | 'CgroupBusy'
  /** The kernel refused a cgroup file write (the cause says why). */
  | 'CgroupWriteFailed'
  /** The operation needs cgroups and the driver has none. */
  | 'CgroupUnsupported';

export class CgroupError extends CodedError<CgroupErrorCode> {}

// Pod UIDs are UUIDs and container names DNS labels; anything else could climb out of the tree.
const POD_UID = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The cgroup path of a container below `rootPath` (such as `/pm8s`). */
export function containerPath(rootPath: string, podUid: string, containerName: string): string {
  if (!POD_UID.test(podUid)) throw new CgroupError('CgroupInvalidName', `pod UID ${JSON.stringify(podUid)} cannot name a cgroup`);
  if (!CONTAINER_NAME.test(containerName)) throw new CgroupError('CgroupInvalidName', `container name ${JSON.stringify(containerName)} cannot name a cgroup`);
  return `${rootPath === '/' ? '' : rootPath}/pod-${podUid}/${containerName}`;
}

/** Splits a handle made by `containerPath`; throws `CgroupInvalidHandle` for anything else, so no caller acts on a foreign cgroup. */
export function parseHandle(rootPath: string, handle: string): { podUid: string; containerName: string; podPath: string } {
  const prefix = `${rootPath === '/' ? '' : rootPath}/pod-`;
  const rest = handle.startsWith(prefix) ? handle.slice(prefix.length).split('/') : [];
  const [podUid, containerName] = rest;
  if (rest.length !== 2 || podUid === undefined || containerName === undefined || !POD_UID.test(podUid) || !CONTAINER_NAME.test(containerName)) {
    throw new CgroupError('CgroupInvalidHandle', `${JSON.stringify(handle)} is not a container cgroup below ${rootPath}`);
  }
  return { podUid, containerName, podPath: `${prefix}${podUid}` };
}

/** Rejects limits the kernel would refuse or misread, before anything is written. */
export function checkLimits(limits: ContainerLimits, podLimits: PodLimits = {}): void {
  const bad = (what: string, value: unknown) => new CgroupError('CgroupInvalidLimit', `${what} must be a positive integer, not ${String(value)}`);
  if (limits.memoryBytes !== undefined && limits.memoryBytes <= 0n) throw bad('memoryBytes', limits.memoryBytes);
  for (const [what, value] of [
    ['cpuMillis', limits.cpuMillis],
    ['cpuRequestMillis', limits.cpuRequestMillis],
    ['pidsMax', limits.pidsMax],
    ['pod pidsMax', podLimits.pidsMax],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < (what === 'cpuRequestMillis' ? 0 : 1))) throw bad(what, value);
  }
}
