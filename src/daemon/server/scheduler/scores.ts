/**
 * Scores (kube-scheduler's Score plugins) as pure functions, each 0–100 per node, summed with
 * Kubernetes' default weights: least-allocated ×1, spreading a workload's pods ×2, PreferNoSchedule
 * taints ×1. The best node wins; ties go to the node with fewer pods, then the name, so the
 * outcome is reproducible.
 */
import type { SchedulingPod } from './filters.js';
import { tolerates } from './filters.js';
import type { NodeInfo } from './node-info.js';

export const MAX_SCORE = 100;
const WEIGHTS = { leastAllocated: 1, spread: 2, taints: 1 };

/** NodeResourcesFit LeastAllocated: the free share of cpu and memory after placing the pod, averaged. */
export function leastAllocatedScore({ request }: SchedulingPod, node: NodeInfo): number {
  const free = (allocatable: number, requested: number): number =>
    allocatable <= 0 ? 0 : Math.max(0, ((allocatable - requested) * MAX_SCORE) / allocatable);
  return (
    (free(node.allocatable.milliCpu, node.nonZeroRequested.milliCpu + request.nonZeroMilliCpu) +
      free(node.allocatable.memory, node.nonZeroRequested.memory + request.nonZeroMemory)) /
    2
  );
}

/** SelectorSpread: nodes with fewer pods of the same owner score higher; all equal when there is no owner. */
export function spreadScores({ request }: SchedulingPod, nodes: readonly NodeInfo[]): number[] {
  const owner = request.ownerUid;
  if (!owner) return nodes.map(() => MAX_SCORE);
  const counts = nodes.map((node) => node.owners.get(owner) ?? 0);
  const most = Math.max(0, ...counts);
  return counts.map((count) => (most === 0 ? MAX_SCORE : ((most - count) * MAX_SCORE) / most));
}

/** Untolerated PreferNoSchedule taints on the node. */
export function preferNoScheduleCount({ pod }: SchedulingPod, node: NodeInfo): number {
  const tolerations = (pod.spec.tolerations ?? []).filter((toleration) => !toleration.effect || toleration.effect === 'PreferNoSchedule');
  let count = 0;
  for (const taint of node.node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule' && !tolerations.some((toleration) => tolerates(toleration, taint))) count++;
  }
  return count;
}

/** TaintToleration's score: fewest untolerated PreferNoSchedule taints scores highest. */
export function taintScores(pod: SchedulingPod, nodes: readonly NodeInfo[]): number[] {
  const counts = nodes.map((node) => preferNoScheduleCount(pod, node));
  const most = Math.max(0, ...counts);
  return counts.map((count) => (most === 0 ? MAX_SCORE : ((most - count) * MAX_SCORE) / most));
}

/** Every feasible node's weighted total, in the order given. */
export function scoreNodes(pod: SchedulingPod, nodes: readonly NodeInfo[]): number[] {
  const spread = spreadScores(pod, nodes);
  const taints = taintScores(pod, nodes);
  return nodes.map(
    (node, index) => WEIGHTS.leastAllocated * leastAllocatedScore(pod, node) + WEIGHTS.spread * spread[index]! + WEIGHTS.taints * taints[index]!,
  );
}

/** The best of the feasible nodes (at least one). */
export function selectNode(pod: SchedulingPod, nodes: readonly NodeInfo[]): NodeInfo {
  const scores = scoreNodes(pod, nodes);
  let best = 0;
  for (let index = 1; index < nodes.length; index++) {
    const difference = scores[index]! - scores[best]!;
    const node = nodes[index]!;
    const leader = nodes[best]!;
    if (difference > 1e-9 || (Math.abs(difference) <= 1e-9 && (node.requested.pods < leader.requested.pods || (node.requested.pods === leader.requested.pods && node.name < leader.name)))) {
      best = index;
    }
  }
  return nodes[best]!;
}
