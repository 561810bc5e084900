/**
 * Garbage collector (Kubernetes' pkg/controller/garbagecollector): makes ownerReferences cascade.
 *
 * - Background: an object none of whose owners exists any more (by uid: a new owner of the same name
 *   does not count) is deleted, with Background again, so chains cascade (Deployment → ReplicaSets → Pods).
 * - Foreground: an owner marked with the `foregroundDeletion` finalizer has its dependents deleted
 *   first; the finalizer goes (and with it the owner) once no dependent with blockOwnerDeletion remains.
 * - Orphan: an owner marked with the `orphan` finalizer has its reference removed from every
 *   dependent, then the finalizer goes.
 *
 * An owner missing from the caches may just not have been seen yet: absence is confirmed with a live
 * GET (404, or another uid) before anything is deleted, as Kubernetes' attemptToDeleteItem does.
 */
import type { PropagationPolicy } from '../api/delete-options.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../api/deletion-plan.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject, OwnerReference } from '../../../api/types.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import type { ObjectRef, OwnerState } from './garbage-collector-refs.js';
import {
  COLLECTED_RESOURCES,
  collectorKey,
  getSame,
  isNotFound,
  ownerTarget,
  parseCollectorKey,
  stateOfOwner,
  updateObject,
  withoutFinalizer,
  withoutOwners,
} from './garbage-collector-refs.js';
import type { WorkQueue } from './work-queue.js';

/** A foreground owner still waiting looks again this often, in case an event was missed (events drive it otherwise). */
const FOREGROUND_RECHECK_MS = 5000;

interface Dependent {
  info: ResourceInfo;
  object: KubeObject;
}

