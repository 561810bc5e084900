/**
 * A Deployment's status from its ReplicaSets (Kubernetes' calculateStatus and syncRolloutStatus in
 * pkg/controller/deployment): counts, the Available condition, and Progressing measured against
 * progressDeadlineSeconds.
 */
import type { Deployment, DeploymentStatus } from '../../../api/kinds/deployment.js';
import type { ReplicaSet } from '../../../api/kinds/replicaset.js';
import { clone } from '../../../api/meta.js';
import type { ReconcileResult } from './controller.js';
import {
  REASONS, byCreation, deploymentComplete, deploymentProgressing, deploymentTimedOut, getCondition, hasProgressDeadline, maxUnavailable, newCondition,
  removeCondition, setCondition,
} from './deployment-util.js';

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** calculateStatus: counts from the sets' own status, and Available against maxUnavailable. */
export function calculateStatus(deployment: Deployment, sets: readonly ReplicaSet[], newSet: ReplicaSet | undefined, now: Date): DeploymentStatus {
  const desired = deployment.spec.replicas ?? 1;
  const available = sum(sets.map((set) => set.status?.availableReplicas ?? 0));
  const status: DeploymentStatus = {
    observedGeneration: deployment.metadata.generation ?? 1,
    replicas: sum(sets.map((set) => set.status?.replicas ?? 0)),
    updatedReplicas: newSet?.status?.replicas ?? 0,
    readyReplicas: sum(sets.map((set) => set.status?.readyReplicas ?? 0)),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum(sets.map((set) => set.spec.replicas ?? 0)) - available),
    ...(deployment.status?.collisionCount === undefined ? {} : { collisionCount: deployment.status.collisionCount }),
    ...(deployment.status?.conditions ? { conditions: clone(deployment.status.conditions) } : {}),
  };
  if (available >= desired - maxUnavailable(deployment)) {
    setCondition(status, newCondition('Available', 'True', REASONS.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', REASONS.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

/** syncRolloutStatus: calculateStatus plus Progressing (complete, progressing or timed out) and ReplicaFailure. */
export function rolloutStatus(deployment: Deployment, sets: readonly ReplicaSet[], newSet: ReplicaSet | undefined, now: Date): DeploymentStatus {
  const status = calculateStatus(deployment, sets, newSet, now);
  if (!hasProgressDeadline(deployment)) removeCondition(status, 'Progressing');
  const current = getCondition(deployment.status ?? {}, 'Progressing');
  // A finished rollout seen again (a resync) says nothing new about progress.
  const complete = status.replicas === status.updatedReplicas && current?.reason === REASONS.newReplicaSetAvailable;
  if (hasProgressDeadline(deployment) && !complete) {
    const subject = newSet ? `ReplicaSet "${newSet.metadata.name}"` : `Deployment "${deployment.metadata.name}"`;
    if (deploymentComplete(deployment, status)) {
      setCondition(status, newCondition('Progressing', 'True', REASONS.newReplicaSetAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(deployment, status)) {
      // Progress moves lastUpdateTime even when the reason stays: the deadline is measured from it.
      const condition = newCondition('Progressing', 'True', REASONS.replicaSetUpdated, `${subject} is progressing.`, now);
      if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
      removeCondition(status, 'Progressing');
      setCondition(status, condition);
    } else if (deploymentTimedOut(deployment, status, now)) {
      setCondition(status, newCondition('Progressing', 'False', REASONS.timedOut, `${subject} has timed out progressing.`, now));
    }
  }
  // The new set's failure first, then the oldest old one's.
  const ordered = [...(newSet ? [newSet] : []), ...sets.filter((set) => set !== newSet).sort(byCreation)];
  const failure = ordered.map((set) => set.status?.conditions?.find((condition) => condition.type === 'ReplicaFailure')).find(Boolean);
  if (failure) setCondition(status, { ...failure, lastUpdateTime: failure.lastTransitionTime });
  else removeCondition(status, 'ReplicaFailure');
  return status;
}

/** requeueStuckDeployment: when to look again so the deadline is noticed even if nothing else happens. */
export function deadlineRequeue(deployment: Deployment, status: DeploymentStatus, now: Date): ReconcileResult {
  const condition = getCondition(status, 'Progressing');
  if (!hasProgressDeadline(deployment) || !condition || deploymentComplete(deployment, status) || condition.reason === REASONS.timedOut) return;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return;
  const after = from + (deployment.spec.progressDeadlineSeconds ?? 0) * 1000 - now.getTime();
  // Timestamps have whole seconds and the deadline is "strictly after": look a little past it.
  return { requeueAfterMs: Math.max(100, after + 1000) };
}
