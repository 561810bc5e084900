/**
 * One container, supervised (Nomad's taskrunner): start → report Running → probe → await exit →
 * ask the RestartTracker → restart, back off or stay terminated. Two ways out that must never be
 * confused ("shutdown is not kill"): `stop()` kills the task (preStop, SIGTERM, grace, SIGKILL);
 * `detach()` — or aborting run's signal — is the agent shutting down: stop watching, leave the
 * process running for the next agent to `adopt()`.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Container } from '../../api/kinds/container.js';
import type { Pod } from '../../api/kinds/pod.js';
import { quantityToMilli, quantityValue } from '../../api/quantity.js';
import { sleep } from '../../lib/backoff.js';
import type { CgroupDriver, ContainerLimits, PodLimits } from '../cgroups/cgroup-driver.js';
import { containerLogPath, podLogDir, podsLogRoot } from '../logs/log-paths.js';
import { openLogFile } from '../logs/open-log-file.js';
import { exited } from '../process/exit-result.js';
import { expandCommand } from '../process/expand-command.js';
import { ProcessHandle } from '../process/process-handle.js';
import type { EnvLookup, EnvNode, EnvPod } from '../process/resolve-env.js';
import { resolveEnv } from '../process/resolve-env.js';
import { startProcess } from '../process/start-process.js';
import { stopProcess, type StopResult } from '../process/stop-process.js';
import { startContainerProbes } from '../probes/container-probes.js';
import { probeEvent, type ProbeKind } from '../probes/prober.js';
import type { RestartDecision, RestartPolicy, Termination } from '../restart-tracker.js';
import { RestartTracker } from '../restart-tracker.js';
import { closeSync } from 'node:fs';
import type { ContainerRecord, ContainerState, ContainerStatus, SavedContainerRecord } from './container-status.js';
import { rfc3339 } from '../../api/meta.js';
import { containerID, terminated } from './container-status.js';

export type EventType = 'Normal' | 'Warning';

export interface RunnerTiming {
  /** RestartTracker back-off; Kubernetes' 10 s / 5 min / 10 min by default. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  resetAfterMs?: number;
  /** Multiplies every probe duration (0.01 for tests). */
  probeTimeScale?: number;
  /** How often a running process is checked for its exit; default 200 ms. */
  pollMs?: number;
  now?: () => number;
}

export interface ContainerRunnerOptions {
  pod: Pod;
  container: Container;
  restartPolicy: RestartPolicy;
  /** `logs`: the data dir logs go below (`<logs>/pods/<ns>_<name>_<uid>/...`); `state`: the agent's state dir (status files go to `<state>/<pod uid>/`). */
  dirs: { logs: string; state: string };
  cgroups: { driver: CgroupDriver; podLimits?: PodLimits };
  timing?: RunnerTiming;
  onChange: (status: ContainerStatus) => void;
  onEvent: (type: EventType, reason: string, message: string) => void;
  /** Persists what an agent restart needs; awaited before the container is reported Running. */
  save?: (record: SavedContainerRecord) => void | Promise<void>;
  /** Where httpGet/tcpSocket probes connect; default 127.0.0.1. */
  host?: string;
  node?: EnvNode;
  lookup?: EnvLookup;
}

interface Instance {
  handle: ProcessHandle;
  cgroup?: string;
  startedAt: number;
}

type Mode = 'run' | 'detach' | 'stop';

export class ContainerRunner {
  readonly name: string;
  readonly #o: ContainerRunnerOptions;
  #tracker: RestartTracker;
  readonly #halt = new AbortController();
  #mode: Mode = 'run';
  #graceMs = 30_000;
  #instance: Instance | undefined;
  #state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  #lastState: ContainerState = {};
  #ready = false;
  #started = false;
  #id: string | undefined;
  #running: Promise<ContainerStatus> | undefined;
  #stopResult: StopResult | undefined;
  /** The environment the running instance was started with. */
  #env: Record<string, string> | undefined;

  constructor(options: ContainerRunnerOptions) {
    this.#o = options;
    this.name = options.container.name;
    this.#tracker = new RestartTracker(this.#trackerOptions());
  }

