/**
 * The scheduler: binds each pending pod (no `spec.nodeName`, `schedulerName` default-scheduler) to
 * the best node that passes every filter. Decisions are made one at a time, synchronously, against
 * the in-memory ClusterView, and assumed there before the bind call, so many binds can be in flight
 * without two decisions ever sharing the same free resources. Pods that fit nowhere get
 * PodScheduled=False and a FailedScheduling event, and are retried when the cluster changes
 * (after a backoff of 1 s doubling up to `schedulerRetryMs`, as Kubernetes' 1 s → 10 s) and every
 * `schedulerRetryMs`.
 */
import { ApiError } from '../../../api/errors.js';
import type { Node } from '../../../api/kinds/node.js';
import type { Pod } from '../../../api/kinds/pod.js';
import type { PersistentVolumeClaim } from '../../../api/kinds/pvc.js';
import { objectKey, rfc3339 } from '../../../api/meta.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import type { Informer } from '../../../client/informer.js';
import type { Controller, ControllerConfig, ControllerContext, ReconcileResult } from '../controllers/controller.js';
import { splitKey } from '../controllers/controller.js';
import type { WorkQueue } from '../controllers/work-queue.js';
import type { SchedulingPod } from './filters.js';
import { filterNode, fitErrorMessage } from './filters.js';
import type { NodeInfo } from './node-info.js';
import { ClusterView, podRequestOf } from './node-info.js';
import { selectNode } from './scores.js';
import { checkClaims, placeClaim, SELECTED_NODE_ANNOTATION } from './volume-claims.js';
import type { WorkQueueOptions } from '../controllers/work-queue.js';

export const SCHEDULER_NAME = 'default-scheduler';
/** Kubernetes' podInitialBackoffSeconds; doubles per failed attempt up to `schedulerRetryMs`. */
const INITIAL_BACKOFF_MS = 1000;
/** An unchanged FailedScheduling reason is recorded again at most this often (Kubernetes' event spam filter idea). */
const EVENT_REPEAT_MS = 5 * 60_000;
/**
 * Decisions are synchronous, so workers only let binds overlap: the store commits the writes that
 * arrive together in one transaction, so many binds in flight cost few disk flushes.
 */
export const SCHEDULER_WORKERS = 128;

const nodes = resolveResource('nodes')!;
const pods = resolveResource('pods')!;
const claims = resolveResource('persistentvolumeclaims')!;

/** Whether this scheduler should place the pod. */
export function isPending(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return (
    !pod.spec.nodeName &&
    !pod.metadata.deletionTimestamp &&
    (pod.spec.schedulerName === undefined || pod.spec.schedulerName === '' || pod.spec.schedulerName === SCHEDULER_NAME) &&
    phase !== 'Succeeded' &&
    phase !== 'Failed'
  );
}

/** The parts of a node that change where pods fit. */
const schedulingState = (node: Node): string =>
  JSON.stringify([
    node.metadata.labels,
    node.spec?.taints,
    node.spec?.unschedulable,
    node.status?.allocatable,
    node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status,
  ]);

interface Unschedulable {
  attempts: number;
  lastAttemptMs: number;
  lastMessage?: string;
  lastEventMs?: number;
}

type Decision = { nodeName: string; scheduling: SchedulingPod; claimsToPlace: PersistentVolumeClaim[] } | { message: string };

export class Scheduler implements Controller {
  readonly name = 'scheduler';
  readonly workers = SCHEDULER_WORKERS;

  /** A failing bind (store busy) retries no slower than the unschedulable retry, not the generic 1000 s cap. */
  queueOptions(config: ControllerConfig): WorkQueueOptions {
    return { maxDelayMs: config.schedulerRetryMs };
  }
  readonly #view = new ClusterView();
  readonly #unschedulable = new Map<string, Unschedulable>();
  #pods: Informer | undefined;
  #claims: Informer | undefined;
  #queue: WorkQueue | undefined;
  #now: () => number = Date.now;
  #retryMs = 10_000;

