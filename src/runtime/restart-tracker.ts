/**
 * Restart policy for one container, as a small tracker with named reasons (Nomad's
 * restarts.RestartTracker), computing what the kubelet computes (kuberuntime doBackOff with
 * flowcontrol.Backoff): the first restart is immediate; each later one waits the current back-off,
 * measured from the moment the container finished, which doubles from 10 s up to 5 min; a
 * container that ran 10 min before it exited starts over. The state is plain data the agent
 * persists (`toJSON`/`fromJSON`), so restart intent survives the agent — it never lives only in a
 * timer. The tracker holds no timer itself: `decide()` says how long is left.
 */
import os from 'node:os';
import { CodedError } from '../lib/coded-error.js';
import { rfc3339 } from '../api/meta.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** `state.terminated.reason` as Kubernetes reports it. */
export type TerminationReason = 'Completed' | 'Error' | 'OOMKilled' | 'StartError' | 'ContainerStatusUnknown';

export interface ContainerExit {
  /** Undefined when a signal ended the process; the exit code is then 128 + the signal number. */
  exitCode?: number | undefined;
  signal?: NodeJS.Signals | number | undefined;
  /** Only what the caller knows better than the exit code: OOMKilled (from the cgroup's counters), ContainerStatusUnknown. */
  reason?: TerminationReason | undefined;
  message?: string | undefined;
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt: number;
}

/** The last termination, recorded; `lastTerminatedState()` renders it for the API. */
export interface Termination {
  exitCode: number;
  signal?: number;
  reason: TerminationReason;
  message?: string;
  /** Absent for a StartError: the process never ran. */
  startedAt?: number;
  finishedAt: number;
}

export type RestartDecision =
  /** Start the container again now. */
  | { action: 'restart'; reason: TerminationReason; restartCount: number }
  /** In CrashLoopBackOff: ask again (`decide()`) after `delayMs`; show `message` as `state.waiting`. */
  | {
    action: 'wait';
    reason: 'CrashLoopBackOff';
    delayMs: number;
    /** The whole back-off period, which the message names. */
    backoffMs: number;
    message: string;
    event: { type: 'Warning'; reason: 'BackOff'; message: string };
    restartCount: number;
  }
  /** The policy does not restart: the container stays terminated for `reason`. */
  | { action: 'terminal'; reason: TerminationReason; restartCount: number };

export type RestartPhase = 'running' | 'exited' | 'terminal';

export interface RestartTrackerState {
  version: 1;
  phase: RestartPhase;
  restartCount: number;
  /** The back-off the next restart waits; undefined while the next restart is immediate. */
  backoffMs?: number;
  lastRestartAt?: number;
  lastTermination?: Termination;
}

export interface RestartTrackerOptions {
  policy: RestartPolicy;
  containerName: string;
  /** For Kubernetes' message `... pod=NAME_NAMESPACE(UID)`. */
  pod: { name: string; namespace: string; uid: string };
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A container that ran this long before it exited gets its back-off reset. */
  resetAfterMs?: number;
  now?: () => number;
}

export type RestartTrackerErrorCode = 'InvalidRestartState' | 'RestartNotAllowed' | 'NotExited';

export class RestartTrackerError extends CodedError<RestartTrackerErrorCode> {}

export const RESTART_DEFAULTS = { initialBackoffMs: 10_000, maxBackoffMs: 300_000, resetAfterMs: 600_000 } as const;

/** containerd's exit code for a process that could not be started. */
const START_ERROR_EXIT_CODE = 128;

export class RestartTracker {
  readonly #options: Required<Omit<RestartTrackerOptions, 'pod'>> & Pick<RestartTrackerOptions, 'pod'>;
  #state: RestartTrackerState;

