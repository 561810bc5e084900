/**
 * `GET /stats/summary`: CPU and memory of the node, each pod and each container, in the kubelet's
 * Summary API shape (a subset: cpu and memory), which the API server aggregates for
 * `metrics.k8s.io` and `pm8s top`. Containers are measured by their cgroup (working set; CPU time)
 * or, where cgroups are off, by their processes (pidusage: RSS; CPU time). The node comes from
 * /proc/stat and /proc/meminfo. A CPU rate needs two samples: the previous one is kept per
 * container, and one never seen before is sampled twice, `FIRST_WINDOW_MS` apart.
 */
import { readFile } from 'node:fs/promises';
import pidusage from 'pidusage';
import { ApiError } from '../../api/errors.js';
import { sleep } from '../../lib/backoff.js';
import type { CgroupDriver } from '../../runtime/cgroups/cgroup-driver.js';
import { groupMembers } from '../../runtime/process/proc-stat.js';
import type { PodRunner } from '../../runtime/runner/pod-runner.js';
import type { NodeApiContext, NodeApiHandler } from './node-api.js';
import { rfc3339 } from '../../api/meta.js';
import { parseContainerID } from '../../runtime/runner/container-status.js';

export interface CpuStats {
  time: string;
  /** The rate over the last window, in billionths of a core. */
  usageNanoCores: number;
  /** Cumulative CPU time since the cgroup (or process) started. */
  usageCoreNanoSeconds: number;
  /** pm8s: how long the window behind usageNanoCores was (the kubelet's housekeeping interval). */
  windowNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  /** Usage minus inactive file cache (cgroups), or the resident set size (pidusage). */
  workingSetBytes: number;
  usageBytes?: number;
  availableBytes?: number;
}

export interface ContainerStats {
  name: string;
  startTime?: string;
  cpu: CpuStats;
  memory: MemoryStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime?: string;
  containers: ContainerStats[];
  cpu: CpuStats;
  memory: MemoryStats;
}

export interface Summary {
  node: { nodeName: string; cpu: CpuStats; memory: MemoryStats };
  pods: PodStats[];
}

/** The first look at a container waits this long for its second CPU sample. */
const FIRST_WINDOW_MS = 100;
/** Requests closer than this to the previous sample reuse its rate rather than divide by a tiny window. */
const MIN_WINDOW_MS = 50;

interface Sample {
  cpuNanos: bigint;
  memoryBytes: bigint;
  /** process.hrtime.bigint() when read. */
  at: bigint;
}

interface Rated {
  cpuNanos: bigint;
  at: bigint;
  rate: number;
  window: number;
}

/** A container's instance: where to measure it. */
interface Target {
  key: string;
  read: () => Promise<Sample | undefined>;
}

/** A handler with its own previous samples (one per node API). */
export function createStatsHandler(): NodeApiHandler {
  const previous = new Map<string, Rated>();
  return async (request, response, segments, _query, context) => {
    if (request.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `${request.method} is not supported by stats`);
    if (segments.join('/') !== 'summary') throw new ApiError(404, 'NotFound', `the node API has no /stats/${segments.join('/')}`);
    const summary = await summarize(context, previous);
    const body = JSON.stringify(summary);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  };
}

interface PodTargets {
  ref: PodStats['podRef'];
  containers: Array<{ name: string; startTime?: string; target: Target }>;
}

