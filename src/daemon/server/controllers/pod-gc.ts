/**
 * Pod garbage collection for deleted nodes (Kubernetes' PodGC, orphaned pods): a pod bound to a
 * Node that no longer exists has no agent to stop it or confirm its deletion, yet would count as
 * active forever. Once the node's absence is confirmed by a live read and has lasted the node grace
 * period (a quarantine for pods bound just before their node registers), its pods are removed at
 * once, so their controllers replace them.
 */
import type { ApiError } from '../../../api/errors.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import type { WorkQueue } from './work-queue.js';

const nodes = resolveResource('nodes')!;
const pods = resolveResource('pods')!;

const nodeNameOf = (pod: KubeObject): string | undefined => {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === 'string' && spec.nodeName !== '' ? spec.nodeName : undefined;
};

export class PodGarbageCollector implements Controller {
  readonly name = 'pod-garbage-collector';
  readonly workers = 1;
  /** When each node was first found missing: its pods are collected only after a quarantine. */
  readonly #missingSince = new Map<string, number>();

  setup(context: ControllerContext, queue: WorkQueue): void {
    const nodeCache = context.informers.informer(nodes);
    context.informers.index(pods, 'node', (pod) => {
      const nodeName = nodeNameOf(pod);
      return nodeName ? [nodeName] : [];
    });
    nodeCache.on('delete', (node) => queue.add(node.metadata.name ?? ''));
    const check = (pod: KubeObject) => {
      const nodeName = nodeNameOf(pod);
      if (nodeName && !nodeCache.get(undefined, nodeName)) queue.add(nodeName);
    };
    context.informers.informer(pods).on('add', check).on('update', (_old, pod) => check(pod));
  }

  async reconcile(nodeName: string, context: ControllerContext): Promise<ReconcileResult> {
    if (context.informers.informer(nodes).get(undefined, nodeName)) {
      this.#missingSince.delete(nodeName);
      return;
    }
    // The cache may only be behind (a node registering right now): ask the API before deleting anything.
    try {
      await context.client.get(nodes, undefined, nodeName);
      this.#missingSince.delete(nodeName);
      return;
    } catch (error) {
      if ((error as ApiError).code !== 404) throw error;
    }
    // A pod may be bound just before its node registers: wait a quarantine (Kubernetes: 40 s) first.
    const now = context.now().getTime();
    const since = this.#missingSince.get(nodeName) ?? now;
    this.#missingSince.set(nodeName, since);
    const quarantine = context.config.nodeMonitorGracePeriodMs;
    if (now - since < quarantine) return { requeueAfterMs: quarantine - (now - since) };
    this.#missingSince.delete(nodeName);
    const orphans = context.informers.index(pods, 'node').get(nodeName);
    await Promise.all(
      orphans.map(async (pod) => {
        try {
          await context.client.delete(pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } });
          context.logger.info('deleted a pod of a node that no longer exists', { controller: this.name, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node: nodeName });
        } catch (error) {
          // Already gone, or a different pod by now: nothing to collect.
          if ((error as ApiError).code !== 404 && (error as ApiError).code !== 409) throw error;
        }
      }),
    );
  }
}
