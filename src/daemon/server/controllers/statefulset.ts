/**
 * The StatefulSet controller (Kubernetes' stateful_set_control.go): pods `<name>-<ordinal>` with
 * stable names and per-ordinal claims; OrderedReady creates them one at a time in ordinal order and
 * removes them highest first, each step waiting for the one before; Parallel does each all at once.
 * RollingUpdate replaces pods from the highest ordinal down to the partition, one at a time.
 */
import type { ApiError } from '../../../api/errors.js';
import { clone } from '../../../api/meta.js';
import type { PodTemplateSpec } from '../../../api/kinds/pod.js';
import type { StatefulSet, StatefulSetStatus } from '../../../api/kinds/statefulset.js';
import { deepEqual, selectorOrUndefined } from '../../../api/kinds/common.js';
import { resolveResource } from '../../../api/resources.js';
import type { LabelSelector } from '../../../api/selectors.js';
import { matchesLabels } from '../../../api/selectors.js';
import type { KubeObject } from '../../../api/types.js';
import { byNamespace } from '../../../client/informer-index.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import { TerminalError, keyOf, splitKey } from './controller.js';
import { claimObjects, controllerOf } from './controller-ref.js';
import {
  POD_INDEX_LABEL,
  POD_NAME_LABEL,
  claimIsStale,
  claimOwnersFor,
  claimsFor,
  hasFinished,
  inOrdinalRange,
  isHealthy,
  isPending,
  isRunningAndReady,
  isTerminating,
  msUntilAvailable,
  newClaimOwners,
  newStatefulSetPod,
  parentAndOrdinal,
  podName,
  revisionName,
  revisionOf,
  startOrdinal,
  templateFromPod,
} from './statefulset-pods.js';
import type { WorkQueue } from './work-queue.js';

const statefulSets = resolveResource('statefulsets')!;
const pods = resolveResource('pods')!;
const claims = resolveResource('persistentvolumeclaims')!;

const ordinalOf = (pod: KubeObject): number => parentAndOrdinal(pod.metadata.name).ordinal;
const errorCode = (error: unknown): number | undefined => (error as ApiError).code;
const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** What one reconcile works with: the set, its revisions, and when to look again. */
interface Round {
  set: StatefulSet;
  context: ControllerContext;
  currentRevision: string;
  updateRevision: string;
  /** The set's pods as this round found them. */
  members: KubeObject[];
  requeueAfterMs: number;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';

  setup(context: ControllerContext, queue: WorkQueue): void {
    const setsByNamespace = context.informers.index(statefulSets, 'namespace', byNamespace);
    context.informers.index(pods, 'namespace', byNamespace);
    const enqueue = (set: KubeObject) => queue.add(keyOf(set));
    context.informers.informer(statefulSets).on('add', enqueue).on('update', (_old, set) => enqueue(set)).on('delete', enqueue);
    // A pod wakes its controlling set; an orphan wakes the sets that could adopt it.
    const enqueueFor = (pod: KubeObject) => {
      const owner = controllerOf(pod);
      if (owner) {
        if (owner.kind === 'StatefulSet') queue.add(`${pod.metadata.namespace}/${owner.name}`);
        return;
      }
      for (const set of setsByNamespace.get(pod.metadata.namespace ?? '')) if (couldOwn(set as StatefulSet, pod)) enqueue(set);
    };
    context.informers.informer(pods)
      .on('add', enqueueFor)
      .on('update', (old, pod) => {
        if (controllerOf(old)?.uid !== controllerOf(pod)?.uid) enqueueFor(old);
        enqueueFor(pod);
      })
      .on('delete', enqueueFor);
    // A claim going away may be what a pod waits for before it can come back.
    const enqueueForClaim = (claim: KubeObject) => {
      for (const set of setsByNamespace.get(claim.metadata.namespace ?? '')) {
        const selector = selectorOrUndefined((set as StatefulSet).spec.selector);
        if (selector && matchesLabels(selector, claim.metadata.labels)) enqueue(set);
      }
    };
    context.informers.informer(claims).on('add', enqueueForClaim).on('update', (_old, claim) => enqueueForClaim(claim)).on('delete', enqueueForClaim);
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const set = context.informers.informer(statefulSets).get(namespace, name) as StatefulSet | undefined;
    // Gone: the garbage collector takes its pods; its claims stay unless they name it as owner.
    if (!set) return;
    const selector = selectorOrUndefined(set.spec.selector);
    if (!selector) throw new TerminalError(`StatefulSet ${key} has an invalid selector`);
    const members = await claimPods(set, selector, context);
    const updateRevision = revisionName(set);
    const round: Round = { set, context, currentRevision: set.status?.currentRevision || updateRevision, updateRevision, members, requeueAfterMs: Infinity };
    // A set being deleted only reports status, as in Kubernetes.
    if (!set.metadata.deletionTimestamp) await updatePods(round);
    await writeStatus(round);
    return Number.isFinite(round.requeueAfterMs) ? { requeueAfterMs: round.requeueAfterMs } : undefined;
  }
}

