/**
 * Translation between the agent's durable records (local-state.ts, keyed by pod and container)
 * and what a ContainerRunner saves and adopts, and what to do with each entry of the re-adoption
 * plan: hand it to the pod's runner, or — for processes no record or pod claims — stop them.
 */
import type { Pod } from '../../api/kinds/pod.js';
import type { CgroupDriver } from '../../runtime/cgroups/cgroup-driver.js';
import { containerLogPath, podLogDir } from '../../runtime/logs/log-paths.js';
import { stopProcess } from '../../runtime/process/stop-process.js';
import type { ContainerRecord as RunnerRecord, SavedContainerRecord } from '../../runtime/runner/container-status.js';
import type { AdoptionEntry } from './adoption.js';
import type { ContainerRecord } from './local-state.js';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export function podIdentity(pod: Pod): PodIdentity {
  return { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

/** What the agent stores for a runner's record. */
export function toStateRecord(pod: PodIdentity, record: SavedContainerRecord, dataDir: string): ContainerRecord {
  const restartCount = record.tracker.restartCount;
  return {
    podUid: pod.uid,
    namespace: pod.namespace,
    podName: pod.name,
    containerName: record.container,
    restartCount,
    ...(record.process === undefined ? {} : { process: record.process }),
    ...(record.startedAt === undefined ? {} : { startedAt: record.startedAt }),
    ...(record.containerID === undefined ? {} : { containerID: record.containerID }),
    ...(record.cgroup === undefined ? {} : { cgroupHandle: record.cgroup, oomKillsAtStart: 0 }),
    tracker: record.tracker,
    logPath: containerLogPath(podLogDir(dataDir, pod), record.container, restartCount),
  };
}

/**
 * The record a pod's runner adopts for a plan entry, or undefined when the entry is not the
 * runner's business (an empty cgroup, processes without any record: see `cleanUpEntry`).
 */
export function toRunnerRecord(entry: AdoptionEntry): RunnerRecord | undefined {
  const base = (record: ContainerRecord | undefined) => ({
    container: entry.containerName,
    ...(record?.startedAt === undefined ? {} : { startedAt: record.startedAt }),
    ...(record?.containerID === undefined ? {} : { containerID: record.containerID }),
    ...(record?.tracker === undefined ? {} : { tracker: record.tracker }),
  });
  switch (entry.outcome) {
    case 'adopted':
    case 'exitedWhileDown':
    case 'lost':
      // The runner watches the recorded wrapper: alive, or dead with (or without) a recorded status.
      return { ...base(entry.record), process: entry.record.process!, ...(entry.record.cgroupHandle === undefined ? {} : { cgroup: entry.record.cgroupHandle }) };
    case 'adoptedFromCgroup':
      return { ...base(entry.record), process: entry.handle.toJSON(), cgroup: entry.cgroupHandle };
    case 'orphaned':
      // The wrapper is gone: the runner reports ContainerStatusUnknown and kills what is left in the cgroup or group.
      if (entry.record?.process === undefined) return undefined;
      return { ...base(entry.record), process: entry.record.process, ...((entry.cgroupHandle ?? entry.record.cgroupHandle) === undefined ? {} : { cgroup: (entry.cgroupHandle ?? entry.record.cgroupHandle)! }) };
    case 'idle':
      return base(entry.record);
    case 'emptyCgroup':
      return undefined;
  }
}

/**
 * Stops and removes what an entry left when no runner will take it: the pod is gone, or the
 * processes have no record to continue from. Nothing is signalled outside the container's cgroup
 * or the recorded wrapper's process group.
 */
export async function cleanUpEntry(entry: AdoptionEntry, driver: CgroupDriver, gracePeriodMs = 0): Promise<void> {
  const cgroup =
    entry.outcome === 'adoptedFromCgroup' || entry.outcome === 'emptyCgroup'
      ? entry.cgroupHandle
      : entry.outcome === 'orphaned'
        ? (entry.cgroupHandle ?? entry.record?.cgroupHandle)
        : entry.record.cgroupHandle;
  if (entry.outcome === 'adopted' || entry.outcome === 'adoptedFromCgroup') {
    // The wrapper and its process group (and cgroup): the same kill as a container stop.
    await stopProcess(entry.handle, { gracePeriodMs, ...(cgroup === undefined || driver.kind === 'none' ? {} : { cgroup: { driver, handle: cgroup } }) }).catch(() => undefined);
  }
  if (entry.outcome === 'orphaned' && cgroup === undefined) {
    for (const pid of entry.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (cgroup !== undefined && driver.kind !== 'none') {
    for (let attempt = 0; attempt < 50; attempt++) {
      await driver.signalAll(cgroup, 'SIGKILL').catch(() => undefined);
      try {
        await driver.remove(cgroup);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}
