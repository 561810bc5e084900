/**
 * Node lifecycle (Kubernetes' node lifecycle controller): every nodeMonitorPeriod it looks at each
 * node's heartbeat Lease; a node not seen renewing for nodeMonitorGracePeriod becomes Ready=Unknown
 * and gets the `unreachable` taints, a node its agent reports Ready=False gets the `not-ready`
 * taints, and both go once the node is Ready again. The NoExecute taints are what the
 * taint-eviction controller acts on.
 *
 * Health is the local time this controller SAW a Lease change, never the timestamp written in it,
 * so clock skew between machines does not matter. It refuses to blame nodes when the fault is more
 * likely its own: the store failing writes, its own pass running late, or every node going silent at once.
 */
import { clone, rfc3339 } from '../../../api/meta.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import type { WorkQueue } from './work-queue.js';

const nodes = resolveResource('nodes')!;
const leases = resolveResource('leases')!;

export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The one key this controller queues: a pass over all nodes, since judging one needs the others. */
const MONITOR_KEY = 'monitor';
/** Conditions the agent posts; all become Unknown when it goes silent (as Kubernetes does). */
const AGENT_CONDITIONS = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']);

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

interface NodeHealth {
  /** Local time (ms) this controller last saw the node renew its Lease or post a heartbeat. */
  probeAt: number;
  leaseRenewTime: unknown;
  leaseVersion: string | undefined;
  heartbeat: string | undefined;
}

