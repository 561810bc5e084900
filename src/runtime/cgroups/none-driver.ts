/**
 * The driver for hosts without writable cgroups (not root, no delegation, read-only cgroupfs):
 * pods still run, without limits, and `reason` says why so the agent can report it. It tracks
 * nothing, so callers stop containers by process group and measure them by pid.
 */
import {
  CgroupError,
  checkLimits,
  containerPath,
  parseHandle,
  type CgroupDriver,
  type CgroupStats,
  type ContainerLimits,
  type PodLimits,
  type ScannedContainer,
} from './cgroup-driver.js';

export class NoneDriver implements CgroupDriver {
  readonly kind = 'none';
  readonly enforced = false;
  readonly reason: string;
  readonly controllers = [];
  readonly #rootPath: string;

  constructor(reason: string, root = 'pm8s') {
    this.reason = reason;
    this.#rootPath = `/${root}`;
  }

  /** Returns a handle shaped like the real drivers' (so callers need no special case); creates nothing. */
  async createContainer(podUid: string, containerName: string, limits: ContainerLimits, podLimits?: PodLimits): Promise<string> {
    checkLimits(limits, podLimits);
    return containerPath(this.#rootPath, podUid, containerName);
  }

  /** `:` — the shell's no-op, so `<join>; exec cmd` still runs the command. */
  joinCommand(handle: string): string {
    parseHandle(this.#rootPath, handle);
    return ':';
  }

  async addProcess(handle: string): Promise<void> {
    parseHandle(this.#rootPath, handle);
  }

  async pids(handle: string): Promise<number[]> {
    parseHandle(this.#rootPath, handle);
    return [];
  }

  /** There is nothing to read: rejects with `CgroupUnsupported` rather than report zeros as usage. */
  async stats(handle: string): Promise<CgroupStats> {
    parseHandle(this.#rootPath, handle);
    throw new CgroupError('CgroupUnsupported', `no cgroup stats on this host: ${this.reason}`);
  }

  async oomKills(handle: string): Promise<number> {
    parseHandle(this.#rootPath, handle);
    return 0;
  }

  async signalAll(handle: string): Promise<number> {
    parseHandle(this.#rootPath, handle);
    return 0;
  }

  async remove(handle: string): Promise<void> {
    parseHandle(this.#rootPath, handle);
  }

  async scan(): Promise<ScannedContainer[]> {
    return [];
  }
}