/** isMemberOf plus the selector: the pods this set may own. */
function couldOwn(set: StatefulSet, pod: KubeObject, selector = selectorOrUndefined(set.spec.selector)): boolean {
  return selector !== undefined && parentAndOrdinal(pod.metadata.name).parent === set.metadata.name && matchesLabels(selector, pod.metadata.labels);
}

/** ClaimPods over the pods named like members (isMemberOf): adopts matching orphans, releases pods that stopped matching. */
async function claimPods(set: StatefulSet, selector: LabelSelector, context: ControllerContext): Promise<KubeObject[]> {
  const candidates = context.informers.index(pods, 'namespace').get(set.metadata.namespace ?? '').filter((pod) => parentAndOrdinal(pod.metadata.name).parent === set.metadata.name);
  return claimObjects(candidates, { client: context.client, info: pods, ownerInfo: statefulSets, owner: set, selector });
}

/** updateStatefulSet: create, delete and replace pods, stopping where the management policy says to wait. */
async function updatePods(round: Round): Promise<void> {
  const { set } = round;
  const start = startOrdinal(set);
  const count = set.spec.replicas ?? 1;
  const replicas: Array<KubeObject | undefined> = Array.from({ length: count }, () => undefined);
  const condemned: KubeObject[] = [];
  for (const pod of round.members) {
    const ordinal = ordinalOf(pod);
    if (ordinal < 0) continue;
    if (ordinal >= start && ordinal < start + count) replicas[ordinal - start] = pod;
    else condemned.push(pod);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  const monotonic = set.spec.podManagementPolicy !== 'Parallel';

  if (await runForAll(replicas.map((pod, index) => () => processReplica(round, pod, start + index, monotonic)), monotonic)) return;

  // Scale-down waits (OrderedReady) until every remaining pod is healthy, then goes highest ordinal first.
  const firstUnhealthy = [...condemned].reverse().find((pod) => !isHealthy(pod));
  const processCondemned = (pod: KubeObject) => async (): Promise<boolean> => {
    if (isTerminating(pod)) return monotonic;
    if (monotonic && !isRunningAndReady(pod) && pod !== firstUnhealthy) return true;
    await syncClaimOwners(round, pod, true);
    await deletePod(round, pod);
    return monotonic;
  };
  if (await runForAll(condemned.map(processCondemned), monotonic)) return;

  // OnDelete: pods take the new template only when someone deletes them.
  const strategy = set.spec.updateStrategy;
  if (strategy?.type === 'OnDelete') return;
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  for (let index = replicas.length - 1; index >= Math.max(0, partition); index--) {
    const pod = replicas[index];
    if (!pod) return;
    if (revisionOf(pod) !== round.updateRevision && !isTerminating(pod)) {
      await deletePod(round, pod);
      return;
    }
    if (!isHealthy(pod) || msUntilAvailable(pod, set.spec.minReadySeconds ?? 0, round.context.now()) > 0) return;
  }
}

/** Sequential and stopping at the first step that says wait (OrderedReady), or all at once (Parallel). Resolves true to stop. */
async function runForAll(steps: Array<() => Promise<boolean>>, monotonic: boolean): Promise<boolean> {
  if (monotonic) {
    for (const step of steps) if (await step()) return true;
    return false;
  }
  const results = await Promise.allSettled(steps.map((step) => step()));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return false;
}

/** processReplica: true when an OrderedReady set must wait on this ordinal. */
async function processReplica(round: Round, pod: KubeObject | undefined, ordinal: number, monotonic: boolean): Promise<boolean> {
  const { set, context } = round;
  if (!pod) {
    // A claim still tied to an earlier pod, or going away, must be gone first; its deletion wakes us.
    const claimCache = context.informers.informer(claims);
    const stale = claimsFor(set, ordinal).some((claim) => {
      const cached = claimCache.get(set.metadata.namespace, claim.metadata.name!);
      return cached !== undefined && claimIsStale(cached, podName(set, ordinal));
    });
    if (stale) return true;
    await createPod(round, ordinal);
    return monotonic;
  }
  // A pod that failed or finished is deleted, and recreated with the same name once it is gone.
  if (hasFinished(pod)) {
    if (!isTerminating(pod)) await deletePod(round, pod);
    return true;
  }
  if (isPending(pod) && !isTerminating(pod)) await createClaims(round, ordinal, pod.metadata.name!);
  if (isTerminating(pod)) return monotonic;
  const wait = msUntilAvailable(pod, set.spec.minReadySeconds ?? 0, context.now());
  if (wait > 0 && monotonic) {
    if (Number.isFinite(wait)) round.requeueAfterMs = Math.min(round.requeueAfterMs, wait);
    return true;
  }
  await fixIdentity(round, pod, ordinal);
  await syncClaimOwners(round, pod, false);
  return false;
}

/** newVersionedStatefulSetPod: below the partition a recreated pod keeps the current revision's template. */
function versionFor(round: Round, ordinal: number): { template: PodTemplateSpec; revision: string } {
  const { set } = round;
  const strategy = set.spec.updateStrategy;
  const update = { template: set.spec.template, revision: round.updateRevision };
  if (strategy?.type === 'OnDelete' || round.currentRevision === round.updateRevision) return update;
  const below = strategy?.rollingUpdate
    ? ordinal < startOrdinal(set) + (strategy.rollingUpdate.partition ?? 0)
    : ordinal < startOrdinal(set) + (set.status?.currentReplicas ?? 0);
  if (!below) return update;
  // Kubernetes reads the old template from a ControllerRevision; pm8s reads it from a pod still at that revision.
  const source = round.members.find((pod) => revisionOf(pod) === round.currentRevision);
  return source ? { template: templateFromPod(source), revision: round.currentRevision } : update;
}

async function createPod(round: Round, ordinal: number): Promise<void> {
  const { set, context } = round;
  const { template, revision } = versionFor(round, ordinal);
  const pod = newStatefulSetPod(set, template, ordinal, revision);
  await createClaims(round, ordinal, pod.metadata.name!);
  try {
    await context.client.create(pods, set.metadata.namespace, pod);
  } catch (error) {
    // 409: our cache has not seen the pod yet; the retry finds it.
    if (errorCode(error) !== 409) context.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(error)}`);
    throw error;
  }
  context.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
}

/** createPersistentVolumeClaims: each missing claim of the ordinal, before its pod. */
async function createClaims(round: Round, ordinal: number, pod: string): Promise<void> {
  const { set, context } = round;
  const claimCache = context.informers.informer(claims);
  for (const claim of claimsFor(set, ordinal)) {
    const cached = claimCache.get(set.metadata.namespace, claim.metadata.name!);
    if (cached) {
      if (cached.metadata.deletionTimestamp) throw new Error(`claim ${claim.metadata.name} of pod ${pod} is being deleted`);
      continue;
    }
    const owners = newClaimOwners(set);
    if (owners.length > 0) claim.metadata.ownerReferences = owners;
    try {
      await context.client.create(claims, set.metadata.namespace, claim);
    } catch (error) {
      if (errorCode(error) === 409) continue;
      context.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${pod} in StatefulSet ${set.metadata.name} failed error: ${errorText(error)}`);
      throw error;
    }
    context.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod} in StatefulSet ${set.metadata.name} success`);
  }
}

async function deletePod(round: Round, pod: KubeObject): Promise<void> {
  const { set, context } = round;
  try {
    // The uid precondition keeps a stale cache from deleting a newer pod of the same name.
    await context.client.delete(pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
  } catch (error) {
    if (errorCode(error) === 404) return;
    if (errorCode(error) !== 409) context.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(error)}`);
    throw error;
  }
  context.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
}

