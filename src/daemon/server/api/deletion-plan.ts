/**
 * What a DELETE does to an object (Kubernetes' registry Store.Delete): remove it now, or only mark it
 * (deletionTimestamp) while finalizers — the garbage collector's `orphan` and `foregroundDeletion`
 * among them, and a namespace's spec.finalizers — or a pod's grace period still hold it.
 */
import { clone, rfc3339 } from '../../../api/meta.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import type { PropagationPolicy } from './delete-options.js';
import { sameJson } from './object-codec.js';

/** metav1.FinalizerOrphanDependents: the garbage collector orphans the dependents, then removes it. */
export const ORPHAN_FINALIZER = 'orphan';
/** metav1.FinalizerDeleteDependents: the garbage collector deletes the blocking dependents first. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** The namespace controller's entry in a namespace's spec.finalizers: removed once the namespace is empty. */
export const NAMESPACE_FINALIZER = 'kubernetes';

export type DeletionPlan = { action: 'keep' } | { action: 'remove' } | { action: 'mark'; object: KubeObject };

/** metadata.finalizers after a DELETE with this policy (Kubernetes' deletionFinalizersForGarbageCollection). */
export function deletionFinalizers(existing: readonly string[], policy: PropagationPolicy | undefined): string[] {
  // Without an explicit policy a GC finalizer set earlier decides; the default (Background) adds none.
  if (policy === undefined) return [...existing];
  const kept = existing.filter((finalizer) => finalizer !== ORPHAN_FINALIZER && finalizer !== FOREGROUND_FINALIZER);
  if (policy === 'Orphan') kept.push(ORPHAN_FINALIZER);
  if (policy === 'Foreground') kept.push(FOREGROUND_FINALIZER);
  // The same set in another order is no change (no write).
  const same = kept.length === existing.length && kept.every((finalizer) => existing.includes(finalizer));
  return same ? [...existing] : kept;
}

/** A namespace's spec.finalizers (not metadata.finalizers). */
export function namespaceFinalizers(object: KubeObject): string[] {
  const spec = isRecord(object.spec) ? object.spec : {};
  return Array.isArray(spec.finalizers) ? spec.finalizers.filter((finalizer): finalizer is string => typeof finalizer === 'string') : [];
}

/**
 * Whether an object being deleted is held by nothing any more, so an update that leaves it so removes
 * it. A graceful deletion still running (grace > 0) waits for its own confirmation, as in Kubernetes.
 */
export function deletionFinished(object: KubeObject): boolean {
  const metadata = object.metadata;
  if (metadata.deletionTimestamp === undefined || (metadata.finalizers ?? []).length > 0) return false;
  if (object.kind === 'Namespace' && namespaceFinalizers(object).length > 0) return false;
  return (metadata.deletionGracePeriodSeconds ?? 0) === 0;
}

/**
 * @param graceSeconds the grace period when the object must go gracefully (a pod on a live node), else undefined.
 */
export function planDeletion(current: KubeObject, policy: PropagationPolicy | undefined, graceSeconds: number | undefined, now: Date): DeletionPlan {
  const metadata = current.metadata;
  const deleting = metadata.deletionTimestamp !== undefined;
  // A graceful deletion under way may only be shortened (or made immediate: grace 0); repeats change nothing.
  const graceUnderWay = metadata.deletionGracePeriodSeconds ?? 0;
  if (graceSeconds !== undefined && deleting && graceUnderWay > 0 && graceSeconds >= graceUnderWay) return { action: 'keep' };
  const finalizers = deletionFinalizers(metadata.finalizers ?? [], policy);
  const held = finalizers.length > 0 || (current.kind === 'Namespace' && namespaceFinalizers(current).length > 0);
  if (!held && graceSeconds === undefined) return { action: 'remove' };
  const marked = clone(current);
  if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
  else delete marked.metadata.finalizers;
  // Kubernetes' BeforeDelete: deletionTimestamp is the moment the object should be gone (the request
  // plus its grace period); held by finalizers alone means grace 0; a grace period may only shrink,
  // moving that moment earlier by as much.
  const grace = graceSeconds ?? 0;
  if (!deleting) {
    marked.metadata.deletionTimestamp = rfc3339(now.getTime() + grace * 1000);
    marked.metadata.deletionGracePeriodSeconds = grace;
  } else if (metadata.deletionGracePeriodSeconds === undefined || grace < metadata.deletionGracePeriodSeconds) {
    const requested = Date.parse(metadata.deletionTimestamp!) - (metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    if (!Number.isNaN(requested)) marked.metadata.deletionTimestamp = rfc3339(requested + grace * 1000);
    marked.metadata.deletionGracePeriodSeconds = grace;
  }
  if (current.kind === 'Namespace') marked.status = { ...(isRecord(current.status) ? current.status : {}), phase: 'Terminating' };
  if (sameJson(marked, current)) return { action: 'keep' };
  delete marked.metadata.resourceVersion;
  return { action: 'mark', object: marked };
}

/**
 * Kubernetes changes a namespace's spec.finalizers only through `namespaces/{name}/finalize`; pm8s lets
 * a plain update do it, but only once the namespace is being deleted, so a replace of a live namespace
 * cannot drop the `kubernetes` finalizer and with it the cleanup of its contents.
 */
export function keepNamespaceFinalizers(next: KubeObject, current: KubeObject): void {
  if (current.metadata.deletionTimestamp !== undefined) return;
  const kept = namespaceFinalizers(current);
  if (isRecord(next.spec)) {
    if (kept.length > 0) next.spec.finalizers = kept;
    else delete next.spec.finalizers;
  } else if (next.spec === undefined && kept.length > 0) {
    next.spec = { finalizers: kept };
  }
}