  #trackerOptions() {
    const { pod, timing = {} } = this.#o;
    return {
      policy: this.#o.restartPolicy,
      containerName: this.name,
      pod: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default', uid: pod.metadata.uid ?? '' },
      ...(timing.initialBackoffMs === undefined ? {} : { initialBackoffMs: timing.initialBackoffMs }),
      ...(timing.maxBackoffMs === undefined ? {} : { maxBackoffMs: timing.maxBackoffMs }),
      ...(timing.resetAfterMs === undefined ? {} : { resetAfterMs: timing.resetAfterMs }),
      ...(timing.now === undefined ? {} : { now: timing.now }),
    };
  }

  #now(): number {
    return (this.#o.timing?.now ?? Date.now)();
  }

  /** The current status, Kubernetes' shape. */
  status(): ContainerStatus {
    return {
      name: this.name,
      state: structuredClone(this.#state),
      lastState: structuredClone(this.#lastState),
      ready: this.#ready,
      started: this.#started,
      restartCount: this.#tracker.restartCount,
      image: this.#o.container.image ?? '',
      imageID: '',
      ...(this.#id === undefined ? {} : { containerID: this.#id }),
    };
  }

  /**
   * Continues with a recorded container after an agent restart, before `run()`: its restart state
   * is restored and `run()` watches the recorded process instead of starting one. A process that
   * ended meanwhile (or whose pid was reused) is reported with the exit status its wrapper recorded.
   * Resolves whether the recorded process is still alive.
   */
  async adopt(record: ContainerRecord): Promise<boolean> {
    if (this.#running !== undefined) throw new Error(`container ${this.name} is already running; adopt before run`);
    const restored = record.tracker === undefined ? this.#tracker : RestartTracker.fromJSON(record.tracker, this.#trackerOptions());
    this.#tracker = restored;
    if (record.containerID !== undefined) this.#id = record.containerID;
    const termination = restored.lastTermination;
    if (termination !== undefined) this.#lastState = terminated(termination, this.#id);
    if (record.process === undefined) return false;
    const handle = new ProcessHandle(record.process);
    this.#instance = { handle, startedAt: record.startedAt ?? this.#now(), ...(record.cgroup === undefined ? {} : { cgroup: record.cgroup }) };
    return handle.alive();
  }

  /** Runs until the container is terminal for its policy, or until stopped, detached or `signal` aborts (= detach). */
  run(signal: AbortSignal): Promise<ContainerStatus> {
    if (this.#running !== undefined) return this.#running;
    const onAbort = () => {
      if (this.#mode === 'run') this.#mode = 'detach';
      this.#halt.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    this.#running = this.#loop().finally(() => signal.removeEventListener('abort', onAbort));
    return this.#running;
  }

  /** Kills the task: preStop, SIGTERM, `gracePeriodMs`, SIGKILL; resolves with the final status. */
  async stop(gracePeriodMs: number): Promise<ContainerStatus> {
    if (this.#mode === 'run') {
      this.#mode = 'stop';
      this.#graceMs = gracePeriodMs;
      this.#halt.abort();
    } else if (this.#mode === 'stop') {
      // Stopping already: a shorter grace period cuts the wait short; a longer one changes nothing.
      this.#graceMs = Math.min(this.#graceMs, gracePeriodMs);
    }
    if (this.#running !== undefined) return this.#running;
    if (this.#instance !== undefined) await this.#kill(this.#instance);
    return this.status();
  }

  /** Agent shutdown: stop watching and probing; the process keeps running. */
  async detach(): Promise<void> {
    if (this.#mode === 'run') this.#mode = 'detach';
    this.#halt.abort();
    if (this.#running !== undefined) await this.#running;
  }

  #report(): void {
    this.#o.onChange(this.status());
  }

  async #loop(): Promise<ContainerStatus> {
    const halt = this.#halt.signal;
    // Adopted in back-off or terminal (the agent died between an exit and the restart): decide first.
    if (this.#instance === undefined && this.#tracker.phase !== 'running' && !(await this.#follow(this.#tracker.decide(this.#now())))) return this.status();
    for (;;) {
      if (this.#instance === undefined && !halt.aborted) {
        const decision = await this.#start();
        if (decision !== undefined && !(await this.#follow(decision))) return this.status();
      }
      const instance = this.#instance;
      if (instance === undefined) {
        if (halt.aborted) return this.status();
        continue;
      }
      if (halt.aborted) {
        if (this.#mode === 'stop') await this.#kill(instance);
        return this.status();
      }
      const outcome = await this.#watch(instance);
      if (outcome === undefined) {
        if (this.#mode === 'stop') await this.#kill(instance);
        return this.status();
      }
      if (!(await this.#follow(outcome))) return this.status();
    }
  }

  /** Starts one instance; resolves undefined when it runs, or with the tracker's decision after a start failure. */
  async #start(): Promise<RestartDecision | undefined> {
    const { pod, container, cgroups, dirs } = this.#o;
    const restartCount = this.#tracker.restartCount;
    let env: Record<string, string>;
    try {
      env = await resolveEnv(container, pod as unknown as EnvPod, this.#o.node, this.#o.lookup);
    } catch (error) {
      // The kubelet keeps such a container waiting (not a restart): it retries once the source exists.
      this.#state = { waiting: { reason: 'CreateContainerConfigError', message: (error as Error).message } };
      this.#report();
      this.#o.onEvent('Warning', 'Failed', `Error: ${(error as Error).message}`);
      await sleep(this.#o.timing?.initialBackoffMs ?? 10_000, this.#halt.signal);
      return undefined;
    }
    const stateDir = path.join(dirs.state, pod.metadata.uid ?? '');
    const statusFile = path.join(stateDir, `${this.name}-${restartCount}.status`);
    // The cgroup, the status file's directory and the log file do not depend on each other:
    // prepared side by side, since the start waits for all three.
    const [cgroupResult, stateResult, logResult] = await Promise.allSettled([
      cgroups.driver.kind === 'none' ? Promise.resolve(undefined) : cgroups.driver.createContainer(pod.metadata.uid ?? '', this.name, this.#limits(), cgroups.podLimits),
      (async () => {
        await mkdir(stateDir, { recursive: true, mode: 0o700 });
        await rm(statusFile, { force: true });
      })(),
      (async () => {
        await mkdir(podsLogRoot(dirs.logs), { recursive: true, mode: 0o700 });
        const podDir = podLogDir(dirs.logs, { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' });
        return openLogFile(containerLogPath(podDir, this.name, restartCount));
      })(),
    ]);
    const cgroup = cgroupResult.status === 'fulfilled' ? cgroupResult.value : undefined;
    if (cgroupResult.status === 'rejected' || stateResult.status === 'rejected' || logResult.status === 'rejected') {
      if (logResult.status === 'fulfilled') closeSync(logResult.value);
      if (cgroup !== undefined) await cgroups.driver.remove(cgroup).catch(() => undefined);
      const why = (result: PromiseRejectedResult) => (result.reason as Error)?.message ?? String(result.reason);
      if (cgroupResult.status === 'rejected') return this.#startFailed(`failed to create the container's cgroup: ${why(cgroupResult)}`);
      if (logResult.status === 'rejected') return this.#startFailed(`failed to open the container's log: ${why(logResult)}`);
      return this.#startFailed(`failed to prepare the container's status file: ${why(stateResult as PromiseRejectedResult)}`);
    }
    const logFd = logResult.value;
    const security = { ...pod.spec.securityContext, ...container.securityContext };
    let started;
    try {
      started = await startProcess({
        command: expandCommand(container.command, container.args, env),
        env,
        logFd,
        statusFile,
        ...(container.workingDir ? { cwd: container.workingDir } : {}),
        ...(security.runAsUser === undefined ? {} : { uid: security.runAsUser }),
        ...(security.runAsGroup === undefined ? {} : { gid: security.runAsGroup }),
        ...(cgroup === undefined ? {} : { cgroupJoin: cgroups.driver.joinCommand(cgroup) }),
      });
    } finally {
      closeSync(logFd); // the child holds its own copy
    }
    if (!started.ok) {
      if (cgroup !== undefined) await cgroups.driver.remove(cgroup).catch(() => undefined);
      return this.#startFailed(started.message);
    }
    this.#env = env;
    const instance: Instance = { handle: started.handle, startedAt: this.#now(), ...(cgroup === undefined ? {} : { cgroup }) };
    this.#instance = instance;
    // Recorded before anyone hears "Running": an agent killed right now must find this process.
    await this.#o.save?.(this.#record());
    this.#o.onEvent('Normal', 'Started', `Started container ${this.name}`);
    return undefined;
  }

  #startFailed(message: string): RestartDecision {
    this.#o.onEvent('Warning', 'Failed', `Error: ${message}`);
    const decision = this.#tracker.startFailed(message, this.#now());
    const termination = this.#tracker.lastTermination;
    if (decision.action !== 'terminal' && termination !== undefined) this.#lastState = terminated(termination);
    this.#state = { waiting: { reason: 'RunContainerError', message } };
    this.#report();
    return decision;
  }

  #limits(): ContainerLimits {
    const { limits = {}, requests = {} } = this.#o.container.resources ?? {};
    const pidsMax = this.#o.cgroups.podLimits?.pidsMax;
    return {
      ...(limits.memory === undefined ? {} : { memoryBytes: quantityValue(limits.memory) }),
      ...(limits.cpu === undefined ? {} : { cpuMillis: Math.max(1, Number(quantityToMilli(limits.cpu))) }),
      ...(requests.cpu === undefined ? {} : { cpuRequestMillis: Number(quantityToMilli(requests.cpu)) }),
      ...(pidsMax === undefined ? {} : { pidsMax }),
    };
  }

  #record(): SavedContainerRecord {
    const instance = this.#instance;
    return {
      container: this.name,
      tracker: this.#tracker.toJSON(),
      ...(this.#id === undefined ? {} : { containerID: this.#id }),
      ...(instance === undefined ? {} : { process: instance.handle.toJSON(), startedAt: instance.startedAt }),
      ...(instance?.cgroup === undefined ? {} : { cgroup: instance.cgroup }),
    };
  }

  /**
   * Reports Running, probes, and waits for the exit; resolves with the tracker's decision, or
   * undefined when halted (stop or detach) while the process still runs.
   */
  async #watch(instance: Instance): Promise<RestartDecision | undefined> {
    const { container } = this.#o;
    const probes = new AbortController();
    const onHalt = () => probes.abort();
    this.#halt.signal.addEventListener('abort', onHalt, { once: true });
    this.#id = containerID(instance.handle);
    this.#state = { running: { startedAt: rfc3339(instance.startedAt) } };
    this.#started = container.startupProbe === undefined;
    this.#ready = container.readinessProbe === undefined && this.#started;
    this.#report();
    let kill: Promise<StopResult> | undefined;
    // Probes see the environment the process was started with; an adopted one's is resolved again.
    const env =
      this.#env ??
      (await resolveEnv(container, this.#o.pod as unknown as EnvPod, this.#o.node, this.#o.lookup).catch((error: unknown) => {
        this.#o.onEvent('Warning', 'Failed', `exec probes run without the container's environment: ${(error as Error).message}`);
        return {};
      }));
    const security = { ...this.#o.pod.spec.securityContext, ...container.securityContext };
    const probing = startContainerProbes({
      probes: { startup: container.startupProbe, liveness: container.livenessProbe, readiness: container.readinessProbe },
      target: {
        host: this.#o.host ?? '127.0.0.1',
        ports: Object.fromEntries((container.ports ?? []).flatMap((port) => (port.name ? [[port.name, port.containerPort]] : []))),
        env,
        ...(container.workingDir ? { cwd: container.workingDir } : {}),
        ...(security.runAsUser === undefined ? {} : { uid: security.runAsUser }),
        ...(security.runAsGroup === undefined ? {} : { gid: security.runAsGroup }),
      },
      signal: probes.signal,
      startedAt: instance.startedAt,
      ...(this.#o.timing?.probeTimeScale === undefined ? {} : { timeScale: this.#o.timing.probeTimeScale }),
      onAttempt: (kind, result) => {
        const event = probeEvent(kind, result);
        if (event !== undefined) this.#o.onEvent(event.type, event.reason, event.message);
      },
      onResult: (kind: ProbeKind, healthy: boolean) => {
        if (kind === 'readiness') this.#ready = healthy && this.#started;
        else if (kind === 'startup' && healthy) {
          this.#started = true;
          this.#ready = container.readinessProbe === undefined;
        } else if (!healthy && kill === undefined && !this.#halt.signal.aborted) {
          // Liveness or startup failed: the kubelet kills the container with its grace period and restarts it.
          this.#ready = false;
          this.#o.onEvent('Normal', 'Killing', `Container ${this.name} failed ${kind} probe, will be restarted`);
          kill = this.#stopInstance(instance, this.#podGraceMs());
        }
        this.#report();
      },
    });
    const result = await exited(instance.handle, { signal: this.#halt.signal, intervalMs: this.#o.timing?.pollMs ?? 200 });
    probes.abort();
    this.#halt.signal.removeEventListener('abort', onHalt);
    await probing.done;
    if (result === undefined) {
      if (kill !== undefined) await kill; // a liveness kill in flight finishes; the next agent finds it exited
      return undefined;
    }
    // Whatever the command left behind goes too (grace 0: it is already gone); this also reads the
    // status with the cgroup's OOM counter.
    const final = kill === undefined ? await this.#stopInstance(instance, 0) : await kill;
    return this.#exited(instance, final);
  }

  #podGraceMs(): number {
    return (this.#o.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000 * (this.#o.timing?.probeTimeScale ?? 1);
  }

  async #stopInstance(instance: Instance, gracePeriodMs: number, currentGraceMs?: () => number): Promise<StopResult> {
    const preStop = this.#o.container.lifecycle?.preStop as { exec?: { command?: string[] } } | undefined;
    const result = await stopProcess(instance.handle, {
      gracePeriodMs,
      ...(currentGraceMs === undefined ? {} : { currentGraceMs }),
      ...(instance.cgroup === undefined ? {} : { cgroup: { driver: this.#o.cgroups.driver, handle: instance.cgroup } }),
      ...(gracePeriodMs > 0 && preStop?.exec?.command !== undefined ? { preStop: preStop.exec.command } : {}),
    });
    if (result.preStop !== undefined && result.preStop.outcome !== 'success') {
      this.#o.onEvent('Warning', 'FailedPreStopHook', `PreStopHook failed: ${result.preStop.message}`);
    }
    // A new instance gets a new cgroup, so its OOM counter starts at zero.
    if (instance.cgroup !== undefined) await this.#o.cgroups.driver.remove(instance.cgroup).catch(() => undefined);
    await rm(instance.handle.statusFile, { force: true }).catch(() => undefined);
    return result;
  }

  /** stop(): the task is killed and reported terminated; never restarted. */
  async #kill(instance: Instance): Promise<void> {
    this.#o.onEvent('Normal', 'Killing', `Stopping container ${this.name}`);
    const result = await this.#stopInstance(instance, this.#graceMs, () => this.#graceMs);
    this.#stopResult = result;
    this.#instance = undefined;
    this.#ready = false;
    const termination = this.#termination(instance, result);
    this.#state = terminated(termination, containerID(instance.handle));
    this.#report();
  }

  #termination(instance: Instance, result: StopResult): Termination {
    const finishedAt = result.finishedAt?.getTime() ?? this.#now();
    const decision = this.#tracker.exited({
      exitCode: result.exitCode,
      signal: result.signal,
      startedAt: instance.startedAt,
      finishedAt,
      ...(result.reason === 'OOMKilled' || result.reason === 'ContainerStatusUnknown' ? { reason: result.reason } : {}),
      ...(result.message === undefined ? {} : { message: result.message }),
    });
    void decision;
    return this.#tracker.lastTermination!;
  }

  #exited(instance: Instance, result: StopResult): RestartDecision {
    this.#instance = undefined;
    this.#ready = false;
    const termination = this.#termination(instance, result);
    const id = containerID(instance.handle);
    const decision = this.#tracker.decide(this.#now());
    if (decision.action === 'terminal') {
      this.#state = terminated(termination, id);
      this.#started = false;
    } else {
      this.#lastState = terminated(termination, id);
    }
    return decision;
  }

  /** Acts on a decision: restart now, wait out the back-off, or stay terminated. False when the loop ends. */
  async #follow(first: RestartDecision): Promise<boolean> {
    let decision = first;
    const halt = this.#halt.signal;
    for (;;) {
      await this.#o.save?.(this.#record());
      if (decision.action === 'terminal') {
        this.#started = false;
        if (this.#state.terminated === undefined) {
          const last = this.#tracker.lastTermination;
          if (last !== undefined) this.#state = terminated(last, this.#id);
        }
        this.#report();
        return false;
      }
      if (halt.aborted) {
        // Stopped while backing off: nothing runs, so the container shows how it last ended.
        const last = this.#tracker.lastTermination;
        if (this.#mode === 'stop' && last !== undefined) this.#state = terminated(last, this.#lastState.terminated?.containerID);
        this.#report();
        return false;
      }
      if (decision.action === 'restart') {
        this.#tracker.restarted(this.#now());
        return true;
      }
      this.#state = { waiting: { reason: 'CrashLoopBackOff', message: decision.message } };
      this.#report();
      this.#o.onEvent(decision.event.type, decision.event.reason, decision.event.message);
      await sleep(decision.delayMs, halt);
      decision = this.#tracker.decide(this.#now());
    }
  }

  /** The running instance's cgroup handle (exec joins it, stats read it); undefined when none runs or cgroups are off. */
  get cgroup(): string | undefined {
    return this.#instance?.cgroup;
  }

  /** The last stop's full result (preStop outcome, whether SIGKILL was needed). */
  get lastStop(): StopResult | undefined {
    return this.#stopResult;
  }
}
