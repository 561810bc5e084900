/**
 * cgroup v2 (the unified hierarchy): `<base>/<root>/pod-<uid>/<container>`, where `base` is the
 * agent's own, delegated cgroup (systemd `Delegate=yes`). v2 forbids processes in a cgroup that
 * enables controllers for its children, so the agent first moves itself into the leaf
 * `<base>/agent`, then enables +memory +cpu +pids down the path.
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
import { CPU_PERIOD_MICROS, milliCpuToQuota, milliCpuToShares, sharesToWeight } from './cgroup-values.js';

export interface V2DriverOptions {
  /** Where the unified hierarchy is mounted, such as /sys/fs/cgroup. */
  mount: string;
  /** The cgroup pm8s builds under (the agent's delegated cgroup), such as `/system.slice/pm8s-agent.service`. */
  base: string;
  /** The name of pm8s' subtree below `base`. */
  root: string;
  /** The agent's pid, moved into `<base>/agent` when it sits in `base`; default this process. */
  selfPid?: number;
}

/** The leaf the agent moves itself into, so that `base` itself holds no process. */
export const AGENT_LEAF = 'agent';

/** Prepares the subtree (agent leaf, root cgroup, controllers) and returns the driver; throws when the tree is not writable. */
export async function openV2Driver(options: V2DriverOptions): Promise<V2Driver> {
  const { mount, base } = options;
  const baseDir = cgroupDir(mount, base);
  const offered = await readCgroupFile(join(baseDir, 'cgroup.controllers'));
  if (offered === undefined) throw new CgroupError('CgroupUnsupported', `${baseDir} is not a cgroup v2 directory`);
  const available = CGROUP_CONTROLLERS.filter((controller) => offered.split(/\s+/).includes(controller));
  const selfPid = options.selfPid ?? process.pid;
  // The root cgroup is exempt from the no-internal-processes rule; anywhere else the agent steps aside.
  if (base !== '/' && (await directProcs(baseDir)).includes(selfPid)) {
    await ensureDir(join(baseDir, AGENT_LEAF));
    await writeCgroupFile(join(baseDir, AGENT_LEAF, 'cgroup.procs'), String(selfPid));
  }
  const rootPath = base === '/' ? `/${options.root}` : `${base}/${options.root}`;
  await ensureDir(cgroupDir(mount, rootPath));
  let reason: string | undefined;
  if (available.length > 0) {
    const enable = available.map((controller) => `+${controller}`).join(' ');
    try {
      await writeCgroupFile(join(baseDir, 'cgroup.subtree_control'), enable);
      await writeCgroupFile(join(cgroupDir(mount, rootPath), 'cgroup.subtree_control'), enable);
    } catch (error) {
      if (!(error instanceof CgroupError)) throw error;
      const others = await directProcs(baseDir);
      reason = `cannot enable ${enable} below ${base}${others.length > 0 ? ` (processes ${others.join(', ')} still in it)` : ''}: ${error.message}`;
    }
  }
  const enabledText = await readCgroupFile(join(cgroupDir(mount, rootPath), 'cgroup.subtree_control'));
  const controllers = CGROUP_CONTROLLERS.filter((controller) => (enabledText ?? '').split(/\s+/).includes(controller));
  const missing = CGROUP_CONTROLLERS.filter((controller) => !controllers.includes(controller));
  if (reason === undefined && missing.length > 0) reason = `cgroup v2 controllers ${missing.join(', ')} are not delegated to ${base} (cgroup.controllers: "${offered.trim()}")`;
  return new V2Driver(mount, rootPath, controllers, reason);
}

/** The processes in exactly this cgroup, not below it. */
async function directProcs(dir: string): Promise<number[]> {
  const text = await readCgroupFile(join(dir, 'cgroup.procs'));
  return (text ?? '').split('\n').filter(Boolean).map(Number);
}

export class V2Driver implements CgroupDriver {
  readonly kind = 'v2';
  readonly enforced: boolean;
  readonly reason?: string;
  readonly controllers: readonly CgroupController[];
  readonly #mount: string;
  readonly #rootPath: string;

  constructor(mount: string, rootPath: string, controllers: readonly CgroupController[], reason: string | undefined) {
    this.#mount = mount;
    this.#rootPath = rootPath;
    this.controllers = controllers;
    this.enforced = controllers.length === CGROUP_CONTROLLERS.length;
    if (reason !== undefined) this.reason = reason;
  }

