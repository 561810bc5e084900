/**
 * Taint eviction (Kubernetes' taint-eviction controller, once the node lifecycle's "taint manager"):
 * a pod bound to a node with a NoExecute taint it does not tolerate is deleted at once; one that
 * tolerates it for tolerationSeconds is deleted that long after the taint's timeAdded. Deletion is
 * graceful: the pod is marked Terminating and its controller replaces it; the node's agent confirms
 * the deletion when it is heard again.
 */
import type { ApiError } from '../../../api/errors.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import { keyOf, splitKey } from './controller.js';
import type { Taint } from './node-lifecycle.js';
import { taintsOf } from './node-lifecycle.js';
import type { WorkQueue } from './work-queue.js';

const nodes = resolveResource('nodes')!;
const pods = resolveResource('pods')!;
const BY_NODE = 'spec.nodeName';

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Kubernetes' Toleration.ToleratesTaint: empty effect or key match any; Exists ignores the value. */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.operator ?? 'Equal') === 'Equal' && (toleration.value ?? '') === (taint.value ?? '');
}

export const podNodeName = (pod: KubeObject): string => (isRecord(pod.spec) && typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '');
const noExecuteTaints = (node: KubeObject): Taint[] => taintsOf(node).filter((taint) => taint.effect === 'NoExecute');
const tolerationsOf = (pod: KubeObject): Toleration[] => (isRecord(pod.spec) && Array.isArray(pod.spec.tolerations) ? (pod.spec.tolerations as Toleration[]) : []);
const taintId = (nodeName: string, taint: Taint) => JSON.stringify([nodeName, taint.key, taint.value ?? '', taint.effect]);

/**
 * Keys: a node name (no slash) refreshes what we remember of its taints and queues its pods;
 * `namespace/name` decides one pod.
 */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction';
  /** When we first saw a NoExecute taint that carries no timeAdded (one a user added by hand). */
  readonly #firstSeen = new Map<string, number>();
  #queue: WorkQueue | undefined;

  setup(context: ControllerContext, queue: WorkQueue): void {
    this.#queue = queue;
    const nodeCache = context.informers.informer(nodes);
    const podCache = context.informers.informer(pods);
    context.informers.index(pods, BY_NODE, (pod) => (podNodeName(pod) ? [podNodeName(pod)] : []));
    nodeCache.on('add', (node) => {
      if (noExecuteTaints(node).length > 0) queue.add(node.metadata.name!);
    });
    nodeCache.on('update', (old, node) => {
      if (old === node || JSON.stringify(noExecuteTaints(old)) !== JSON.stringify(noExecuteTaints(node))) queue.add(node.metadata.name!);
    });
    nodeCache.on('delete', (node) => queue.add(node.metadata.name!));
    const onPod = (pod: KubeObject) => {
      const node = podNodeName(pod) ? nodeCache.get(undefined, podNodeName(pod)) : undefined;
      if (node && noExecuteTaints(node).length > 0 && !pod.metadata.deletionTimestamp) queue.add(keyOf(pod));
    };
    podCache.on('add', onPod);
    podCache.on('update', (_old, pod) => onPod(pod));
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    if (namespace === undefined) {
      this.#refreshNode(name, context);
      return;
    }
    const pod = context.informers.informer(pods).get(namespace, name);
    if (!pod || pod.metadata.deletionTimestamp || !podNodeName(pod)) return;
    const node = context.informers.informer(nodes).get(undefined, podNodeName(pod));
    const taints = node ? noExecuteTaints(node) : [];
    if (taints.length === 0) return;
    if (!context.storeHealthy()) {
      // Our store is failing: the taints may be the symptom of that, not of the node. Look again later.
      return { requeueAfterMs: context.config.nodeMonitorPeriodMs };
    }
    const now = context.now().getTime();
    const deadline = this.#evictionDeadline(podNodeName(pod), taints, tolerationsOf(pod), now);
    if (deadline === undefined) return;
    if (deadline > now) return { requeueAfterMs: deadline - now };
    try {
      await context.client.delete(pods, namespace, name, { preconditions: { uid: pod.metadata.uid! } });
    } catch (error) {
      // Gone already, or a new pod of the same name: nothing of ours left to evict.
      const code = (error as ApiError).code;
      if (code === 404 || code === 409) return;
      throw error;
    }
    context.logger.info('evicting a pod from a tainted node', { controller: this.name, pod: key, node: podNodeName(pod), taints: taints.map((taint) => `${taint.key}:${taint.effect}`) });
    context.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
  }

  /**
   * When the pod must go (ms), or undefined if it tolerates every taint forever. For each taint:
   * not tolerated → now; tolerated → its timeAdded plus the smallest tolerationSeconds among the
   * tolerations matching it (none set → forever). The earliest of these wins.
   */
  #evictionDeadline(nodeName: string, taints: Taint[], tolerations: Toleration[], now: number): number | undefined {
    let deadline: number | undefined;
    for (const taint of taints) {
      const matching = tolerations.filter((toleration) => toleratesTaint(toleration, taint));
      if (matching.length === 0) return now;
      const seconds = matching.flatMap((toleration) => (typeof toleration.tolerationSeconds === 'number' ? [toleration.tolerationSeconds] : []));
      if (seconds.length === 0) continue;
      const added = this.#addedAt(nodeName, taint, now);
      const at = added + Math.max(0, Math.min(...seconds)) * 1000;
      deadline = deadline === undefined ? at : Math.min(deadline, at);
    }
    return deadline;
  }

  #addedAt(nodeName: string, taint: Taint, now: number): number {
    const parsed = taint.timeAdded ? Date.parse(taint.timeAdded) : Number.NaN;
    if (Number.isFinite(parsed)) return parsed;
    const id = taintId(nodeName, taint);
    if (!this.#firstSeen.has(id)) this.#firstSeen.set(id, now);
    return this.#firstSeen.get(id)!;
  }

  /** Forgets taints the node no longer has (so a re-added one starts a new clock) and queues its pods. */
  #refreshNode(nodeName: string, context: ControllerContext): void {
    const node = context.informers.informer(nodes).get(undefined, nodeName);
    const present = new Set((node ? noExecuteTaints(node) : []).map((taint) => taintId(nodeName, taint)));
    for (const id of this.#firstSeen.keys()) if ((JSON.parse(id) as string[])[0] === nodeName && !present.has(id)) this.#firstSeen.delete(id);
    if (present.size === 0) return;
    for (const pod of context.informers.index(pods, BY_NODE).get(nodeName)) {
      if (!pod.metadata.deletionTimestamp) this.#queue?.add(keyOf(pod));
    }
  }
}