  constructor(options: RestartTrackerOptions, state?: RestartTrackerState) {
    this.#options = { ...RESTART_DEFAULTS, now: Date.now, ...options };
    const { initialBackoffMs, maxBackoffMs, resetAfterMs } = this.#options;
    if (!(initialBackoffMs >= 0) || !(maxBackoffMs >= initialBackoffMs) || !(resetAfterMs >= 0)) {
      throw new RangeError(`restart back-off needs 0 <= initialBackoffMs <= maxBackoffMs and resetAfterMs >= 0 (got ${initialBackoffMs}, ${maxBackoffMs}, ${resetAfterMs})`);
    }
    // A new tracker describes a container that has just been started for the first time.
    this.#state = state === undefined ? { version: 1, phase: 'running', restartCount: 0 } : structuredClone(state);
  }

  /** Restores a tracker from `toJSON()` output read back from disk; junk is an `InvalidRestartState` error. */
  static fromJSON(value: unknown, options: RestartTrackerOptions): RestartTracker {
    return new RestartTracker(options, parseState(value));
  }

  toJSON(): RestartTrackerState {
    return structuredClone(this.#state);
  }

  get phase(): RestartPhase {
    return this.#state.phase;
  }

  get restartCount(): number {
    return this.#state.restartCount;
  }

  get lastTermination(): Termination | undefined {
    return this.#state.lastTermination === undefined ? undefined : { ...this.#state.lastTermination };
  }

  /** The running container ended. Reporting the same exit twice (after an agent restart) is harmless. */
  exited(exit: ContainerExit): RestartDecision {
    const signal = typeof exit.signal === 'string' ? os.constants.signals[exit.signal] : exit.signal;
    const exitCode = exit.exitCode ?? (signal === undefined ? 0 : 128 + signal);
    const termination: Termination = {
      exitCode,
      reason: exit.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
      startedAt: exit.startedAt,
      finishedAt: exit.finishedAt,
      ...(signal === undefined ? {} : { signal }),
      ...(exit.message === undefined ? {} : { message: exit.message }),
    };
    return this.#record(termination);
  }

  /** The container could not be started (missing binary, bad cwd): Kubernetes' StartError, exit code 128. */
  startFailed(message: string, at = this.#options.now()): RestartDecision {
    return this.#record({ exitCode: START_ERROR_EXIT_CODE, reason: 'StartError', message, finishedAt: at });
  }

  /** What to do about the last termination at `now`; call again when a `wait` runs out. */
  decide(now = this.#options.now()): RestartDecision {
    const { phase, restartCount, lastTermination, backoffMs } = this.#state;
    if (phase === 'running' || lastTermination === undefined) throw new RestartTrackerError('NotExited', 'the container has not exited; there is nothing to decide');
    if (phase === 'terminal') return { action: 'terminal', reason: lastTermination.reason, restartCount };
    const elapsed = now - lastTermination.finishedAt;
    if (backoffMs !== undefined && elapsed < backoffMs) {
      const { containerName, pod } = this.#options;
      const podName = `${pod.name}_${pod.namespace}(${pod.uid})`;
      return {
        action: 'wait',
        reason: 'CrashLoopBackOff',
        delayMs: backoffMs - Math.max(0, elapsed),
        backoffMs,
        message: `back-off ${formatGoDuration(backoffMs)} restarting failed container=${containerName} pod=${podName}`,
        event: { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${containerName} in pod ${podName}` },
        restartCount,
      };
    }
    return { action: 'restart', reason: lastTermination.reason, restartCount };
  }

  /** The agent started the next instance: the restart count goes up and the back-off grows for the next time. */
  restarted(at = this.#options.now()): void {
    const decision = this.decide(at);
    if (decision.action !== 'restart') {
      throw new RestartTrackerError('RestartNotAllowed', `restart not allowed now: ${decision.action === 'wait' ? decision.message : `policy ${this.#options.policy} keeps a ${decision.reason} container terminated`}`);
    }
    const { initialBackoffMs, maxBackoffMs } = this.#options;
    const backoffMs = this.#state.backoffMs;
    this.#state = {
      ...this.#state,
      phase: 'running',
      restartCount: this.#state.restartCount + 1,
      backoffMs: backoffMs === undefined ? initialBackoffMs : Math.min(maxBackoffMs, backoffMs * 2),
      lastRestartAt: at,
    };
  }

  #record(termination: Termination): RestartDecision {
    const previous = this.#state.lastTermination;
    const repeated = this.#state.phase !== 'running' && previous !== undefined
      && previous.finishedAt === termination.finishedAt && previous.exitCode === termination.exitCode && previous.reason === termination.reason;
    if (repeated) return this.decide();
    if (this.#state.phase !== 'running') throw new RestartTrackerError('NotExited', `the container already ended (${this.#state.phase}); record a restart first`);
    const ranLongEnough = termination.startedAt !== undefined && termination.finishedAt - termination.startedAt >= this.#options.resetAfterMs;
    this.#state = {
      ...this.#state,
      phase: restarts(this.#options.policy, termination.exitCode) ? 'exited' : 'terminal',
      lastTermination: termination,
    };
    if (ranLongEnough) delete this.#state.backoffMs;
    return this.decide();
  }
}

/** The terminated state as the API shows it in `lastState` / `state` (RFC 3339 seconds, like Kubernetes). */
export function terminatedState(termination: Termination, containerID?: string): Record<string, unknown> {
  return {
    exitCode: termination.exitCode,
    ...(termination.signal === undefined ? {} : { signal: termination.signal }),
    reason: termination.reason,
    ...(termination.message === undefined ? {} : { message: termination.message }),
    // Kubernetes shows the zero time for a container that never started.
    startedAt: rfc3339(termination.startedAt ?? 0),
    finishedAt: rfc3339(termination.finishedAt),
    ...(containerID === undefined ? {} : { containerID }),
  };
}

function restarts(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** Go's time.Duration.String() for whole milliseconds: 10s, 1m20s, 5m0s, 250ms. */
export function formatGoDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = (whole % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

const PHASES: readonly string[] = ['running', 'exited', 'terminal'];
const REASONS: readonly string[] = ['Completed', 'Error', 'OOMKilled', 'StartError', 'ContainerStatusUnknown'];

function parseState(value: unknown): RestartTrackerState {
  const invalid = (why: string) => new RestartTrackerError('InvalidRestartState', `invalid restart tracker state: ${why}`);
  const isTime = (field: unknown) => typeof field === 'number' && Number.isFinite(field);
  if (typeof value !== 'object' || value === null) throw invalid('not an object');
  const state = value as Record<string, unknown>;
  if (state.version !== 1) throw invalid(`unknown version ${String(state.version)}`);
  if (typeof state.phase !== 'string' || !PHASES.includes(state.phase)) throw invalid(`unknown phase ${String(state.phase)}`);
  if (!Number.isInteger(state.restartCount) || (state.restartCount as number) < 0) throw invalid('restartCount must be a non-negative integer');
  if (state.backoffMs !== undefined && !(isTime(state.backoffMs) && (state.backoffMs as number) >= 0)) throw invalid('backoffMs must be a non-negative number');
  if (state.lastRestartAt !== undefined && !isTime(state.lastRestartAt)) throw invalid('lastRestartAt must be a number');
  const termination = state.lastTermination;
  if (termination !== undefined) {
    if (typeof termination !== 'object' || termination === null) throw invalid('lastTermination must be an object');
    const fields = termination as Record<string, unknown>;
    if (!Number.isInteger(fields.exitCode)) throw invalid('lastTermination.exitCode must be an integer');
    if (typeof fields.reason !== 'string' || !REASONS.includes(fields.reason)) throw invalid(`unknown termination reason ${String(fields.reason)}`);
    if (!isTime(fields.finishedAt)) throw invalid('lastTermination.finishedAt must be a number');
    if (fields.startedAt !== undefined && !isTime(fields.startedAt)) throw invalid('lastTermination.startedAt must be a number');
    if (fields.signal !== undefined && !Number.isInteger(fields.signal)) throw invalid('lastTermination.signal must be an integer');
    if (fields.message !== undefined && typeof fields.message !== 'string') throw invalid('lastTermination.message must be a string');
  } else if (state.phase !== 'running') {
    throw invalid(`phase ${state.phase} needs a lastTermination`);
  }
  return state as unknown as RestartTrackerState;
}
