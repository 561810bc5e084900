/**
 * A container's status exactly in Kubernetes' containerStatus shape (`kubectl get pod -o yaml`
 * readers and scripts expect these fields), built from a runner's plain state.
 */
import type { Termination } from '../restart-tracker.js';
import { terminatedState } from '../restart-tracker.js';
import type { ProcessRecord } from '../process/process-handle.js';
import type { RestartTrackerState } from '../restart-tracker.js';

export interface WaitingState {
  reason: string;
  message?: string;
}

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

export interface ContainerState {
  waiting?: WaitingState;
  running?: { startedAt: string };
  terminated?: TerminatedState;
}

export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  /** `pm8s://<pid>-<startTime>`; absent until the container first started. */
  containerID?: string;
}

/**
 * What an agent restart needs to continue a container without starting a second copy: the
 * process (pid + start time + status file), its cgroup and when it started, and the restart
 * tracker's state. Written through `save` before the container is reported Running.
 */
export interface ContainerRecord {
  container: string;
  /** Absent while no instance runs (waiting in back-off, terminal). */
  process?: ProcessRecord;
  cgroup?: string;
  /** Epoch ms the running instance started. */
  startedAt?: number;
  /** Absent when only the process was found (the agent's state was lost): the count starts over. */
  tracker?: RestartTrackerState;
  /** The last instance's containerID, so a terminated container keeps showing it after an agent restart. */
  containerID?: string;
}

/** What a runner saves: its restart state is always known. */
export type SavedContainerRecord = ContainerRecord & { tracker: RestartTrackerState };

/** The id Kubernetes shows as `<runtime>://<id>`: ours names the wrapper by pid and /proc start time. */
export function containerID(process: Pick<ProcessRecord, 'pid' | 'startTime'>): string {
  return `pm8s://${process.pid}-${process.startTime}`;
}

/** The wrapper's pid and start time back from a containerID; undefined for anything else. */
export function parseContainerID(id: string | undefined): { pid: number; startTime: string } | undefined {
  const match = /^pm8s:\/\/(\d+)-(\d+)$/.exec(id ?? '');
  return match === null ? undefined : { pid: Number(match[1]), startTime: match[2]! };
}


export function terminated(termination: Termination, id?: string): ContainerState {
  return { terminated: terminatedState(termination, id) as unknown as TerminatedState };
}

/** A container the pod has not started yet (init containers still running): `PodInitializing`. */
export function pendingStatus(name: string, reason = 'PodInitializing'): ContainerStatus {
  return { name, state: { waiting: { reason } }, lastState: {}, ready: false, started: false, restartCount: 0, image: '', imageID: '' };
}
