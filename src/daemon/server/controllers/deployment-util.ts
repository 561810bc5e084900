/**
 * Pure helpers of the Deployment controller (Kubernetes' pkg/controller/deployment/util):
 * annotations, the pod-template hash, fenceposts, conditions, orderings and proportions.
 */
import type { Condition } from '../../../api/kinds/common.js';
import type { Deployment, DeploymentStatus } from '../../../api/kinds/deployment.js';
import type { PodTemplateSpec } from '../../../api/kinds/pod.js';
import type { ReplicaSet } from '../../../api/kinds/replicaset.js';
import { clone, rfc3339 } from '../../../api/meta.js';
import { isRecord } from '../../../api/types.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const DEPRECATED_ROLLBACK_TO = 'deprecated.deployment.rollback.to';

/** Progressing/Available/ReplicaFailure reasons, as Kubernetes spells them. */
export const REASONS = {
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  replicaSetCreateError: 'ReplicaSetCreateError',
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

// --- the pod-template hash -----------------------------------------------------------------

/** JSON with sorted keys, leaving out undefined, empty objects and empty arrays (nil and empty are one to Kubernetes). */
export function canonicalJson(value: unknown): string {
  const normalize = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(normalize);
    if (!isRecord(item)) return item;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) {
      const child = normalize(item[key]);
      if (child === undefined || (Array.isArray(child) && child.length === 0) || (isRecord(child) && Object.keys(child).length === 0)) continue;
      out[key] = child;
    }
    return out;
  };
  return JSON.stringify(normalize(value)) ?? '';
}

function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character of the text becomes one that cannot spell words. */
export const safeEncode = (text: string): string => [...text].map((char) => SAFE_ALPHABET[char.charCodeAt(0) % SAFE_ALPHABET.length]).join('');

/**
 * controller.ComputeHash: fnv32a of the template (pm8s hashes its canonical JSON where Kubernetes
 * hashes a Go dump), then of collisionCount as 8 little-endian bytes, rendered with SafeEncodeString.
 */
export function computeHash(template: PodTemplateSpec, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncode(String(hash));
}