/** updateIdentity: the pod-name and pod-index labels a Service or a user may select one replica by. */
async function fixIdentity(round: Round, pod: KubeObject, ordinal: number): Promise<void> {
  const { set, context } = round;
  const labels = pod.metadata.labels ?? {};
  if (labels[POD_NAME_LABEL] === pod.metadata.name && labels[POD_INDEX_LABEL] === String(ordinal)) return;
  const updated = clone(pod);
  updated.metadata.labels = { ...labels, [POD_NAME_LABEL]: pod.metadata.name!, [POD_INDEX_LABEL]: String(ordinal) };
  await context.client.update(pods, pod.metadata.namespace, updated);
  context.recorder.event(set, 'Normal', 'SuccessfulUpdate', `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
}

/** Claim owner references follow persistentVolumeClaimRetentionPolicy as pods scale in and out. */
async function syncClaimOwners(round: Round, pod: KubeObject, condemned: boolean): Promise<void> {
  const { set, context } = round;
  const policy = set.spec.persistentVolumeClaimRetentionPolicy;
  if (policy?.whenDeleted !== 'Delete' && policy?.whenScaled !== 'Delete' && !hasOurReferences(round, pod)) return;
  const claimCache = context.informers.informer(claims);
  for (const claim of claimsFor(set, ordinalOf(pod))) {
    const cached = claimCache.get(set.metadata.namespace, claim.metadata.name!);
    if (!cached || cached.metadata.deletionTimestamp) continue;
    const owners = claimOwnersFor(cached, set, pod, condemned || !inOrdinalRange(set, pod));
    if (!owners) continue;
    const updated = clone(cached);
    updated.metadata.ownerReferences = owners;
    if (owners.length === 0) delete updated.metadata.ownerReferences;
    await context.client.update(claims, set.metadata.namespace, updated);
  }
}

/** Under Retain/Retain a claim needs no update unless a policy change left our references on it. */
function hasOurReferences(round: Round, pod: KubeObject): boolean {
  const claimCache = round.context.informers.informer(claims);
  return claimsFor(round.set, ordinalOf(pod)).some((claim) =>
    (claimCache.get(round.set.metadata.namespace, claim.metadata.name!)?.metadata.ownerReferences ?? []).some(
      (reference) => reference.uid === round.set.metadata.uid || reference.uid === pod.metadata.uid,
    ),
  );
}

/** updateStatefulSetStatus: counts from the pods this round saw; a finished RollingUpdate makes the update revision current. */
async function writeStatus(round: Round): Promise<void> {
  const { set, context } = round;
  const now = context.now();
  const counts = { replicas: 0, readyReplicas: 0, currentReplicas: 0, updatedReplicas: 0, availableReplicas: 0 };
  for (const pod of round.members) {
    if (ordinalOf(pod) < 0) continue;
    counts.replicas++;
    if (isRunningAndReady(pod)) {
      counts.readyReplicas++;
      const wait = msUntilAvailable(pod, set.spec.minReadySeconds ?? 0, now);
      if (wait === 0) counts.availableReplicas++;
      else round.requeueAfterMs = Math.min(round.requeueAfterMs, wait);
    }
    if (!isTerminating(pod)) {
      if (revisionOf(pod) === round.currentRevision) counts.currentReplicas++;
      if (revisionOf(pod) === round.updateRevision) counts.updatedReplicas++;
    }
  }
  let currentRevision = round.currentRevision;
  if (set.spec.updateStrategy?.type !== 'OnDelete' && counts.updatedReplicas === counts.replicas && counts.readyReplicas === counts.replicas) {
    counts.currentReplicas = counts.updatedReplicas;
    currentRevision = round.updateRevision;
  }
  const status: StatefulSetStatus = {
    ...set.status,
    observedGeneration: set.metadata.generation ?? 1,
    ...counts,
    currentRevision,
    updateRevision: round.updateRevision,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  if (deepEqual(status, set.status)) return;
  const updated = clone(set);
  updated.status = status;
  await context.client.update(statefulSets, set.metadata.namespace, updated, { subresource: 'status' });
}