/** Whether an update can change what the collector decides about the object or its owners. */
function ownershipChanged(old: KubeObject, next: KubeObject): boolean {
  return (
    old.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
    JSON.stringify(old.metadata.ownerReferences ?? []) !== JSON.stringify(next.metadata.ownerReferences ?? []) ||
    JSON.stringify(old.metadata.finalizers ?? []) !== JSON.stringify(next.metadata.finalizers ?? [])
  );
}

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  readonly workers = 4;

  setup(context: ControllerContext, queue: WorkQueue): void {
    const keyOf = (info: ResourceInfo, object: KubeObject) => collectorKey(info, object.metadata.namespace, object.metadata.name ?? '');
    // A dependent that changed or went may be what a foreground owner waits for.
    const wakeDeletingOwners = (object: KubeObject) => {
      for (const reference of object.metadata.ownerReferences ?? []) {
        const target = ownerTarget(object, reference);
        if (!target) continue;
        if (this.#cached(context, target)?.metadata.deletionTimestamp !== undefined) queue.add(collectorKey(target.info, target.namespace, target.name));
      }
    };
    for (const info of COLLECTED_RESOURCES) {
      context.informers
        .informer(info)
        .on('add', (object) => queue.add(keyOf(info, object)))
        .on('update', (old, object) => {
          if (!ownershipChanged(old, object)) return;
          queue.add(keyOf(info, object));
          wakeDeletingOwners(old);
          wakeDeletingOwners(object);
        })
        .on('delete', (object) => {
          wakeDeletingOwners(object);
          for (const dependent of this.#dependents(context, object)) queue.add(keyOf(dependent.info, dependent.object));
        });
    }
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const ref = parseCollectorKey(key);
    if (!ref) return;
    const object = context.informers.informer(ref.info).get(ref.namespace, ref.name);
    if (!object) return;
    if (object.metadata.deletionTimestamp !== undefined) {
      const finalizers = object.metadata.finalizers ?? [];
      if (finalizers.includes(ORPHAN_FINALIZER)) return this.#orphanDependents(context, ref.info, object);
      if (finalizers.includes(FOREGROUND_FINALIZER)) return this.#deleteDependentsFirst(context, ref.info, object);
      // Being deleted anyway: nothing for the collector to add.
      return;
    }
    await this.#collect(context, ref.info, object);
  }

  /** Deletes the object if no owner keeps it; drops references to owners gone or leaving when another owner stays. */
  async #collect(context: ControllerContext, info: ResourceInfo, cached: KubeObject): Promise<void> {
    const references = cached.metadata.ownerReferences ?? [];
    // The common case from the caches alone: every owner there, same uid, not leaving.
    if (references.every((reference) => this.#cachedState(context, cached, reference) === 'solid')) return;
    // Decide on the live object, as its references may have changed since the cache saw it.
    const live = await getSame(context.client, info, cached);
    if (!live || live.metadata.deletionTimestamp !== undefined) return;
    const liveReferences = live.metadata.ownerReferences ?? [];
    if (liveReferences.length === 0) return;
    const states = new Map<OwnerReference, OwnerState>();
    for (const reference of liveReferences) states.set(reference, await this.#ownerState(context, live, reference));
    const leaving = liveReferences.filter((reference) => states.get(reference) !== 'solid');
    if (leaving.length === 0) return;
    const uid = live.metadata.uid ?? '';
    if (leaving.length < liveReferences.length) {
      // Another owner still keeps it: only the references to owners gone or leaving go.
      const uids = new Set(leaving.map((reference) => reference.uid));
      await updateObject(context.client, info, live, (copy) => withoutOwners(copy, uids));
      context.logger.debug('removed owner references', { object: collectorKey(info, live.metadata.namespace, live.metadata.name ?? ''), owners: [...uids] });
      return;
    }
    // An owner waiting for its dependents makes a dependent with dependents of its own wait for them too;
    // otherwise an orphan/foreground finalizer already on the object is honoured, else Background.
    const waiting = leaving.some((reference) => states.get(reference) === 'waiting');
    const policy: PropagationPolicy = waiting && this.#dependents(context, live).length > 0 ? 'Foreground' : this.#ownPolicy(live);
    try {
      // The resourceVersion precondition makes sure nobody adopted the object since we looked.
      await context.client.delete(info, live.metadata.namespace, live.metadata.name ?? '', {
        propagationPolicy: policy,
        preconditions: { uid, resourceVersion: live.metadata.resourceVersion ?? '' },
      });
      context.logger.debug('deleted an object whose owners are gone', { object: collectorKey(info, live.metadata.namespace, live.metadata.name ?? ''), policy });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  #ownPolicy(object: KubeObject): PropagationPolicy {
    const finalizers = object.metadata.finalizers ?? [];
    if (finalizers.includes(ORPHAN_FINALIZER)) return 'Orphan';
    if (finalizers.includes(FOREGROUND_FINALIZER)) return 'Foreground';
    return 'Background';
  }

  /** Orphan: every dependent loses its reference to the owner, then the owner's `orphan` finalizer goes. */
  async #orphanDependents(context: ControllerContext, info: ResourceInfo, owner: KubeObject): Promise<void> {
    const uids = new Set([owner.metadata.uid ?? '']);
    await this.#forEach(this.#dependents(context, owner), (dependent) => updateObject(context.client, dependent.info, dependent.object, (copy) => withoutOwners(copy, uids)));
    await updateObject(context.client, info, owner, (copy) => withoutFinalizer(copy, ORPHAN_FINALIZER));
  }

  /** Foreground: dependents are deleted first; the owner's finalizer goes once no blocking dependent remains. */
  async #deleteDependentsFirst(context: ControllerContext, info: ResourceInfo, owner: KubeObject): Promise<ReconcileResult> {
    const pending = this.#dependents(context, owner).filter((dependent) => dependent.object.metadata.deletionTimestamp === undefined);
    await this.#forEach(pending, (dependent) => this.#collect(context, dependent.info, dependent.object));
    const uid = owner.metadata.uid ?? '';
    const blocking = this.#dependents(context, owner).filter((dependent) =>
      (dependent.object.metadata.ownerReferences ?? []).some((reference) => reference.uid === uid && reference.blockOwnerDeletion === true),
    );
    if (blocking.length > 0) return { requeueAfterMs: FOREGROUND_RECHECK_MS };
    await updateObject(context.client, info, owner, (copy) => withoutFinalizer(copy, FOREGROUND_FINALIZER));
    return undefined;
  }

  /** Runs `work` for each item; the first failure is rethrown after all were tried (the key retries). */
  async #forEach<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    const failures = (await Promise.allSettled(items.map(work))).filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failures[0]) throw failures[0].reason;
  }

  /** The cached objects that name this owner (by uid), in its namespace when it has one. */
  #dependents(context: ControllerContext, owner: KubeObject): Dependent[] {
    const uid = owner.metadata.uid;
    if (!uid) return [];
    const namespace = owner.metadata.namespace;
    const dependents: Dependent[] = [];
    for (const info of COLLECTED_RESOURCES) {
      for (const object of context.informers.ownedBy(info, uid)) {
        if (namespace === undefined || object.metadata.namespace === namespace) dependents.push({ info, object });
      }
    }
    return dependents;
  }

  /** The owner's state from the caches only; undefined when the cache cannot tell (absent, or another uid). */
  #cachedState(context: ControllerContext, dependent: KubeObject, reference: OwnerReference): OwnerState | undefined {
    const target = ownerTarget(dependent, reference);
    if (!target) return 'solid';
    return stateOfOwner(this.#cached(context, target), reference);
  }

  /** The owner's state, confirmed live when the cache cannot tell. */
  async #ownerState(context: ControllerContext, dependent: KubeObject, reference: OwnerReference): Promise<OwnerState> {
    const cached = this.#cachedState(context, dependent, reference);
    if (cached) return cached;
    const target = ownerTarget(dependent, reference)!;
    try {
      const live = await context.client.get(target.info, target.namespace, target.name);
      return stateOfOwner(live, reference) ?? 'dangling';
    } catch (error) {
      if (isNotFound(error)) return 'dangling';
      throw error;
    }
  }

  /** From the shared caches; undefined for a kind the collector does not watch (Events), which is then read live. */
  #cached(context: ControllerContext, target: ObjectRef): KubeObject | undefined {
    if (!COLLECTED_RESOURCES.includes(target.info)) return undefined;
    return context.informers.informer(target.info).get(target.namespace, target.name);
  }
}