/** EqualIgnoreHash: the same template once both lose their pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  const strip = (template: PodTemplateSpec): PodTemplateSpec => {
    const copy = clone(template);
    if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    return copy;
  };
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

// --- revisions and annotations ---------------------------------------------------------------

export function revisionOf(object: { metadata: { annotations?: Record<string, string> } }): number {
  const value = Number(object.metadata.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

export const maxRevision = (sets: readonly ReplicaSet[]): number => Math.max(0, ...sets.map(revisionOf));

const skipCopy = (key: string): boolean =>
  [LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, DEPRECATED_ROLLBACK_TO].includes(key);

/** SetNewReplicaSetAnnotations on a mutable copy: the Deployment's annotations, a newer revision, replica counts for a new set. */
export function setNewReplicaSetAnnotations(deployment: Deployment, set: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const annotations = (set.metadata.annotations ??= {});
  let changed = false;
  for (const [key, value] of Object.entries(deployment.metadata.annotations ?? {})) {
    if (skipCopy(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldRevision = revisionOf(set);
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    // A set that comes back (a rollback) remembers the revisions it had.
    if (oldRevision > 0) {
      const history = annotations[REVISION_HISTORY_ANNOTATION];
      annotations[REVISION_HISTORY_ANNOTATION] = history ? `${history},${oldRevision}` : String(oldRevision);
    }
    changed = true;
  }
  if (!exists && setReplicasAnnotations(set, deployment.spec.replicas ?? 1, (deployment.spec.replicas ?? 1) + maxSurge(deployment))) changed = true;
  return changed;
}

/** desired-replicas and max-replicas, which proportional scaling reads back. */
export function setReplicasAnnotations(set: ReplicaSet, desired: number, max: number): boolean {
  const annotations = (set.metadata.annotations ??= {});
  let changed = false;
  for (const [key, value] of [[DESIRED_REPLICAS_ANNOTATION, String(desired)], [MAX_REPLICAS_ANNOTATION, String(max)]] as const) {
    if (annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  return changed;
}

function intAnnotation(set: ReplicaSet, key: string): number | undefined {
  const value = Number(set.metadata.annotations?.[key]);
  return set.metadata.annotations?.[key] !== undefined && Number.isInteger(value) ? value : undefined;
}

// --- fenceposts ------------------------------------------------------------------------------

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const percent = Number(value.replace(/%$/, ''));
  const exact = (percent * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** ResolveFenceposts: surge rounds up, unavailable down; both 0 becomes unavailable 1. */
export function resolveFenceposts(deployment: Deployment): { surge: number; unavailable: number } {
  const rolling = deployment.spec.strategy?.rollingUpdate;
  const desired = deployment.spec.replicas ?? 1;
  const surge = scaledValue(rolling?.maxSurge ?? '25%', desired, true);
  const unavailable = scaledValue(rolling?.maxUnavailable ?? '25%', desired, false);
  return surge === 0 && unavailable === 0 ? { surge, unavailable: 1 } : { surge, unavailable };
}

export const isRollingUpdate = (deployment: Deployment): boolean => (deployment.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export const maxSurge = (deployment: Deployment): number => (isRollingUpdate(deployment) ? resolveFenceposts(deployment).surge : 0);

export function maxUnavailable(deployment: Deployment): number {
  const desired = deployment.spec.replicas ?? 1;
  if (!isRollingUpdate(deployment) || desired === 0) return 0;
  return Math.min(resolveFenceposts(deployment).unavailable, desired);
}

// --- conditions ------------------------------------------------------------------------------

export const getCondition = (status: DeploymentStatus, type: string): Condition | undefined => status.conditions?.find((condition) => condition.type === type);

export function newCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: Date): Condition {
  return { type, status, lastUpdateTime: rfc3339(now), lastTransitionTime: rfc3339(now), reason, message };
}

/** SetDeploymentCondition: same status and reason is no change; same status keeps its transition time. */
export function setCondition(status: DeploymentStatus, condition: Condition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = current && current.status === condition.status ? { ...condition, lastTransitionTime: current.lastTransitionTime } : condition;
  status.conditions = [...(status.conditions ?? []).filter((existing) => existing.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((condition) => condition.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

export const hasProgressDeadline = (deployment: Deployment): boolean =>
  deployment.spec.progressDeadlineSeconds !== undefined && deployment.spec.progressDeadlineSeconds !== 2147483647;

/** DeploymentComplete: every replica updated and available, and this generation observed. */
export function deploymentComplete(deployment: Deployment, status: DeploymentStatus): boolean {
  const desired = deployment.spec.replicas ?? 1;
  return (status.updatedReplicas ?? 0) === desired && (status.replicas ?? 0) === desired && (status.availableReplicas ?? 0) === desired && (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 1);
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available pods than last time. */
export function deploymentProgressing(deployment: Deployment, next: DeploymentStatus): boolean {
  const previous = deployment.status ?? {};
  const oldOf = (status: DeploymentStatus) => (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (previous.updatedReplicas ?? 0) ||
    oldOf(next) < oldOf(previous) ||
    (next.readyReplicas ?? 0) > (previous.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (previous.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: no progress recorded for progressDeadlineSeconds. */
export function deploymentTimedOut(deployment: Deployment, status: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(deployment)) return false;
  const condition = getCondition(status, 'Progressing');
  if (!condition || condition.reason === REASONS.newReplicaSetAvailable) return false;
  if (condition.reason === REASONS.timedOut) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + (deployment.spec.progressDeadlineSeconds ?? 0) * 1000 < now.getTime();
}

// --- orderings and proportions -----------------------------------------------------------------

const createdAt = (set: ReplicaSet): number => Date.parse(set.metadata.creationTimestamp ?? '') || 0;

/** ReplicaSetsByCreationTimestamp: oldest first, ties by name. */
export const byCreation = (a: ReplicaSet, b: ReplicaSet): number => createdAt(a) - createdAt(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/** ReplicaSetsByRevision: lowest revision first. */
export const byRevision = (a: ReplicaSet, b: ReplicaSet): number => revisionOf(a) - revisionOf(b) || byCreation(a, b);

const replicasOf = (set: ReplicaSet): number => set.spec.replicas ?? 0;

/** Larger first; among equals, newer first (scaling up) or older first (scaling down). */
export const bySizeNewer = (a: ReplicaSet, b: ReplicaSet): number => replicasOf(b) - replicasOf(a) || byCreation(b, a);
export const bySizeOlder = (a: ReplicaSet, b: ReplicaSet): number => replicasOf(b) - replicasOf(a) || byCreation(a, b);

/** GetProportion: this set's share of `toAdd`, never past what is left to add. */
export function proportionOf(set: ReplicaSet, deployment: Deployment, toAdd: number, added: number): number {
  if (replicasOf(set) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(set, deployment);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(set: ReplicaSet, deployment: Deployment): number {
  const desired = deployment.spec.replicas ?? 1;
  if (desired === 0) return -replicasOf(set);
  const deploymentReplicas = desired + maxSurge(deployment);
  const annotated = intAnnotation(set, MAX_REPLICAS_ANNOTATION) ?? deployment.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  // Go's math.Round rounds halves away from zero, as Math.round does for the positive sizes here.
  return Math.round((replicasOf(set) * deploymentReplicas) / annotated) - replicasOf(set);
}

/** IsSaturated: the new set alone runs every replica, all available. */
export function isSaturated(deployment: Deployment, set: ReplicaSet | undefined): boolean {
  if (!set) return false;
  const desired = deployment.spec.replicas ?? 1;
  return intAnnotation(set, DESIRED_REPLICAS_ANNOTATION) === desired && replicasOf(set) === desired && (set.status?.availableReplicas ?? 0) === desired;
}

export const desiredReplicasOf = (set: ReplicaSet): number | undefined => intAnnotation(set, DESIRED_REPLICAS_ANNOTATION);
