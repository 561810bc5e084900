/**
 * cgroup v1 (one hierarchy per controller) and hybrid hosts (v1 controllers plus the v2 tree):
 * `<mount of each controller>/<root>/pod-<uid>/<container>`, the same path in memory, cpu,
 * cpuacct, pids and, on hybrid hosts, the unified tree, where the kernel can list and kill a whole
 * container in one place (`cgroup.kill`). v1 needs root: it has no delegation.
 */
import { join } from 'node:path';
import {
  CGROUP_CONTROLLERS,
  CgroupError,
  checkLimits,
  containerPath,
  parseHandle,
  type CgroupController,
  type CgroupDriver,
  type CgroupStats,
  type ContainerLimits,
  type PodLimits,
  type ScannedContainer,
} from './cgroup-driver.js';
import {
  cgroupDir,
  ensureDir,
  joinSnippet,
  parseFlatKeyed,
  readCgroupFile,
  readProcs,
  removeCgroupDir,
  scanContainers,
  signalCgroup,
  writeCgroupFile,
} from './cgroup-fs.js';
import { CPU_PERIOD_MICROS, milliCpuToQuota, milliCpuToShares } from './cgroup-values.js';

export type V1Hierarchy = 'memory' | 'cpu' | 'cpuacct' | 'pids';

export interface V1DriverOptions {
  /** Where each controller's hierarchy is mounted; cpu and cpuacct often share one (`cpu,cpuacct`). */
  mounts: Partial<Record<V1Hierarchy, string>>;
  /** The v2 mount of a hybrid host (such as /sys/fs/cgroup/unified); processes join it too. */
  unified?: string;
  /** The name of pm8s' subtree at the top of each hierarchy. */
  root: string;
}

/** Creates the root cgroup in every hierarchy and returns the driver; throws when one is not writable. */
export async function openV1Driver(options: V1DriverOptions): Promise<V1Driver> {
  const driver = new V1Driver(options);
  for (const mount of driver.mountPoints) await ensureDir(cgroupDir(mount, `/${options.root}`));
  return driver;
}

export class V1Driver implements CgroupDriver {
  readonly kind: 'v1' | 'hybrid';
  readonly enforced: boolean;
  readonly reason?: string;
  readonly controllers: readonly CgroupController[];
  /** Every hierarchy a container has a directory in, each once. */
  readonly mountPoints: readonly string[];
  readonly #mounts: Partial<Record<V1Hierarchy, string>>;
  readonly #unified: string | undefined;
  readonly #rootPath: string;
  /** The hierarchy processes are listed from: the unified tree when there is one. */
  readonly #listMount: string;

  constructor(options: V1DriverOptions) {
    this.#mounts = { ...options.mounts };
    this.#unified = options.unified;
    this.#rootPath = `/${options.root}`;
    this.kind = options.unified === undefined ? 'v1' : 'hybrid';
    this.controllers = CGROUP_CONTROLLERS.filter((controller) => options.mounts[controller] !== undefined);
    this.enforced = this.controllers.length === CGROUP_CONTROLLERS.length;
    const missing = CGROUP_CONTROLLERS.filter((controller) => !this.controllers.includes(controller));
    if (missing.length > 0) this.reason = `cgroup v1 controllers ${missing.join(', ')} are not mounted`;
    this.mountPoints = [...new Set([...Object.values(options.mounts), ...(options.unified === undefined ? [] : [options.unified])])];
    const listMount = options.unified ?? options.mounts.pids ?? options.mounts.memory ?? this.mountPoints[0];
    if (listMount === undefined) throw new CgroupError('CgroupUnsupported', 'no cgroup v1 hierarchy to build in');
    this.#listMount = listMount;
  }

