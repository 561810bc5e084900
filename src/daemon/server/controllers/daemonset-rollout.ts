/**
 * What a DaemonSet sync decides, as pure functions of the cached state (Kubernetes' manage,
 * rollingUpdate and updateDaemonSetStatus): which pods to delete, which nodes need a pod, and the
 * status numbers. The controller performs the writes.
 */
import type { DaemonSet, DaemonSetStatus } from '../../../api/kinds/daemonset.js';
import type { Node } from '../../../api/kinds/node.js';
import type { Pod } from '../../../api/kinds/pod.js';
import { isPodReady, isPodUpdated, nodeShouldRunDaemonPod, podAvailability, scaledValue } from './daemonset-placement.js';

/** A DaemonSet's pods by the node they run on (or are pinned to). */
export type PodsByNode = ReadonlyMap<string, readonly Pod[]>;

export interface Plan {
  deletePods: Pod[];
  createOn: string[];
  /** Failed pods being deleted, for the FailedDaemonPod event. */
  failedPods: Array<{ pod: Pod; nodeName: string }>;
  /** Look again after this long (a pod becoming available, a failed-pod backoff ending). */
  requeueAfterMs?: number;
}

/** Whether a failed pod on this node may be deleted now, or how long its backoff still runs. */
export type FailedPodGate = (nodeName: string) => { allowed: true } | { allowed: false; waitMs: number };

const emptyPlan = (): Plan => ({ deletePods: [], createOn: [], failedPods: [] });

const earliest = (current: number | undefined, candidate: number | undefined): number | undefined =>
  candidate === undefined ? current : current === undefined ? candidate : Math.min(current, candidate);

const nameOf = (node: Node): string => node.metadata.name ?? '';

/** podByCreationTimestampAndPhase: bound pods first, then oldest, then by name. */
export function sortDaemonPods(pods: readonly Pod[]): Pod[] {
  const created = (pod: Pod): number => Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
  return [...pods].sort((a, b) => {
    const bound = Number(Boolean(b.spec.nodeName)) - Number(Boolean(a.spec.nodeName));
    if (bound !== 0) return bound;
    const age = created(a) - created(b);
    if (age !== 0) return age;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
}

const isTerminating = (pod: Pod): boolean => pod.metadata.deletionTimestamp !== undefined;

/** AllowsSurge: a RollingUpdate whose maxSurge is not zero. */
export function allowsSurge(daemonSet: DaemonSet): boolean {
  const strategy = daemonSet.spec.updateStrategy;
  return strategy?.type === 'RollingUpdate' && scaledValue(strategy.rollingUpdate?.maxSurge, 1, true) !== 0;
}

/**
 * manage/podsShouldBeOnNode: a pod for every eligible node without one; failed and finished pods
 * replaced; all but one pod per node removed (two while surging); pods off eligible nodes removed.
 */
export function planManage(daemonSet: DaemonSet, nodes: readonly Node[], byNode: PodsByNode, hash: string, nowMs: number, failedGate: FailedPodGate): Plan {
  const plan = emptyPlan();
  const surge = allowsSurge(daemonSet);
  const minReadySeconds = daemonSet.spec.minReadySeconds ?? 0;
  const known = new Set<string>();
  for (const node of nodes) {
    const nodeName = nameOf(node);
    known.add(nodeName);
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, daemonSet);
    const daemonPods = byNode.get(nodeName) ?? [];
    if (shouldRun && daemonPods.length === 0) {
      plan.createOn.push(nodeName);
      continue;
    }
    if (!shouldContinueRunning) {
      plan.deletePods.push(...daemonPods.filter((pod) => !isTerminating(pod)));
      continue;
    }
    const running: Pod[] = [];
    for (const pod of daemonPods) {
      if (isTerminating(pod)) continue;
      if (pod.status?.phase === 'Failed') {
        // Kubelets may keep rejecting a pod: back off per node rather than hot-loop on recreating it.
        const gate = failedGate(nodeName);
        if (gate.allowed) {
          plan.deletePods.push(pod);
          plan.failedPods.push({ pod, nodeName });
        } else {
          plan.requeueAfterMs = earliest(plan.requeueAfterMs, gate.waitMs);
        }
      } else if (pod.status?.phase === 'Succeeded') {
        plan.deletePods.push(pod);
      } else {
        running.push(pod);
      }
    }
    if (!surge) {
      plan.deletePods.push(...sortDaemonPods(running).slice(1));
      continue;
    }
    if (running.length <= 1) {
      if (running.length === 0 && shouldRun) plan.createOn.push(nodeName);
      continue;
    }
    // While surging a node may hold one old and one new pod: keep the old one only while the new is not available.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const pod of sortDaemonPods(running)) {
      if (isPodUpdated(pod, hash) && !oldestNew) oldestNew = pod;
      else if (!isPodUpdated(pod, hash) && !oldestOld) oldestOld = pod;
      else plan.deletePods.push(pod);
    }
    if (oldestNew && oldestOld) {
      const newAvailability = podAvailability(oldestNew, minReadySeconds, nowMs);
      if (!isPodReady(oldestOld) || newAvailability.available) plan.deletePods.push(oldestOld);
      else plan.requeueAfterMs = earliest(plan.requeueAfterMs, newAvailability.waitMs);
    }
  }
  // Pods for nodes that are gone (Kubernetes leaves bound ones to its pod GC; pm8s has none).
  for (const [nodeName, daemonPods] of byNode) {
    if (!known.has(nodeName)) plan.deletePods.push(...daemonPods.filter((pod) => !isTerminating(pod)));
  }
  return plan;
}

