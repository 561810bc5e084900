/**
 * Pod sync (the kubelet's syncPod loop, reduced to what processes need): watches the pods bound to
 * this node and converges each one — a PodRunner per pod UID, started, adopted after an agent
 * restart, or stopped. A reconcile is a function of the pod UID alone and safe to run twice.
 *
 * - New pod: recorded in the local state (durable) before anything starts, then run.
 * - Pod being deleted (deletionTimestamp): stopped with its grace period, its final status
 *   reported, then the deletion confirmed with a grace-0 delete bound to its UID, as the kubelet does.
 * - Pod gone from the server (deleted while we were away, or force-deleted): stopped.
 * - A stop is written to the local state before it begins, so an agent that dies or shuts down
 *   mid-stop finishes it when it starts again, and never runs that pod's containers again.
 * - Agent restart: pods stored locally are supervised again at once from the re-adoption plan,
 *   before any server answers (static stability); the server's view is applied once synced.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ApiError } from '../../api/errors.js';
import type { Pod } from '../../api/kinds/pod.js';
import { resolveResource } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { isRecord } from '../../api/types.js';
import { rfc3339 } from '../../api/meta.js';
import type { ApiClient } from '../../client/api-client.js';
import { Informer } from '../../client/informer.js';
import type { Logger } from '../../lib/logger.js';
import type { CgroupDriver } from '../../runtime/cgroups/cgroup-driver.js';
import { containerLogPath, podLogDir } from '../../runtime/logs/log-paths.js';
import type { LogRotator } from '../../runtime/logs/log-rotator.js';
import { removePodLogs } from '../../runtime/logs/remove-pod-logs.js';
import type { EnvLookup, EnvNode } from '../../runtime/process/resolve-env.js';
import type { RunnerTiming } from '../../runtime/runner/container-runner.js';
import { PodRunner, type PodRunnerStatus } from '../../runtime/runner/pod-runner.js';
import type { EventRecorder } from '../server/controllers/event-recorder.js';
import type { AdoptionEntry, AdoptionPlan } from './adoption.js';
import { cleanUpEntry, podIdentity, toRunnerRecord, toStateRecord } from './adoption-records.js';
import type { LocalState } from './local-state.js';
import type { StatusReporter } from './status-reporter.js';

const pods = resolveResource('pods')!;

export interface PodSyncOptions {
  client: ApiClient;
  nodeName: string;
  nodeIp: string;
  /** Logs go below `<dataDir>/pods`, wrapper status files below `<dataDir>/containers`. */
  dataDir: string;
  state: LocalState;
  driver: CgroupDriver;
  plan: AdoptionPlan;
  reporter: StatusReporter;
  events: EventRecorder;
  rotator: LogRotator;
  node: EnvNode;
  /** Pids per pod (and per container), the agent's `--pods-pids-limit`. */
  pidsLimit?: number;
  timing?: RunnerTiming;
  logger: Logger;
}

interface Running {
  pod: Pod;
  runner: PodRunner;
  abort: AbortController;
  done: Promise<PodRunnerStatus>;
  /** The live log file per container, registered with the rotator. */
  logs: Map<string, string>;
  stopping?: Promise<void>;
  /** The grace period the stop under way uses (undefined: the pod's own). */
  graceSeconds?: number;
  /** Resolves once a stop has ended the pod's processes (the API work after it may still run). */
  halted?: Promise<void>;
}

export class PodSync {
  readonly #o: PodSyncOptions;
  readonly #running = new Map<string, Running>();
  /** Plan entries waiting for their pod's runner (or, once synced, for clean-up). */
  readonly #adoption = new Map<string, AdoptionEntry[]>();
  readonly #byUid = new Map<string, Pod>();
  readonly #queue = new Set<string>();
  #draining: Promise<void> | undefined;
  #synced = false;
  #detached = false;
  #signal: AbortSignal | undefined;

  constructor(options: PodSyncOptions) {
    this.#o = options;
  }