type Mode = 'normal' | 'store-unhealthy' | 'full-disruption';

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  /** One pass at a time: the pass owns the health map. */
  readonly workers = 1;
  readonly #health = new Map<string, NodeHealth>();
  #lastPassEnd: number | undefined;
  #mode: Mode = 'normal';

  setup(context: ControllerContext, queue: WorkQueue): void {
    context.informers.informer(nodes);
    context.informers.informer(leases);
    queue.add(MONITOR_KEY);
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    if (key !== MONITOR_KEY) return;
    const period = context.config.nodeMonitorPeriodMs;
    try {
      await this.#pass(context);
    } finally {
      this.#lastPassEnd = context.now().getTime();
    }
    return { requeueAfterMs: period };
  }

  async #pass(context: ControllerContext): Promise<void> {
    const { nodeMonitorPeriodMs: period, nodeMonitorGracePeriodMs: grace } = context.config;
    const logger = context.logger.child({ controller: this.name });
    const now = context.now().getTime();
    const all = context.informers.informer(nodes).list();
    const leaseCache = context.informers.informer(leases);

    // A late pass means this process was not watching (event loop or store stall): that time is not the nodes' silence.
    const late = this.#lastPassEnd === undefined ? 0 : now - this.#lastPassEnd - period;
    if (late > period) {
      logger.warn('node monitor pass ran late; not counting the delay against nodes', { lateMs: late });
      for (const health of this.#health.values()) health.probeAt = Math.min(now, health.probeAt + late);
    }

    const names = new Set(all.map((node) => node.metadata.name!));
    for (const name of this.#health.keys()) if (!names.has(name)) this.#health.delete(name);
    for (const node of all) this.#observe(node, leaseCache.get(NODE_LEASE_NAMESPACE, node.metadata.name!), now);

    if (!context.storeHealthy()) {
      // Renewals fail when our own store does: give every node a fresh grace period once it recovers.
      for (const health of this.#health.values()) health.probeAt = now;
      this.#enter('store-unhealthy', () => logger.warn('the store is failing writes: not marking nodes NotReady or evicting until it recovers (the fault is ours, not the nodes\')'), logger);
      return;
    }
    const age = (node: KubeObject) => now - this.#health.get(node.metadata.name!)!.probeAt;
    const silent = all.filter((node) => age(node) > grace);
    // Evidence the control plane hears nodes at all: one renewal seen well within the grace period.
    const anyAlive = all.some((node) => age(node) <= grace / 2);
    if (silent.length > 0 && !anyAlive) {
      this.#enter('full-disruption', () => logger.warn('every node went silent at once: more likely this server\'s or the network\'s fault than the nodes\'; not marking nodes NotReady or evicting', { nodes: all.length }), logger);
    } else if (this.#mode !== 'normal') {
      // Leaving a disruption: nobody's silence during it counts (Kubernetes resets probe times too).
      for (const health of this.#health.values()) health.probeAt = now;
      this.#enter('normal', () => logger.info('nodes are heard again: judging node health normally'), logger);
      return;
    }

    const results = await Promise.allSettled(
      // Even in a full disruption a silent node is marked Unknown (and unschedulable), as Kubernetes
      // does, so nothing new is sent to it; only the evicting NoExecute taint is held back.
      all.map((node) => this.#reconcileNode(node, age(node) > grace, this.#mode === 'full-disruption', context)),
    );
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    // A conflict only means the node changed under us; the next pass, one period away, looks again.
    for (const failure of failed) {
      if ((failure.reason as { code?: number }).code !== 409) logger.warn('updating a node failed; will retry next pass', { error: failure.reason });
    }
  }

  /** A Lease or Ready heartbeat that changed since the last pass is a renewal seen now. */
  #observe(node: KubeObject, lease: KubeObject | undefined, now: number): void {
    const name = node.metadata.name!;
    const renewTime = lease && isRecord(lease.spec) ? lease.spec.renewTime : undefined;
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    const previous = this.#health.get(name);
    if (
      !previous ||
      previous.leaseRenewTime !== renewTime ||
      previous.leaseVersion !== lease?.metadata.resourceVersion ||
      previous.heartbeat !== heartbeat
    ) {
      // First sight counts as a renewal: a node is never judged on silence from before we watched.
      this.#health.set(name, { probeAt: now, leaseRenewTime: renewTime, leaseVersion: lease?.metadata.resourceVersion, heartbeat });
    }
  }

  async #reconcileNode(cached: KubeObject, markUnknown: boolean, disrupted: boolean, context: ControllerContext): Promise<void> {
    let node = cached;
    const name = node.metadata.name!;
    const ready = readyCondition(node);
    if (markUnknown && ready?.status !== 'Unknown') {
      node = await context.client.update(nodes, undefined, withUnknownConditions(node, context.now()), { subresource: 'status' });
      context.logger.warn('node stopped renewing its lease: marked Ready=Unknown', { controller: this.name, node: name });
      if (ready?.status === 'True') context.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    const current = taintsOf(node);
    // Unknown from before (a disruption, a server restart) but heard within the fresh grace period:
    // no evicting taint until we ourselves have seen it silent that long.
    const readyStatus = readyCondition(node)?.status;
    const holdEviction = disrupted || (readyStatus === 'Unknown' && !markUnknown);
    const wanted = desiredTaints(current, readyStatus, holdEviction, context.now());
    if (sameTaints(current, wanted)) return;
    const updated = clone(node);
    updated.spec = { ...(isRecord(updated.spec) ? updated.spec : {}), taints: wanted };
    await context.client.update(nodes, undefined, updated);
    context.logger.info('node taints updated', { controller: this.name, node: name, taints: wanted.map(formatTaint) });
  }

  #enter(mode: Mode, announce: () => void, logger: ControllerContext['logger']): void {
    if (this.#mode === mode) return;
    logger.debug('node lifecycle mode', { from: this.#mode, to: mode });
    this.#mode = mode;
    announce();
  }
}

export function readyCondition(node: KubeObject): Condition | undefined {
  const status = isRecord(node.status) ? node.status : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
  return conditions.find((condition) => condition.type === 'Ready');
}

export function taintsOf(node: KubeObject): Taint[] {
  const spec = isRecord(node.spec) ? node.spec : {};
  return Array.isArray(spec.taints) ? (spec.taints as Taint[]) : [];
}

/** The agent's conditions set to Unknown, heartbeats kept: the last time we heard from it stays visible. */
function withUnknownConditions(node: KubeObject, now: Date): KubeObject {
  const updated = clone(node);
  const status = isRecord(updated.status) ? updated.status : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
  const at = rfc3339(now);
  const unknown = (condition: Condition): Condition =>
    AGENT_CONDITIONS.has(condition.type) && condition.status !== 'Unknown'
      ? { ...condition, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at }
      : condition;
  const next = conditions.map(unknown);
  if (!next.some((condition) => condition.type === 'Ready')) {
    next.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: at });
  }
  updated.status = { ...status, conditions: next };
  return updated;
}

/**
 * The node's taints with this controller's four set from its Ready condition: Unknown → unreachable,
 * False → not-ready, True → neither; no Ready condition yet → left as they are. In full disruption
 * the NoExecute ones go, so nothing is evicted (Kubernetes' markNodeAsReachable).
 */
function desiredTaints(current: Taint[], ready: string | undefined, disrupted: boolean, now: Date): Taint[] {
  const ours = (taint: Taint) => taint.key === TAINT_NODE_UNREACHABLE || taint.key === TAINT_NODE_NOT_READY;
  if (ready === undefined && !disrupted) return current;
  const key = ready === 'Unknown' ? TAINT_NODE_UNREACHABLE : ready === 'False' ? TAINT_NODE_NOT_READY : undefined;
  const wanted: Taint[] = [];
  if (key) {
    wanted.push({ key, effect: 'NoSchedule' });
    if (!disrupted) wanted.push({ key, effect: 'NoExecute', timeAdded: rfc3339(now) });
  }
  // Keep a taint already there as it is, so its timeAdded (the eviction clock) does not restart.
  const kept = wanted.map((taint) => current.find((existing) => existing.key === taint.key && existing.effect === taint.effect) ?? taint);
  return [...current.filter((taint) => !ours(taint)), ...kept];
}

/** Order does not matter: a user's taint list is not rewritten just to move ours to the end. */
function sameTaints(left: Taint[], right: Taint[]): boolean {
  const encode = (taints: Taint[]) => taints.map((taint) => JSON.stringify([taint.key, taint.value ?? '', taint.effect, taint.timeAdded ?? ''])).sort();
  const [a, b] = [encode(left), encode(right)];
  return a.length === b.length && a.every((entry, index) => entry === b[index]);
}

function formatTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}