export async function summarize(context: Pick<NodeApiContext, 'sync' | 'driver' | 'nodeName'>, previous: Map<string, Rated>): Promise<Summary> {
  const node: Target = { key: 'node', read: readNode };
  const pods: PodTargets[] = context.sync.list().map(({ pod, runner }) => ({
    ref: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default', uid: pod.metadata.uid ?? '' },
    containers: containerTargets(
      runner,
      [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((container) => container.name),
      context.driver,
    ),
  }));
  const targets = [node, ...pods.flatMap((pod) => pod.containers.map((container) => container.target))];
  let samples = await readAll(targets);
  if (targets.some((target) => samples.has(target.key) && !previous.has(target.key))) {
    for (const [key, sample] of samples) if (!previous.has(key)) previous.set(key, { cpuNanos: sample.cpuNanos, at: sample.at, rate: 0, window: 0 });
    await sleep(FIRST_WINDOW_MS);
    samples = await readAll(targets);
  }
  const time = rfc3339();
  const stats = new Map<string, { cpu: CpuStats; memory: MemoryStats }>();
  for (const [key, sample] of samples) {
    const rated = rate(previous.get(key), sample);
    previous.set(key, rated);
    stats.set(key, {
      cpu: { time, usageNanoCores: rated.rate, usageCoreNanoSeconds: Number(sample.cpuNanos), windowNanoSeconds: rated.window },
      memory: { time, workingSetBytes: Number(sample.memoryBytes) },
    });
  }
  for (const key of previous.keys()) if (!samples.has(key)) previous.delete(key);
  const nodeStats = stats.get('node');
  if (nodeStats === undefined) throw new ApiError(500, 'InternalError', 'cannot read the node usage from /proc');
  const memory = await readMeminfo();
  return {
    node: { nodeName: context.nodeName, cpu: nodeStats.cpu, memory: { ...nodeStats.memory, usageBytes: memory.usageBytes, availableBytes: memory.availableBytes } },
    pods: pods.flatMap((pod) => {
      const containers = pod.containers.flatMap((container) => {
        const measured = stats.get(container.target.key);
        return measured === undefined ? [] : [{ name: container.name, ...(container.startTime === undefined ? {} : { startTime: container.startTime }), ...measured }];
      });
      if (containers.length === 0) return [];
      return [{ podRef: pod.ref, containers, cpu: sumCpu(containers.map((c) => c.cpu), time), memory: { time, workingSetBytes: containers.reduce((sum, c) => sum + c.memory.workingSetBytes, 0) } }];
    }),
  };
}

function rate(before: Rated | undefined, sample: Sample): Rated {
  if (before === undefined) return { cpuNanos: sample.cpuNanos, at: sample.at, rate: 0, window: 0 };
  const elapsed = sample.at - before.at;
  if (elapsed < BigInt(MIN_WINDOW_MS) * 1_000_000n) return before;
  // A process that exited takes its CPU time with it (pidusage): never a negative rate.
  const used = sample.cpuNanos > before.cpuNanos ? sample.cpuNanos - before.cpuNanos : 0n;
  return { cpuNanos: sample.cpuNanos, at: sample.at, rate: Number((used * 1_000_000_000n) / elapsed), window: Number(elapsed) };
}

function sumCpu(cpus: CpuStats[], time: string): CpuStats {
  return {
    time,
    usageNanoCores: cpus.reduce((sum, cpu) => sum + cpu.usageNanoCores, 0),
    usageCoreNanoSeconds: cpus.reduce((sum, cpu) => sum + cpu.usageCoreNanoSeconds, 0),
    windowNanoSeconds: Math.max(0, ...cpus.map((cpu) => cpu.windowNanoSeconds)),
  };
}

async function readAll(targets: Target[]): Promise<Map<string, Sample>> {
  const samples = new Map<string, Sample>();
  await Promise.all(
    targets.map(async (target) => {
      const sample = await target.read().catch(() => undefined); // gone between listing and reading: not running, not measured
      if (sample !== undefined) samples.set(target.key, sample);
    }),
  );
  return samples;
}

/** Running containers of a pod, measured by cgroup, or by process group without cgroups. */
function containerTargets(runner: PodRunner, names: string[], driver: CgroupDriver): PodTargets['containers'] {
  const targets: PodTargets['containers'] = [];
  for (const name of names) {
    const container = runner.container(name);
    const status = container?.status();
    if (container === undefined || status?.state.running === undefined) continue;
    const startTime = status.state.running.startedAt;
    const cgroup = container.cgroup;
    if (cgroup !== undefined && driver.kind !== 'none') {
      targets.push({
        name,
        startTime,
        target: {
          key: `cgroup:${cgroup}:${status.containerID ?? ''}`, // each run gets a fresh cgroup at the same path, its counters from zero
          read: async () => {
            const stats = await driver.stats(cgroup);
            return { cpuNanos: stats.cpuUsageMicros * 1000n, memoryBytes: stats.memoryBytes, at: process.hrtime.bigint() };
          },
        },
      });
      continue;
    }
    const wrapper = parseContainerID(status.containerID);
    if (wrapper === undefined) continue;
    targets.push({ name, startTime, target: { key: `process:${status.containerID}`, read: () => readProcesses(wrapper.pid) } });
  }
  return targets;
}

/** The container's processes: its wrapper's process group, without the wrapper (as with cgroups, where it stays outside). */
async function readProcesses(wrapperPid: number): Promise<Sample | undefined> {
  const pids = (await groupMembers(wrapperPid)).filter((pid) => pid !== wrapperPid);
  const at = process.hrtime.bigint();
  let cpuNanos = 0n;
  let memoryBytes = 0n;
  const measured = await Promise.allSettled(pids.map((pid) => pidusage(pid)));
  for (const result of measured) {
    if (result.status !== 'fulfilled') continue; // exited meanwhile
    cpuNanos += BigInt(Math.round(result.value.ctime * 1e6));
    memoryBytes += BigInt(result.value.memory);
  }
  return { cpuNanos, memoryBytes, at };
}

/** USER_HZ, which the kernel fixes at 100 for /proc/stat whatever its internal HZ. */
const USER_HZ = 100n;

async function readNode(): Promise<Sample> {
  const [statText, memory] = await Promise.all([readFile('/proc/stat', 'utf8'), readMeminfo()]);
  const at = process.hrtime.bigint();
  const line = statText.split('\n').find((entry) => entry.startsWith('cpu '));
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait (guest time is already in user).
  const fields = (line ?? '').trim().split(/\s+/).slice(1).map((field) => BigInt(field));
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, index) => sum + (fields[index] ?? 0n), 0n);
  return { cpuNanos: (busy * 1_000_000_000n) / USER_HZ, memoryBytes: memory.workingSetBytes, at };
}

/** Node memory as the kubelet reports it without a root cgroup: working set = MemTotal − MemAvailable. */
async function readMeminfo(): Promise<{ workingSetBytes: bigint; usageBytes: number; availableBytes: number }> {
  const values = new Map<string, bigint>();
  for (const line of (await readFile('/proc/meminfo', 'utf8')).split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line.trim());
    if (match !== null) values.set(match[1]!, BigInt(match[2]!) * 1024n);
  }
  const total = values.get('MemTotal') ?? 0n;
  const available = values.get('MemAvailable') ?? values.get('MemFree') ?? 0n;
  const free = values.get('MemFree') ?? 0n;
  return { workingSetBytes: total - available, usageBytes: Number(total - free), availableBytes: Number(available) };
}