  get statusDir(): string {
    return path.join(this.#o.dataDir, 'containers');
  }

  /** The runner of a pod by namespace and name (for logs, exec and stats). */
  find(namespace: string, name: string): { pod: Pod; runner: PodRunner } | undefined {
    for (const entry of this.#running.values()) {
      if (entry.pod.metadata.namespace === namespace && entry.pod.metadata.name === name) return { pod: entry.pod, runner: entry.runner };
    }
    return undefined;
  }

  /** Every pod this agent runs. */
  list(): Array<{ pod: Pod; runner: PodRunner }> {
    return [...this.#running.values()].map((entry) => ({ pod: entry.pod, runner: entry.runner }));
  }

  /** Starts supervising: adopted pods at once, then the server's pods once its watch syncs. */
  async start(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const { plan, state, driver } = this.#o;
    for (const entry of plan.entries) {
      if (entry.outcome === 'emptyCgroup') {
        await cleanUpEntry(entry, driver);
        continue;
      }
      const list = this.#adoption.get(entry.podUid) ?? [];
      list.push(entry);
      this.#adoption.set(entry.podUid, list);
    }
    for (const stored of state.listPods()) {
      const pod = stored as Pod;
      const uid = pod.metadata?.uid;
      if (uid === undefined || pod.spec?.nodeName !== this.#o.nodeName) continue;
      this.#byUid.set(uid, pod);
      // A stop the last run began is finished (and confirmed once the server answers), not restarted.
      if (pod.metadata.deletionTimestamp !== undefined) this.#enqueue(uid);
      else if (!this.#running.has(uid)) await this.#startPod(pod);
    }
    const informer = new Informer(this.#o.client, pods, { fieldSelector: `spec.nodeName=${this.#o.nodeName}`, logger: this.#o.logger });
    informer.on('add', (pod) => this.#observe(pod));
    informer.on('update', (_old, pod) => this.#observe(pod));
    informer.on('delete', (pod) => {
      const uid = pod.metadata.uid;
      if (uid === undefined) return;
      if (this.#byUid.get(uid) !== undefined) this.#byUid.delete(uid);
      this.#enqueue(uid);
    });
    informer.start(signal);
    void informer.waitForSync(signal).then(
      () => {
        this.#synced = true;
        // Pods we run or adopted that the server no longer has: deleted while we were away.
        const present = new Set(informer.list().map((pod) => pod.metadata.uid));
        for (const uid of [...this.#running.keys(), ...this.#adoption.keys()]) {
          if (!present.has(uid)) {
            this.#byUid.delete(uid);
            this.#enqueue(uid);
          }
        }
      },
      () => undefined,
    );
  }

  #observe(object: KubeObject): void {
    const uid = object.metadata.uid;
    if (uid === undefined) return;
    this.#byUid.set(uid, object as unknown as Pod);
    this.#enqueue(uid);
  }

  #enqueue(uid: string): void {
    this.#queue.add(uid);
    this.#kick();
  }

  /**
   * Starts a drain unless one runs. A UID queued after the drain's last look at the queue but before
   * its promise settled (a watch event delivered in the same microtask run, as the in-process client
   * does) is picked up by the drain the settled one kicks off, never left waiting for the next event.
   */
  #kick(): void {
    if (this.#draining !== undefined) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#queue.size > 0) this.#kick();
    });
  }

  /**
   * Everything queued is reconciled together (a burst of new pods shares its local-state commits),
   * and a UID queued again meanwhile waits for the next round: never two reconciles of one pod at once.
   */
  async #drain(): Promise<void> {
    while (this.#queue.size > 0) {
      const batch = [...this.#queue];
      this.#queue.clear();
      await Promise.all(batch.map(async (uid) => {
        try {
          await this.#reconcile(uid);
        } catch (error) {
          this.#o.logger.warn('pod sync failed; retrying', { uid, error: (error as Error).message });
          setTimeout(() => this.#enqueue(uid), 1000).unref();
        }
      }));
    }
  }

  async #reconcile(uid: string): Promise<void> {
    if (this.#signal?.aborted || this.#detached) return;
    const pod = this.#byUid.get(uid);
    const running = this.#running.get(uid);
    if (pod !== undefined && pod.metadata.deletionTimestamp === undefined) {
      if (running !== undefined) {
        running.pod = pod; // labels, annotations and status may change; the spec of a pod does not
        return;
      }
      const phase = isRecord(pod.status) ? (pod.status as { phase?: string }).phase : undefined;
      if ((phase === 'Succeeded' || phase === 'Failed') && !this.#adoption.has(uid)) return; // finished before we knew it
      await this.#startPod(pod);
      return;
    }
    if (pod !== undefined) {
      // Being deleted: stop with the grace period the deletion asked for, then confirm it. A repeated
      // delete may shorten the grace period of a stop under way (never lengthen it), as in Kubernetes.
      const grace = pod.metadata.deletionGracePeriodSeconds ?? undefined;
      if (running?.stopping !== undefined) {
        if (grace !== undefined && grace < (running.graceSeconds ?? Infinity)) {
          running.graceSeconds = grace;
          void running.runner.stop(grace).catch(() => undefined);
        }
        return;
      }
      if (running !== undefined) running.pod = pod;
      this.#background(uid, running !== undefined ? this.#stopPod(uid, running, grace, true) : this.#confirmDeletion(pod));
      return;
    }
    if (!this.#synced) return; // not on the server as far as we know yet: wait for the list
    if (running !== undefined) this.#background(uid, this.#stopPod(uid, running, undefined, false));
    else if (this.#adoption.has(uid)) await this.#forget(this.#adoptedIdentity(uid));
  }

  /** Stops run beside the queue (a 30 s grace must not hold up other pods); a failure re-queues the pod. */
  #background(uid: string, work: Promise<void>): void {
    work.catch((error: unknown) => {
      this.#o.logger.warn('pod stop failed; retrying', { uid, error: (error as Error).message });
      setTimeout(() => this.#enqueue(uid), 1000).unref();
    });
  }

  async #startPod(pod: Pod): Promise<void> {
    const { state, driver, dataDir, reporter, events, node, timing, pidsLimit, nodeIp } = this.#o;
    const id = podIdentity(pod);
    // Not awaited: local-state writes commit in order, so the pod is durable no later than the
    // record of its first container (written before that container is reported Running), and the
    // start does not wait for an fsync of its own.
    state.putPod(id.uid, pod).catch((error: unknown) => this.#o.logger.error('could not record the pod locally', { pod: `${id.namespace}/${id.name}`, error }));
    const logs = new Map<string, string>();
    const podDir = podLogDir(dataDir, id);
    const runner = new PodRunner({
      pod,
      dirs: { logs: dataDir, state: this.statusDir },
      cgroups: { driver, ...(pidsLimit === undefined ? {} : { podLimits: { pidsMax: pidsLimit } }) },
      node,
      lookup: this.#lookup,
      ...(timing === undefined ? {} : { timing }),
      save: (record) => state.put(toStateRecord(id, record, dataDir)),
      onChange: (status) => {
        this.#trackLogs(podDir, status, logs);
        reporter.report(id, { ...status, hostIP: nodeIp, hostIPs: [{ ip: nodeIp }], podIP: nodeIp, podIPs: [{ ip: nodeIp }], qosClass: qosClass(pod) });
      },
      onEvent: (_container, type, reason, message) => {
        const current = this.#running.get(id.uid)?.pod ?? pod;
        events.event(current as unknown as KubeObject, type, reason, message);
      },
    });
    const entries = this.#adoption.get(id.uid) ?? [];
    this.#adoption.delete(id.uid);
    const records = [];
    for (const entry of entries) {
      const record = toRunnerRecord(entry);
      if (record === undefined || runner.container(entry.containerName) === undefined) await cleanUpEntry(entry, driver);
      else records.push(record);
    }
    if (records.length > 0) await runner.adopt(records);
    if (!driver.enforced && records.length === 0) {
      events.event(pod as unknown as KubeObject, 'Warning', 'LimitsNotEnforced', `resource limits are not enforced on node ${this.#o.nodeName}: ${driver.reason ?? 'no writable cgroups'}`);
    }
    const abort = new AbortController();
    const entry: Running = { pod, runner, abort, logs, done: runner.run(abort.signal) };
    this.#running.set(id.uid, entry);
    entry.done.catch((error: unknown) => this.#o.logger.error('pod runner failed', { pod: `${id.namespace}/${id.name}`, error }));
    if (records.length > 0) this.#o.logger.info('pod adopted', { pod: `${id.namespace}/${id.name}`, containers: records.map((record) => record.container) });
  }

  /** Keeps the rotator on each container's current log file. */
  #trackLogs(podDir: string, status: PodRunnerStatus, logs: Map<string, string>): void {
    for (const container of [...(status.initContainerStatuses ?? []), ...status.containerStatuses]) {
      if (container.state.running === undefined) continue;
      const file = containerLogPath(podDir, container.name, container.restartCount);
      const before = logs.get(container.name);
      if (before === file) continue;
      if (before !== undefined) this.#o.rotator.remove(before);
      this.#o.rotator.add(file);
      logs.set(container.name, file);
    }
  }

  async #stopPod(uid: string, running: Running, gracePeriodSeconds: number | undefined, confirm: boolean): Promise<void> {
    if (running.stopping !== undefined) return running.stopping;
    const id = podIdentity(running.pod);
    running.graceSeconds = gracePeriodSeconds ?? running.pod.spec.terminationGracePeriodSeconds ?? 30;
    const halted = this.#recordStop(running.pod).then(() => running.runner.stop(gracePeriodSeconds));
    running.halted = halted.then(() => undefined, () => undefined);
    running.stopping = (async () => {
      await halted;
      running.abort.abort();
      await running.done.catch(() => undefined);
      // Shutting down: the processes are gone; the next start confirms the deletion from local state.
      if (this.#detached) return;
      await this.#o.reporter.settled(uid);
      for (const file of running.logs.values()) this.#o.rotator.remove(file);
      this.#running.delete(uid);
      // Traces go before the confirmation, so a pod gone from the API is gone from the node too.
      await this.#forget(id);
      if (confirm) await this.#deleteFromApi(id);
    })().catch((error: unknown) => {
      running.stopping = undefined;
      running.halted = undefined;
      throw error;
    });
    return running.stopping;
  }

  /**
   * Marks the stored pod as being stopped, so a restart finishes the stop instead of running the pod
   * again. A pod the server no longer has is marked as due now.
   */
  async #recordStop(pod: Pod): Promise<void> {
    const stored = pod.metadata.deletionTimestamp !== undefined ? pod : { ...pod, metadata: { ...pod.metadata, deletionTimestamp: rfc3339(), deletionGracePeriodSeconds: 0 } };
    // A failed write must not hold the stop up: the stop matters more than surviving a crash mid-stop.
    await this.#o.state.putPod(pod.metadata.uid!, stored).catch((error: unknown) => this.#o.logger.error('could not record the stop locally', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error }));
  }

  /** The kubelet's final step: delete with grace 0, bound to the UID so a new pod of that name is safe. */
  async #confirmDeletion(pod: Pod): Promise<void> {
    const id = podIdentity(pod);
    // Processes adopted without a runner (their state was lost, or the agent stopped mid-stop) go
    // before the pod does, with what is left of its grace period.
    if (!this.#running.has(id.uid)) await this.#forget(id, Math.max(0, Date.parse(pod.metadata.deletionTimestamp ?? '') - Date.now()) || 0);
    await this.#deleteFromApi(id);
  }

  async #deleteFromApi(id: { uid: string; namespace: string; name: string }): Promise<void> {
    try {
      await this.#o.client.delete(pods, id.namespace, id.name, { gracePeriodSeconds: 0, preconditions: { uid: id.uid } });
    } catch (error) {
      const code = (error as ApiError).code;
      if (code !== 404 && code !== 409) throw error;
    }
  }

  /** A pod known only from the adoption plan: its name as its records knew it (empty when none did). */
  #adoptedIdentity(uid: string): { uid: string; namespace: string; name: string } {
    for (const entry of this.#adoption.get(uid) ?? []) {
      if ('record' in entry && entry.record !== undefined) return { uid, namespace: entry.record.namespace, name: entry.record.podName };
    }
    return { uid, namespace: '', name: '' };
  }

  /** Drops every trace of a pod: processes no runner took, its records, status files and logs. */
  async #forget(id: { uid: string; namespace: string; name: string }, gracePeriodMs = 0): Promise<void> {
    const entries = this.#adoption.get(id.uid) ?? [];
    this.#adoption.delete(id.uid);
    await Promise.all(entries.map((entry) => cleanUpEntry(entry, this.#o.driver, gracePeriodMs)));
    await this.#o.state.removePod(id.uid);
    this.#o.reporter.forget(id.uid);
    await rm(path.join(this.statusDir, id.uid), { recursive: true, force: true }).catch(() => undefined);
    if (id.namespace !== '' && id.name !== '') {
      await removePodLogs(podLogDir(this.#o.dataDir, id)).catch((error: unknown) => this.#o.logger.warn('could not remove pod logs', { pod: `${id.namespace}/${id.name}`, error }));
    }
  }

  #lookup: EnvLookup = async (kind, namespace, name) => {
    const info = resolveResource(kind === 'ConfigMap' ? 'configmaps' : 'secrets')!;
    let object: KubeObject;
    try {
      object = await this.#o.client.get(info, namespace, name);
    } catch (error) {
      if ((error as ApiError).code === 404) return undefined;
      throw error;
    }
    const data = (isRecord(object.data) ? object.data : {}) as Record<string, string>;
    if (kind === 'ConfigMap') return { ...data };
    return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  };

  /**
   * Agent shutdown: every pod keeps running; runners stop watching. A pod being stopped is stopped
   * to the end of its processes (its grace period), but its API work is left to the next start, so
   * an unreachable server cannot hold the shutdown.
   */
  async detach(): Promise<void> {
    this.#detached = true;
    await Promise.all([...this.#running.values()].map(async (entry) => {
      if (entry.halted !== undefined) {
        await entry.halted;
        return;
      }
      await entry.runner.detach();
      entry.abort.abort();
      await entry.done.catch(() => undefined);
    }));
  }
}

/** Kubernetes' QoS class from requests and limits. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let any = false;
  let guaranteed = true;
  for (const container of containers) {
    const { limits = {}, requests = {} } = container.resources ?? {};
    if (Object.keys(limits).length > 0 || Object.keys(requests).length > 0) any = true;
    for (const resource of ['cpu', 'memory'] as const) {
      const limit = limits[resource];
      const request = requests[resource] ?? limit;
      if (limit === undefined || request !== limit) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
