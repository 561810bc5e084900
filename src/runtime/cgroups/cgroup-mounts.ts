/** Where the cgroup hierarchies are mounted (/proc/self/mountinfo) and which cgroup a process is in (/proc/<pid>/cgroup). */

export interface CgroupMount {
  mountPoint: string;
  /** The cgroup this mount shows at its top: `/` except inside containers that bind a subtree. */
  root: string;
  version: 1 | 2;
  /** v1: the controllers of this hierarchy (`cpu`, `cpuacct`, …); v2: empty (read cgroup.controllers). */
  controllers: string[];
  readOnly: boolean;
}

// Super options mix controllers with flags (xattr, name=systemd, release_agent=…); only these are controllers.
const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc']);

/** mountinfo escapes spaces and the like as `\040` octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The cgroup mounts in mountinfo text (proc(5): `id parent dev root point options [optional…] - type source superoptions`). */
export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator < 6) continue;
    const [type, , superOptions = ''] = fields.slice(separator + 1);
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    const options = (fields[5] ?? '').split(',');
    const superList = superOptions.split(',');
    mounts.push({
      mountPoint: unescape(fields[4] ?? ''),
      root: unescape(fields[3] ?? '/'),
      version: type === 'cgroup2' ? 2 : 1,
      controllers: type === 'cgroup2' ? [] : superList.filter((option) => V1_CONTROLLERS.has(option)),
      readOnly: options.includes('ro') || superList.includes('ro'),
    });
  }
  return mounts;
}

export interface ProcessCgroups {
  /** The v2 path (`0::` line), when the process has one. */
  unified?: string;
  /** v1 paths by controller (a `cpu,cpuacct` line gives both). */
  v1: Map<string, string>;
}

/** /proc/<pid>/cgroup lines: `hierarchy-id:controllers:path`. */
export function parseProcCgroup(text: string): ProcessCgroups {
  const result: ProcessCgroups = { v1: new Map() };
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllers = '', path = '/'] = match;
    if (id === '0' && controllers === '') result.unified = path;
    else for (const controller of controllers.split(',')) if (controller) result.v1.set(controller, path);
  }
  return result;
}
