/**
 * One pod (Nomad's allocrunner): its init containers one after another, each to exit 0, then all
 * app containers, each in its own ContainerRunner. It owns the pod-level view — phase,
 * conditions, a coalesced onChange — and the difference between stopping the pod (kill every
 * container, in parallel) and detaching from it (agent shutdown: everything keeps running).
 */
import type { Container } from '../../api/kinds/container.js';
import type { Condition } from '../../api/kinds/common.js';
import type { Pod } from '../../api/kinds/pod.js';
import type { RestartPolicy } from '../restart-tracker.js';
import type { ContainerRecord, ContainerStatus, SavedContainerRecord } from './container-status.js';
import { rfc3339 } from '../../api/meta.js';
import { pendingStatus } from './container-status.js';
import { ContainerRunner, type ContainerRunnerOptions, type EventType } from './container-runner.js';
import { initDone, podConditions, podPhase, type PodPhase } from './pod-status.js';

export interface PodRunnerStatus {
  phase: PodPhase;
  conditions: Condition[];
  startTime: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses: ContainerStatus[];
}

export interface PodRunnerOptions extends Pick<ContainerRunnerOptions, 'dirs' | 'cgroups' | 'timing' | 'host' | 'node' | 'lookup'> {
  pod: Pod;
  /** Called with the whole status, once per burst of changes and only when something changed. */
  onChange: (status: PodRunnerStatus) => void;
  onEvent: (container: string, type: EventType, reason: string, message: string) => void;
  save?: (record: SavedContainerRecord) => void | Promise<void>;
}

export class PodRunner {
  readonly #o: PodRunnerOptions;
  readonly #policy: RestartPolicy;
  readonly #init: ContainerRunner[];
  readonly #app: ContainerRunner[];
  /** Init containers that have not been (or will not be) run yet show PodInitializing. */
  readonly #begun = new Set<string>();
  #conditions: Condition[] = [];
  #startTime: string;
  #last = '';
  #scheduled = false;
  #stopped: PodPhase | undefined;
  #stopping: Promise<PodRunnerStatus> | undefined;
  #running: Promise<PodRunnerStatus> | undefined;

  constructor(options: PodRunnerOptions) {
    this.#o = options;
    this.#policy = (options.pod.spec.restartPolicy ?? 'Always') as RestartPolicy;
    this.#startTime = rfc3339((options.timing?.now ?? Date.now)());
    // With a pod policy of Always, a failed init container is retried (as OnFailure); an init container that succeeded is never rerun.
    const initPolicy: RestartPolicy = this.#policy === 'Never' ? 'Never' : 'OnFailure';
    this.#init = (options.pod.spec.initContainers ?? []).map((container) => this.#runner(container, initPolicy));
    this.#app = options.pod.spec.containers.map((container) => this.#runner(container, this.#policy));
  }

