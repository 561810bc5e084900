/**
 * What the workload controllers ask of a pod (Kubernetes' pkg/controller and podutil helpers):
 * is it active, ready, available, and which of several pods is least worth keeping.
 */
import type { Condition } from '../../../api/kinds/common.js';
import type { Pod } from '../../../api/kinds/pod.js';

/** Kubernetes' controller.kubernetes.io/pod-deletion-cost: lower goes first on scale down. */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** Not finished (Succeeded/Failed) and not being deleted: counts towards a controller's replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata.deletionTimestamp === undefined;
}

export function podCondition(pod: Pod, type: string): Condition | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** When the pod last became Ready (ms since the epoch), or undefined when it is not ready. */
export function podReadySince(pod: Pod): number | undefined {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return undefined;
  const at = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** podutil.IsPodAvailable: Ready for at least minReadySeconds. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** Milliseconds until the first ready-but-not-yet-available pod becomes available, if any. */
export function nextAvailableInMs(pods: readonly Pod[], minReadySeconds: number, nowMs: number): number | undefined {
  if (minReadySeconds <= 0) return undefined;
  let soonest: number | undefined;
  for (const pod of pods) {
    const since = podReadySince(pod);
    if (since === undefined || isPodAvailable(pod, minReadySeconds, nowMs)) continue;
    // +1: availability needs the instant strictly after the threshold.
    const wait = Math.max(1, since + minReadySeconds * 1000 - nowMs + 1);
    soonest = soonest === undefined ? wait : Math.min(soonest, wait);
  }
  return soonest;
}

export function maxRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((status) => status.restartCount ?? 0));
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const value = Number(pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION]);
  return Number.isInteger(value) ? value : 0;
}

const timeOf = (value: string | undefined): number | undefined => {
  const at = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
};

/** Empty sorts first, then the later time (Kubernetes' afterOrZero). */
function laterFirst(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return b - a;
}

/**
 * controller.ActivePodsWithRanks: the pod to delete first sorts first. Unassigned < assigned;
 * Pending < Unknown < Running; not ready < ready; lower deletion cost first; more pods of the
 * same workload on its node first (rank); ready for less time first; more restarts first; newer
 * first. (Kubernetes buckets the last two times logarithmically; pm8s compares them plainly.)
 */
export function compareForDeletion(a: Pod, b: Pod, rankOf: (pod: Pod) => number = () => 0): number {
  const nodeA = a.spec.nodeName ?? '';
  const nodeB = b.spec.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;
  const phaseA = PHASE_ORDER[a.status?.phase ?? 'Pending'] ?? 0;
  const phaseB = PHASE_ORDER[b.status?.phase ?? 'Pending'] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a);
  if (readyA !== isPodReady(b)) return readyA ? 1 : -1;
  const costA = deletionCost(a);
  const costB = deletionCost(b);
  if (costA !== costB) return costA - costB;
  const rankA = rankOf(a);
  const rankB = rankOf(b);
  if (rankA !== rankB) return rankB - rankA;
  if (readyA) {
    const readyOrder = laterFirst(podReadySince(a), podReadySince(b));
    if (readyOrder !== 0) return readyOrder;
  }
  const restartsA = maxRestarts(a);
  const restartsB = maxRestarts(b);
  if (restartsA !== restartsB) return restartsB - restartsA;
  return laterFirst(timeOf(a.metadata.creationTimestamp), timeOf(b.metadata.creationTimestamp));
}
