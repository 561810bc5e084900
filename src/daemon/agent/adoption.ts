/**
 * Re-adoption after the agent restarts (REFERENCE D8): decides, for every container the agent's
 * local state records and every container cgroup it finds, whether the container still runs, ended
 * while the agent was down, or is lost. It starts nothing and signals nothing: it returns a plan the
 * agent acts on.
 *
 * Identity is a pid plus its /proc start time, never a pid alone: a recorded pid the kernel has since
 * given to another process is neither adopted nor signalled. When the local state is lost, live
 * containers are found by their cgroups: the wrapper (start-process.ts) stays outside the cgroup but
 * leads the process group of everything inside it, so the group id of a pid in the cgroup names the
 * wrapper; its argv (our wrapper script, then the status file) confirms it is ours.
 */
import { readFile, stat } from 'node:fs/promises';
import type { CgroupDriver, ScannedContainer } from '../../runtime/cgroups/cgroup-driver.js';
import { ProcessHandle, reattach, readExitResult, type ExitResult } from '../../runtime/process/index.js';
import type { ProcessRecord } from '../../runtime/process/process-handle.js';
import { groupMembers, readProcStat } from '../../runtime/process/proc-stat.js';
import { WRAPPER_SCRIPT } from '../../runtime/process/start-process.js';
import type { ContainerRecord, LocalState, StartedEmpty } from './local-state.js';

export type AdoptionEntry =
  /** The recorded wrapper runs (pid and start time match): supervise it again. */
  | { outcome: 'adopted'; podUid: string; containerName: string; record: ContainerRecord; handle: ProcessHandle }
  /**
   * A live wrapper found through the container's cgroup: its record is missing (state lost) or names
   * a process that is not it. The agent records it (with `handle`) before reporting it Running.
   */
  | { outcome: 'adoptedFromCgroup'; podUid: string; containerName: string; cgroupHandle: string; handle: ProcessHandle; record?: ContainerRecord }
  /**
   * The wrapper ended while the agent was down and recorded how the command ended. `leftoverPids`
   * are processes the command left in its cgroup or process group: the agent stops them before any
   * restart, so no second copy ever runs beside the first.
   */
  | { outcome: 'exitedWhileDown'; podUid: string; containerName: string; record: ContainerRecord; exitResult: ExitResult; leftoverPids: number[] }
  /**
   * Processes of the container still run but their wrapper is gone, so nothing will record how they
   * end. The agent must stop them (the cgroup's `signalAll`, or the pids) before starting the container again.
   */
  | { outcome: 'orphaned'; podUid: string; containerName: string; cgroupHandle?: string; pids: number[]; record?: ContainerRecord }
  /** Nothing runs and nothing recorded an exit: report ContainerStatusUnknown (exitResult says so). */
  | { outcome: 'lost'; podUid: string; containerName: string; record: ContainerRecord; exitResult: ExitResult }
  /** The record had no running instance (waiting in back-off, or terminated): continue from its restart state. */
  | { outcome: 'idle'; podUid: string; containerName: string; record: ContainerRecord }
  /** An empty container cgroup no record claims: safe to remove. */
  | { outcome: 'emptyCgroup'; podUid: string; containerName: string; cgroupHandle: string };

export interface AdoptionPlan {
  /** Records first (in state order), then cgroups no record claims. */
  entries: AdoptionEntry[];
  /** Copied from the state: why it started empty, when it did. */
  stateLoss?: StartedEmpty;
  /** Set when the cgroup scan failed; adoption then rests on the records alone. */
  scanError?: string;
}

export interface AdoptOptions {
  state: Pick<LocalState, 'list' | 'startedEmpty'>;
  driver: CgroupDriver;
  /** A `driver.scan()` result already in hand; scanned here when absent. */
  scan?: ScannedContainer[];
}

export async function adoptRunningContainers(options: AdoptOptions): Promise<AdoptionPlan> {
  const plan: AdoptionPlan = { entries: [], ...(options.state.startedEmpty === undefined ? {} : { stateLoss: options.state.startedEmpty }) };
  let scanned = options.scan;
  if (scanned === undefined) {
    try {
      scanned = await options.driver.scan();
    } catch (error) {
      plan.scanError = (error as Error).message;
      scanned = [];
    }
  }
  const byKey = new Map(scanned.map((container) => [key(container.podUid, container.containerName), container]));
  const byHandle = new Map(scanned.map((container) => [container.handle, container]));
  const claimed = new Set<ScannedContainer>();

  for (const record of options.state.list()) {
    const cgroup = (record.cgroupHandle === undefined ? undefined : byHandle.get(record.cgroupHandle)) ?? byKey.get(key(record.podUid, record.containerName));
    if (cgroup !== undefined) claimed.add(cgroup);
    plan.entries.push(await adoptRecord(record, cgroup, options.driver));
  }

  for (const cgroup of scanned) {
    if (claimed.has(cgroup)) continue;
    const names = { podUid: cgroup.podUid, containerName: cgroup.containerName, cgroupHandle: cgroup.handle };
    const pids = await livePids(cgroup.pids);
    if (pids.length === 0) {
      plan.entries.push({ outcome: 'emptyCgroup', ...names });
      continue;
    }
    const handle = await findWrapper(pids);
    plan.entries.push(handle === undefined ? { outcome: 'orphaned', ...names, pids } : { outcome: 'adoptedFromCgroup', ...names, handle });
  }
  return plan;
}