  /** The container's directory in `hierarchy`, or undefined when that controller is not mounted. */
  #in(hierarchy: V1Hierarchy, path: string): string | undefined {
    const mount = this.#mounts[hierarchy];
    return mount === undefined ? undefined : cgroupDir(mount, path);
  }

  #check(handle: string): void {
    parseHandle(this.#rootPath, handle);
  }

  async createContainer(podUid: string, containerName: string, limits: ContainerLimits, podLimits: PodLimits = {}): Promise<string> {
    checkLimits(limits, podLimits);
    const handle = containerPath(this.#rootPath, podUid, containerName);
    const { podPath } = parseHandle(this.#rootPath, handle);
    // Hierarchies are independent: build them side by side (a pod start waits for this), keeping
    // the order that matters within each (pod before container, period before quota).
    await Promise.all(
      this.mountPoints.map(async (mount) => {
        await ensureDir(cgroupDir(mount, podPath));
        await ensureDir(cgroupDir(mount, handle));
      }),
    );
    const memory = this.#in('memory', handle);
    const cpu = this.#in('cpu', handle);
    const pids = this.#in('pids', handle);
    const podPids = this.#in('pids', podPath);
    await Promise.all([
      memory !== undefined &&
        (async () => {
          await writeCgroupFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes ?? -1));
          // Reclaim by swapping would hide the limit; the kernel kills instead, as on a kubelet without swap.
          if (limits.memoryBytes !== undefined) await writeCgroupFile(join(memory, 'memory.swappiness'), '0');
        })(),
      cpu !== undefined &&
        (async () => {
          await writeCgroupFile(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_MICROS));
          await writeCgroupFile(join(cpu, 'cpu.cfs_quota_us'), String(limits.cpuMillis === undefined ? -1 : milliCpuToQuota(limits.cpuMillis)));
          await writeCgroupFile(join(cpu, 'cpu.shares'), String(milliCpuToShares(limits.cpuRequestMillis)));
        })(),
      pids !== undefined &&
        podPids !== undefined &&
        (async () => {
          await writeCgroupFile(join(podPids, 'pids.max'), String(podLimits.pidsMax ?? 'max'));
          await writeCgroupFile(join(pids, 'pids.max'), String(limits.pidsMax ?? 'max'));
        })(),
    ]);
    return handle;
  }

  joinCommand(handle: string): string {
    this.#check(handle);
    return joinSnippet(this.mountPoints.map((mount) => join(cgroupDir(mount, handle), 'cgroup.procs')));
  }

  async addProcess(handle: string, pid: number): Promise<void> {
    this.#check(handle);
    for (const mount of this.mountPoints) await writeCgroupFile(join(cgroupDir(mount, handle), 'cgroup.procs'), String(pid));
  }

  async pids(handle: string): Promise<number[]> {
    this.#check(handle);
    return readProcs(cgroupDir(this.#listMount, handle));
  }

  async stats(handle: string): Promise<CgroupStats> {
    this.#check(handle);
    const memory = this.#in('memory', handle);
    let memoryBytes = 0n;
    if (memory !== undefined) {
      const usage = BigInt((await readCgroupFile(join(memory, 'memory.usage_in_bytes')))?.trim() ?? '0');
      const inactiveFile = parseFlatKeyed(await readCgroupFile(join(memory, 'memory.stat'))).get('total_inactive_file') ?? 0n;
      memoryBytes = usage > inactiveFile ? usage - inactiveFile : usage;
    }
    const cpuacct = this.#in('cpuacct', handle);
    const nanos = cpuacct === undefined ? undefined : await readCgroupFile(join(cpuacct, 'cpuacct.usage'));
    let cpuUsageMicros = nanos === undefined ? 0n : BigInt(nanos.trim()) / 1000n;
    if (nanos === undefined && this.#unified !== undefined) {
      cpuUsageMicros = parseFlatKeyed(await readCgroupFile(join(cgroupDir(this.#unified, handle), 'cpu.stat'))).get('usage_usec') ?? 0n;
    }
    const pidsDir = this.#in('pids', handle);
    const tasks = pidsDir === undefined ? undefined : await readCgroupFile(join(pidsDir, 'pids.current'));
    return { memoryBytes, cpuUsageMicros, pids: tasks === undefined ? (await this.pids(handle)).length : Number(tasks.trim()) };
  }

  async oomKills(handle: string): Promise<number> {
    this.#check(handle);
    const memory = this.#in('memory', handle);
    if (memory === undefined) return 0;
    const control = parseFlatKeyed(await readCgroupFile(join(memory, 'memory.oom_control')));
    const kills = control.get('oom_kill');
    if (kills !== undefined) return Number(kills);
    // Kernels before 4.13 have no oom_kill counter: hitting the limit is the best evidence there is.
    const failures = BigInt((await readCgroupFile(join(memory, 'memory.failcnt')))?.trim() ?? '0');
    return failures > 0n ? 1 : 0;
  }

  async signalAll(handle: string, signal: NodeJS.Signals): Promise<number> {
    this.#check(handle);
    const listDir = cgroupDir(this.#listMount, handle);
    const killFile = this.#unified === undefined ? undefined : join(cgroupDir(this.#unified, handle), 'cgroup.kill');
    return signalCgroup(() => readProcs(listDir), signal, killFile === undefined ? {} : { killFile });
  }

  async remove(handle: string): Promise<void> {
    const { podPath } = parseHandle(this.#rootPath, handle);
    const remaining = await this.pids(handle);
    if (remaining.length > 0) throw new CgroupError('CgroupBusy', `cgroup ${handle} still holds processes ${remaining.join(', ')}`);
    for (const mount of this.mountPoints) {
      if ((await removeCgroupDir(cgroupDir(mount, handle))) === 'busy') throw new CgroupError('CgroupBusy', `cgroup ${handle} in ${mount} stayed busy after its processes left`);
    }
    // The pod's cgroup goes with its last container; while others remain, rmdir says EBUSY.
    for (const mount of this.mountPoints) await removeCgroupDir(cgroupDir(mount, podPath), { busyMs: 0 });
  }

  async scan(): Promise<ScannedContainer[]> {
    return scanContainers(cgroupDir(this.#listMount, this.#rootPath), this.#rootPath);
  }
}