  #runner(container: Container, restartPolicy: RestartPolicy): ContainerRunner {
    const { pod, dirs, cgroups, timing, host, node, lookup, save } = this.#o;
    return new ContainerRunner({
      pod, container, restartPolicy, dirs, cgroups,
      ...(timing === undefined ? {} : { timing }),
      ...(host === undefined ? {} : { host }),
      ...(node === undefined ? {} : { node }),
      ...(lookup === undefined ? {} : { lookup }),
      ...(save === undefined ? {} : { save }),
      onChange: () => this.#changed(),
      onEvent: (type, reason, message) => this.#o.onEvent(container.name, type, reason, message),
    });
  }

  /** The container runner by name (init or app). */
  container(name: string): ContainerRunner | undefined {
    return [...this.#init, ...this.#app].find((runner) => runner.name === name);
  }

  status(): PodRunnerStatus {
    const init = this.#init.map((runner) => (this.#begun.has(runner.name) ? runner.status() : pendingStatus(runner.name)));
    const initComplete = init.every(initDone);
    const app = this.#app.map((runner) => (this.#begun.has(runner.name) ? runner.status() : pendingStatus(runner.name, initComplete ? 'ContainerCreating' : 'PodInitializing')));
    const phase = this.#stopped ?? podPhase(init, app, this.#policy);
    // A read: the conditions' transition times are remembered only when a status is reported (#changed).
    const conditions = podConditions(init, app, phase, this.#conditions, rfc3339((this.#o.timing?.now ?? Date.now)()));
    return { phase, conditions, startTime: this.#startTime, ...(init.length === 0 ? {} : { initContainerStatuses: init }), containerStatuses: app };
  }

  /** Coalesces a burst of container changes into one onChange, and only when the status differs. */
  #changed(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      const status = this.status();
      this.#conditions = status.conditions;
      const text = JSON.stringify(status);
      if (text === this.#last) return;
      this.#last = text;
      this.#o.onChange(status);
    });
  }

  /**
   * Continues a pod after an agent restart: the recorded containers are adopted, and an app
   * container's record means every init container already succeeded. Call before `run()`.
   */
  async adopt(records: ContainerRecord[]): Promise<void> {
    for (const record of records) {
      const runner = this.container(record.container);
      if (runner === undefined) continue;
      await runner.adopt(record);
      this.#begun.add(runner.name);
    }
    this.#adoptedApp = records.some((record) => this.#app.some((runner) => runner.name === record.container));
  }

  #adoptedApp = false;

  /** Runs the pod until every container is terminal, or until stopped, detached or `signal` aborts (= detach). */
  run(signal: AbortSignal): Promise<PodRunnerStatus> {
    this.#running ??= this.#loop(signal);
    return this.#running;
  }

  async #loop(signal: AbortSignal): Promise<PodRunnerStatus> {
    this.#changed();
    if (!this.#adoptedApp) {
      for (const runner of this.#init) {
        if (signal.aborted || this.#stopped !== undefined) return this.status();
        this.#begun.add(runner.name);
        const final = await runner.run(signal);
        if (final.state.terminated?.exitCode !== 0) {
          this.#changed();
          return this.status(); // failed for good (Never), stopped or detached
        }
      }
    }
    if (signal.aborted || this.#stopped !== undefined) return this.status();
    for (const runner of this.#app) this.#begun.add(runner.name);
    await Promise.all(this.#app.map((runner) => runner.run(signal)));
    this.#changed();
    return this.status();
  }

  /**
   * Kills the pod: every container at once (preStop, SIGTERM, grace, SIGKILL). The pod ends
   * Succeeded when every container had exited 0, Failed otherwise, as the kubelet reports a
   * deleted pod.
   */
  stop(gracePeriodSeconds?: number): Promise<PodRunnerStatus> {
    const graceMs = (gracePeriodSeconds ?? this.#o.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    if (this.#stopping !== undefined) {
      // Stopping already: a shorter grace period cuts the wait short (Kubernetes lets a repeated delete shorten it).
      for (const runner of [...this.#init, ...this.#app]) runner.stop(graceMs).catch(() => undefined);
      return this.#stopping;
    }
    this.#stopping = this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<PodRunnerStatus> {
    const phaseBefore = this.status().phase;
    this.#stopped = phaseBefore;
    await Promise.all([...this.#init, ...this.#app].map((runner) => runner.stop(graceMs)));
    await this.#running;
    const app = this.#app.map((runner) => runner.status());
    const allZero = app.every((status) => status.state.terminated?.exitCode === 0 && this.#begun.has(status.name));
    this.#stopped = phaseBefore === 'Succeeded' || phaseBefore === 'Failed' ? phaseBefore : allZero ? 'Succeeded' : 'Failed';
    this.#changed();
    return this.status();
  }

  /** Agent shutdown: stop watching every container; their processes keep running. */
  async detach(): Promise<void> {
    await Promise.all([...this.#init, ...this.#app].map((runner) => runner.detach()));
    await this.#running;
  }
}