async function adoptRecord(record: ContainerRecord, cgroup: ScannedContainer | undefined, driver: CgroupDriver): Promise<AdoptionEntry> {
  const names = { podUid: record.podUid, containerName: record.containerName };
  const recorded = record.process;
  if (recorded === undefined) return { outcome: 'idle', ...names, record };
  const handle = await reattach(recorded);
  if (handle !== undefined) return { outcome: 'adopted', ...names, record, handle };

  // The recorded wrapper is gone (or its pid now names someone else). What still runs?
  let leftovers: number[];
  if (cgroup !== undefined) {
    leftovers = await livePids(cgroup.pids);
    if (leftovers.length > 0) {
      // A live wrapper leading the cgroup's processes is the container, whatever the record said.
      const found = await findWrapper(leftovers);
      if (found !== undefined) return { outcome: 'adoptedFromCgroup', ...names, cgroupHandle: cgroup.handle, handle: found, record };
    }
  } else {
    leftovers = await orphanedGroup(recorded);
  }

  if (await exists(recorded.statusFile)) {
    const oomKilled = record.cgroupHandle === undefined ? undefined : oomSince(driver, record.cgroupHandle, record.oomKillsAtStart ?? 0);
    const exitResult = await readExitResult(recorded.statusFile, oomKilled);
    return { outcome: 'exitedWhileDown', ...names, record, exitResult, leftoverPids: leftovers };
  }
  if (leftovers.length > 0) {
    return { outcome: 'orphaned', ...names, ...(cgroup === undefined ? {} : { cgroupHandle: cgroup.handle }), pids: leftovers, record };
  }
  return { outcome: 'lost', ...names, record, exitResult: await readExitResult(recorded.statusFile) };
}

/**
 * Without a cgroup, the wrapper's process group is all that ties leftovers to the container. The
 * kernel never hands out a pid still used as a process group id, so if the recorded pid now names
 * another process (a different start time), the group is empty and there is nothing to find.
 */
async function orphanedGroup(recorded: ProcessRecord): Promise<number[]> {
  const pid = recorded.pid;
  if (!Number.isSafeInteger(pid) || pid <= 1) return [];
  const current = await readProcStat(pid);
  if (current !== undefined && current.startTime !== recorded.startTime) return [];
  return (await groupMembers(pid)).filter((member) => member !== process.pid);
}

/** The wrapper leading the process group of one of `pids`, confirmed by its argv; undefined when none lives. */
async function findWrapper(pids: number[]): Promise<ProcessHandle | undefined> {
  const tried = new Set<number>();
  for (const pid of pids) {
    const member = await readProcStat(pid);
    const leader = member?.pgrp;
    if (leader === undefined || leader <= 1 || tried.has(leader)) continue;
    tried.add(leader);
    const stat = await readProcStat(leader);
    if (stat === undefined || stat.state === 'Z' || stat.pgrp !== leader) continue;
    const statusFile = await wrapperStatusFile(leader);
    if (statusFile === undefined) continue;
    // Re-read: the leader could have exited and its pid been reused between the two reads.
    const handle = new ProcessHandle({ pid: leader, startTime: stat.startTime, statusFile });
    if (await handle.alive()) return handle;
  }
  return undefined;
}

/** Our wrapper runs as `sh -c WRAPPER_SCRIPT sh STATUS_FILE …`; anything else is not ours to adopt. */
async function wrapperStatusFile(pid: number): Promise<string | undefined> {
  let argv: string[];
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  } catch {
    return undefined;
  }
  const statusFile = argv[4];
  return argv[1] === '-c' && argv[2] === WRAPPER_SCRIPT && statusFile !== undefined && statusFile !== '' ? statusFile : undefined;
}

/** Pids still running (a zombie has exited). */
async function livePids(pids: number[]): Promise<number[]> {
  const live: number[] = [];
  for (const pid of pids) {
    const stat = await readProcStat(pid);
    if (stat !== undefined && stat.state !== 'Z') live.push(pid);
  }
  return live;
}

function oomSince(driver: CgroupDriver, handle: string, baseline: number): () => Promise<boolean> {
  return async () => {
    try {
      return (await driver.oomKills(handle)) > baseline;
    } catch {
      return false; // the cgroup is gone: no counter says it was an OOM kill
    }
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function key(podUid: string, containerName: string): string {
  return `${podUid}/${containerName}`;
}