  setup(context: ControllerContext, queue: WorkQueue): void {
    this.#queue = queue;
    this.#now = () => context.now().getTime();
    this.#retryMs = context.config.schedulerRetryMs;
    const nodeInformer = context.informers.informer(nodes);
    nodeInformer.on('add', (node) => {
      this.#view.setNode(node as Node);
      this.#requeueUnschedulable();
    });
    nodeInformer.on('update', (old, node) => {
      this.#view.setNode(node as Node);
      if (schedulingState(old as Node) !== schedulingState(node as Node)) this.#requeueUnschedulable();
    });
    nodeInformer.on('delete', (node) => this.#view.deleteNode(node.metadata.name ?? ''));

    const podInformer = (this.#pods = context.informers.informer(pods));
    podInformer.on('add', (object) => {
      const pod = object as Pod;
      this.#view.observePod(pod);
      if (isPending(pod)) queue.add(objectKey(pod));
    });
    podInformer.on('update', (old, object) => {
      const pod = object as Pod;
      if (this.#view.observePod(pod)) this.#requeueUnschedulable();
      // Our own status writes change nothing about where the pod fits; a spec change (tolerations) may.
      if (isPending(pod) && (old.metadata.generation !== pod.metadata.generation || !isPending(old as Pod))) {
        queue.add(objectKey(pod));
      }
    });
    podInformer.on('delete', (pod) => {
      const key = objectKey(pod);
      this.#unschedulable.delete(key);
      if (this.#view.forgetPod(key)) this.#requeueUnschedulable();
    });

    const claimInformer = (this.#claims = context.informers.informer(claims));
    claimInformer.on('add', () => this.#requeueUnschedulable());
    claimInformer.on('update', (old, claim) => {
      const placed = (object: KubeObject) => object.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      if (placed(old) !== placed(claim) || old.metadata.deletionTimestamp !== claim.metadata.deletionTimestamp) this.#requeueUnschedulable();
    });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.#pods?.get(namespace, name) as Pod | undefined;
    if (!pod || !isPending(pod)) {
      this.#unschedulable.delete(key);
      return;
    }
    // Bound by us a moment ago; the informer has not caught up yet.
    if (this.#view.isAccounted(key)) return;

    const decision = this.#decide(pod);
    if ('message' in decision) return this.#unschedulableResult(key, pod, decision.message, context);

    const { nodeName, scheduling } = decision;
    this.#view.assume(key, scheduling.request, nodeName);
    let binding = false;
    try {
      for (const claim of decision.claimsToPlace) await placeClaim(context.client, claim, nodeName);
      binding = true;
      await context.client.bind(pods, namespace, name, nodeName, pod.metadata.uid ? { uid: pod.metadata.uid } : {});
    } catch (error) {
      if (this.#view.unassume(key, nodeName)) this.#requeueUnschedulable();
      // The pod was deleted meanwhile: nothing to do. Anything else (a conflict included) retries with backoff.
      if (binding && error instanceof ApiError && error.code === 404) return;
      throw error;
    }
    const wasUnschedulable = this.#unschedulable.delete(key);
    context.recorder.event(pod as KubeObject, 'Normal', 'Scheduled', `Successfully assigned ${namespace ?? ''}/${name} to ${nodeName}`);
    if (wasUnschedulable || pod.status?.conditions?.some((condition) => condition.type === 'PodScheduled' && condition.status === 'False')) {
      await this.#setScheduledCondition(context, pod, { status: 'True' });
    }
  }

  /** Filters every node and scores the feasible ones; synchronous, so the view cannot change underneath. */
  #decide(pod: Pod): Decision {
    const claimCheck = checkClaims(pod, this.#claims!);
    const nodeCount = this.#view.nodes.size;
    if (!claimCheck.ok) return { message: nodeCount === 0 ? fitErrorMessage(0, []) : `0/${nodeCount} nodes are available: ${claimCheck.message}.` };
    const scheduling: SchedulingPod = { pod, request: podRequestOf(pod), ...(claimCheck.pinnedNode === undefined ? {} : { pinnedNode: claimCheck.pinnedNode }) };
    const feasible: NodeInfo[] = [];
    const reasons: Array<readonly string[]> = [];
    for (const node of this.#view.nodes.values()) {
      const failed = filterNode(scheduling, node);
      if (failed.length === 0) feasible.push(node);
      else reasons.push(failed);
    }
    if (feasible.length === 0) return { message: fitErrorMessage(nodeCount, reasons) };
    return { nodeName: selectNode(scheduling, feasible).name, scheduling, claimsToPlace: claimCheck.toPlace };
  }

  async #unschedulableResult(key: string, pod: Pod, message: string, context: ControllerContext): Promise<ReconcileResult> {
    const previous = this.#unschedulable.get(key);
    const now = this.#now();
    // A retry that fails for the same reason is not news: record it again only when the reason
    // changes or every few minutes, so a cluster full of pending pods does not write Events forever.
    const repeat = previous?.lastMessage === message && now - (previous.lastEventMs ?? 0) < EVENT_REPEAT_MS;
    this.#unschedulable.set(key, {
      attempts: (previous?.attempts ?? 0) + 1,
      lastAttemptMs: now,
      lastMessage: message,
      lastEventMs: repeat ? previous.lastEventMs : now,
    });
    if (!repeat) context.recorder.event(pod as KubeObject, 'Warning', 'FailedScheduling', message);
    const current = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    if (current?.status !== 'False' || current.reason !== 'Unschedulable' || current.message !== message) {
      await this.#setScheduledCondition(context, pod, { status: 'False', reason: 'Unschedulable', message });
    }
    return { requeueAfterMs: this.#retryMs };
  }

  /** PodScheduled through the status subresource; a strategic merge by condition type leaves the others alone. */
  async #setScheduledCondition(context: ControllerContext, pod: Pod, condition: { status: 'True' | 'False'; reason?: string; message?: string }): Promise<void> {
    const current = pod.status?.conditions?.find((existing) => existing.type === 'PodScheduled');
    // The transition time moves only when the status does, as in Kubernetes.
    const now = current?.status === condition.status && current.lastTransitionTime ? current.lastTransitionTime : rfc3339(context.now());
    try {
      await context.client.patch(
        pods,
        pod.metadata.namespace,
        pod.metadata.name ?? '',
        'application/strategic-merge-patch+json',
        { status: { conditions: [{ type: 'PodScheduled', lastTransitionTime: now, ...condition }] } },
        { subresource: 'status' },
      );
    } catch (error) {
      // Gone meanwhile: nothing left to report on.
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  /** Something that may make room changed: look at every unschedulable pod again once its backoff allows. */
  #requeueUnschedulable(): void {
    const queue = this.#queue;
    if (!queue || this.#unschedulable.size === 0) return;
    const now = this.#now();
    const initialMs = Math.min(INITIAL_BACKOFF_MS, this.#retryMs);
    for (const [key, { attempts, lastAttemptMs }] of this.#unschedulable) {
      const backoffMs = Math.min(this.#retryMs, initialMs * 2 ** Math.max(0, attempts - 1));
      queue.addAfter(key, Math.max(0, lastAttemptMs + backoffMs - now));
    }
  }
}