  #dir(handle: string): string {
    parseHandle(this.#rootPath, handle);
    return cgroupDir(this.#mount, handle);
  }

  async createContainer(podUid: string, containerName: string, limits: ContainerLimits, podLimits: PodLimits = {}): Promise<string> {
    checkLimits(limits, podLimits);
    const handle = containerPath(this.#rootPath, podUid, containerName);
    const podDir = cgroupDir(this.#mount, parseHandle(this.#rootPath, handle).podPath);
    const dir = cgroupDir(this.#mount, handle);
    const has = (controller: CgroupController) => this.controllers.includes(controller);
    await ensureDir(podDir);
    if (this.controllers.length > 0) await writeCgroupFile(join(podDir, 'cgroup.subtree_control'), this.controllers.map((name) => `+${name}`).join(' '));
    if (has('pids')) await writeCgroupFile(join(podDir, 'pids.max'), String(podLimits.pidsMax ?? 'max'));
    await ensureDir(dir);
    if (has('memory')) {
      await writeCgroupFile(join(dir, 'memory.max'), String(limits.memoryBytes ?? 'max'));
      // No swapping past the limit (Kubernetes' NoSwap); the file exists only with swap accounting.
      if ((await readCgroupFile(join(dir, 'memory.swap.max'))) !== undefined) await writeCgroupFile(join(dir, 'memory.swap.max'), limits.memoryBytes === undefined ? 'max' : '0');
      // An OOM kills the whole container, as the kubelet does since 1.28, not one random process of it.
      await writeCgroupFile(join(dir, 'memory.oom.group'), '1');
    }
    if (has('cpu')) {
      await writeCgroupFile(join(dir, 'cpu.max'), `${limits.cpuMillis === undefined ? 'max' : milliCpuToQuota(limits.cpuMillis)} ${CPU_PERIOD_MICROS}`);
      await writeCgroupFile(join(dir, 'cpu.weight'), String(sharesToWeight(milliCpuToShares(limits.cpuRequestMillis))));
    }
    if (has('pids')) await writeCgroupFile(join(dir, 'pids.max'), String(limits.pidsMax ?? 'max'));
    return handle;
  }

  joinCommand(handle: string): string {
    return joinSnippet([join(this.#dir(handle), 'cgroup.procs')]);
  }

  async addProcess(handle: string, pid: number): Promise<void> {
    await writeCgroupFile(join(this.#dir(handle), 'cgroup.procs'), String(pid));
  }

  async pids(handle: string): Promise<number[]> {
    return readProcs(this.#dir(handle));
  }

  async stats(handle: string): Promise<CgroupStats> {
    const dir = this.#dir(handle);
    const current = await readCgroupFile(join(dir, 'memory.current'));
    const inactiveFile = parseFlatKeyed(await readCgroupFile(join(dir, 'memory.stat'))).get('inactive_file') ?? 0n;
    const usage = current === undefined ? 0n : BigInt(current.trim());
    // cpu.stat's usage_usec is kept for every v2 cgroup, with or without the cpu controller.
    const cpu = parseFlatKeyed(await readCgroupFile(join(dir, 'cpu.stat'))).get('usage_usec') ?? 0n;
    const tasks = await readCgroupFile(join(dir, 'pids.current'));
    return {
      memoryBytes: usage > inactiveFile ? usage - inactiveFile : usage,
      cpuUsageMicros: cpu,
      pids: tasks === undefined ? (await this.pids(handle)).length : Number(tasks.trim()),
    };
  }

  async oomKills(handle: string): Promise<number> {
    // memory.events (not .local) counts kills anywhere below, which is what a container's OOM means.
    return Number(parseFlatKeyed(await readCgroupFile(join(this.#dir(handle), 'memory.events'))).get('oom_kill') ?? 0n);
  }

  async signalAll(handle: string, signal: NodeJS.Signals): Promise<number> {
    const dir = this.#dir(handle);
    return signalCgroup(() => readProcs(dir), signal, { killFile: join(dir, 'cgroup.kill') });
  }

  async remove(handle: string): Promise<void> {
    const dir = this.#dir(handle);
    const remaining = await readProcs(dir);
    if (remaining.length > 0) throw new CgroupError('CgroupBusy', `cgroup ${handle} still holds processes ${remaining.join(', ')}`);
    if ((await removeCgroupDir(dir)) === 'busy') throw new CgroupError('CgroupBusy', `cgroup ${handle} stayed busy after its processes left`);
    // The pod's cgroup goes with its last container; while others remain, rmdir says EBUSY.
    await removeCgroupDir(cgroupDir(this.#mount, parseHandle(this.#rootPath, handle).podPath), { busyMs: 0 });
  }

  async scan(): Promise<ScannedContainer[]> {
    return scanContainers(cgroupDir(this.#mount, this.#rootPath), this.#rootPath);
  }
}