/** findUpdatedPodsOnNode: at most one new and one old live pod, else undefined (manage cleans up first). */
function updatedPodsOnNode(pods: readonly Pod[], hash: string): { newPod?: Pod; oldPod?: Pod } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (isTerminating(pod)) continue;
    if (isPodUpdated(pod, hash)) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

/**
 * rollingUpdate: replace old pods so that at most maxUnavailable eligible nodes lack an available
 * pod (maxSurge 0: delete, and manage recreates), or create up to maxSurge new pods beside old ones.
 */
export function planRollingUpdate(daemonSet: DaemonSet, nodes: readonly Node[], byNode: PodsByNode, hash: string, nowMs: number): Plan {
  const plan = emptyPlan();
  const minReadySeconds = daemonSet.spec.minReadySeconds ?? 0;
  const rolling = daemonSet.spec.updateStrategy?.rollingUpdate;
  const nodesByName = new Map(nodes.map((node) => [nameOf(node), node]));
  // Every node with pods, plus every eligible node without one (it counts as unavailable).
  const nodePods = new Map<string, readonly Pod[]>(byNode);
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, daemonSet).shouldRun) continue;
    desired++;
    if (!nodePods.has(nameOf(node))) nodePods.set(nameOf(node), []);
  }
  let maxUnavailable = scaledValue(rolling?.maxUnavailable, desired, true);
  const maxSurge = scaledValue(rolling?.maxSurge, desired, true);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  const available = (pod: Pod): boolean => {
    const availability = podAvailability(pod, minReadySeconds, nowMs);
    plan.requeueAfterMs = earliest(plan.requeueAfterMs, availability.waitMs);
    return availability.available;
  };

  if (maxSurge === 0) {
    let unavailable = 0;
    const replaceNow: Pod[] = [];
    const candidates: Pod[] = [];
    for (const pods of nodePods.values()) {
      const found = updatedPodsOnNode(pods, hash);
      if (!found || (!found.newPod && !found.oldPod) || (found.newPod && found.oldPod)) {
        unavailable++;
      } else if (found.newPod) {
        if (!available(found.newPod)) unavailable++;
      } else if (found.oldPod) {
        // An old pod that is not available costs nothing to replace.
        if (!available(found.oldPod)) replaceNow.push(found.oldPod);
        else candidates.push(found.oldPod);
      }
    }
    const budget = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    plan.deletePods.push(...replaceNow, ...sortDaemonPods(candidates).slice(0, budget));
    return plan;
  }

  let surging = 0;
  let availableCount = 0;
  const allowedNewNodes: string[] = [];
  const candidateNodes: string[] = [];
  const shouldNotRun: Pod[] = [];
  for (const [nodeName, pods] of nodePods) {
    const found = updatedPodsOnNode(pods, hash);
    if (!found) {
      surging++;
      continue;
    }
    const { newPod, oldPod } = found;
    if ((oldPod && available(oldPod)) || (!oldPod && newPod && available(newPod))) availableCount++;
    if (!oldPod) continue;
    const node = nodesByName.get(nodeName);
    const shouldRun = node !== undefined && nodeShouldRunDaemonPod(node, daemonSet).shouldRun;
    if (!newPod) {
      if (!available(oldPod)) {
        if (shouldRun) allowedNewNodes.push(nodeName);
        else plan.deletePods.push(oldPod);
      } else if (!shouldRun) {
        shouldNotRun.push(oldPod);
      } else if (surging < maxSurge) {
        candidateNodes.push(nodeName);
      }
    } else if (!available(newPod)) {
      surging++;
    } else {
      plan.deletePods.push(oldPod);
    }
  }
  // Old pods on nodes no longer eligible go only once enough pods elsewhere are available.
  plan.deletePods.push(...shouldNotRun.slice(0, Math.max(0, availableCount - desired)));
  const budget = Math.min(Math.max(0, maxSurge - surging), candidateNodes.length);
  plan.createOn.push(...allowedNewNodes, ...candidateNodes.sort().slice(0, budget));
  return plan;
}

export type DaemonSetCounts = Required<Pick<DaemonSetStatus,
  'currentNumberScheduled' | 'numberMisscheduled' | 'desiredNumberScheduled' | 'numberReady' | 'updatedNumberScheduled' | 'numberAvailable' | 'numberUnavailable'>>;

/** updateDaemonSetStatus: counts over nodes, judging each by its oldest (bound first) pod. */
export function computeCounts(daemonSet: DaemonSet, nodes: readonly Node[], byNode: PodsByNode, hash: string, nowMs: number): { counts: DaemonSetCounts; requeueAfterMs?: number } {
  const counts: DaemonSetCounts = {
    currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0, updatedNumberScheduled: 0, numberAvailable: 0, numberUnavailable: 0,
  };
  let requeueAfterMs: number | undefined;
  for (const node of nodes) {
    const daemonPods = byNode.get(nameOf(node)) ?? [];
    if (!nodeShouldRunDaemonPod(node, daemonSet).shouldRun) {
      if (daemonPods.length > 0) counts.numberMisscheduled++;
      continue;
    }
    counts.desiredNumberScheduled++;
    const pod = sortDaemonPods(daemonPods)[0];
    if (!pod) continue;
    counts.currentNumberScheduled++;
    if (isPodReady(pod)) {
      counts.numberReady++;
      const availability = podAvailability(pod, daemonSet.spec.minReadySeconds ?? 0, nowMs);
      if (availability.available) counts.numberAvailable++;
      requeueAfterMs = earliest(requeueAfterMs, availability.waitMs);
    }
    if (isPodUpdated(pod, hash)) counts.updatedNumberScheduled++;
  }
  counts.numberUnavailable = counts.desiredNumberScheduled - counts.numberAvailable;
  return requeueAfterMs === undefined ? { counts } : { counts, requeueAfterMs };
}
