/**
 * Picks this host's cgroup driver, as Nomad's cgroupslib does from mountinfo: pure v2 when the
 * unified hierarchy is mounted at the cgroup root, v1 or hybrid when controller hierarchies are
 * mounted below it, and 'none' (with the reason) when nothing there can be written.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CgroupError, type CgroupDriver } from './cgroup-driver.js';
import { parseMountinfo, parseProcCgroup, type CgroupMount } from './cgroup-mounts.js';
import { NoneDriver } from './none-driver.js';
import { openV1Driver, type V1Hierarchy } from './v1-driver.js';
import { AGENT_LEAF, openV2Driver } from './v2-driver.js';

export interface DetectCgroupDriverOptions {
  /** The name of pm8s' subtree; default `pm8s`. */
  root?: string;
  /** Default /proc. */
  procRoot?: string;
  /** Where the cgroup filesystems are mounted; default /sys/fs/cgroup. */
  sysfsRoot?: string;
  /** v2 only: the cgroup to build under instead of the agent's own (from /proc/<selfPid>/cgroup). */
  base?: string;
  /** The agent's pid, whose cgroup is the v2 base and which moves into its leaf; default this process. */
  selfPid?: number;
}

const ROOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Errors that mean "cgroups are not ours to write here", not "the agent is broken". */
const UNAVAILABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR']);

export async function detectCgroupDriver(options: DetectCgroupDriverOptions = {}): Promise<CgroupDriver> {
  const root = options.root ?? 'pm8s';
  if (!ROOT_NAME.test(root)) throw new CgroupError('CgroupInvalidName', `cgroup root ${JSON.stringify(root)} must be one directory name`);
  const procRoot = options.procRoot ?? '/proc';
  const sysfsRoot = (options.sysfsRoot ?? '/sys/fs/cgroup').replace(/\/+$/, '') || '/';
  const selfPid = options.selfPid ?? process.pid;
  const none = (why: string) => new NoneDriver(`${why}; pods run without resource limits`, root);
  let mountinfo: string;
  try {
    mountinfo = await readFile(`${procRoot}/self/mountinfo`, 'utf8');
  } catch (error) {
    return none(`cannot read ${procRoot}/self/mountinfo (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const mounts = parseMountinfo(mountinfo).filter((mount) => mount.mountPoint === sysfsRoot || dirname(mount.mountPoint) === sysfsRoot);
  const unified = mounts.find((mount) => mount.version === 2 && mount.mountPoint === sysfsRoot);
  try {
    if (unified !== undefined) {
      if (unified.readOnly) return none(`the cgroup v2 hierarchy at ${sysfsRoot} is mounted read-only`);
      const base = options.base ?? (await ownCgroup(procRoot, selfPid, unified));
      const driver = await openV2Driver({ mount: sysfsRoot, base, root, selfPid });
      return driver;
    }
    const hierarchies: Partial<Record<V1Hierarchy, string>> = {};
    for (const mount of mounts) {
      if (mount.version !== 1 || mount.readOnly) continue;
      for (const controller of ['memory', 'cpu', 'cpuacct', 'pids'] as const) {
        if (mount.controllers.includes(controller)) hierarchies[controller] ??= mount.mountPoint;
      }
    }
    if (hierarchies.memory === undefined && hierarchies.cpu === undefined && hierarchies.pids === undefined) {
      const readOnly = mounts.some((mount) => mount.readOnly);
      return none(readOnly ? `the cgroup hierarchies under ${sysfsRoot} are mounted read-only` : `no cgroup filesystem with memory, cpu or pids is mounted at ${sysfsRoot}`);
    }
    const hybrid = mounts.find((mount) => mount.version === 2 && !mount.readOnly);
    return await openV1Driver({ mounts: hierarchies, root, ...(hybrid === undefined ? {} : { unified: hybrid.mountPoint }) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof CgroupError || (code !== undefined && UNAVAILABLE.has(code))) {
      return none(`cgroups under ${sysfsRoot} are not writable by this process (uid ${process.getuid?.() ?? '?'}): ${(error as Error).message}`);
    }
    throw error;
  }
}

/** The agent's own v2 cgroup, as a path in the mount; a restarted agent already in its leaf builds beside it, not below. */
async function ownCgroup(procRoot: string, pid: number, mount: CgroupMount): Promise<string> {
  const path = parseProcCgroup(await readFile(`${procRoot}/${pid}/cgroup`, 'utf8')).unified ?? '/';
  let base = mount.root !== '/' && (path === mount.root || path.startsWith(`${mount.root}/`)) ? path.slice(mount.root.length) || '/' : path;
  // Outside the mount's view (cgroup namespaces) the kernel shows `/..`; the mount's top is all we can use.
  if (base.startsWith('/..')) base = '/';
  if (base.endsWith(`/${AGENT_LEAF}`)) base = dirname(base);
  return base;
}
