/**
 * The ReplicaSet controller (Kubernetes' pkg/controller/replicaset): keeps spec.replicas active
 * pods matching the selector, creating them from the template in slow-start batches and deleting
 * the least useful first, adopting matching orphans, and reporting counts in status.
 */
import type { ApiError } from '../../../api/errors.js';
import type { Condition } from '../../../api/kinds/common.js';
import { deepEqual } from '../../../api/kinds/common.js';
import type { Pod } from '../../../api/kinds/pod.js';
import type { ReplicaSet, ReplicaSetStatus } from '../../../api/kinds/replicaset.js';
import { clone, objectKey, randomSuffix, rfc3339 } from '../../../api/meta.js';
import { resolveResource } from '../../../api/resources.js';
import { labelSelectorFromObject, matchesLabels } from '../../../api/selectors.js';
import type { LabelSelector, LabelSelectorObject } from '../../../api/selectors.js';
import type { KubeObject } from '../../../api/types.js';
import type { Informer } from '../../../client/informer.js';
import { byNamespace } from '../../../client/informer-index.js';
import type { InformerIndex } from '../../../client/informer-index.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import { keyOf, splitKey } from './controller.js';
import { ControllerExpectations } from './controller-expectations.js';
import { claimObjects, controllerOf, resolveControllerRef } from './controller-ref.js';
import { podFromTemplate } from './pod-template.js';
import { compareForDeletion, isPodActive, isPodAvailable, isPodReady, nextAvailableInMs } from './pod-util.js';
import type { WorkQueue } from './work-queue.js';

const pods = resolveResource('pods')!;
const replicaSets = resolveResource('replicasets')!;

/** At most this many creates or deletes per sync (Kubernetes' BurstReplicas). */
export const BURST_REPLICAS = 500;
/** Kubernetes' SlowStartInitialBatchSize: 1, then 2, 4, 8… until one fails. */
const SLOW_START_INITIAL_BATCH = 1;
/** Generated names keep 63 - 5 characters of their prefix, as Kubernetes' name generator. */
const MAX_GENERATED_PREFIX = 58;

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly workers = 4;
  readonly #expectations = new ControllerExpectations();
  #sets!: Informer;
  #podsByNamespace!: InformerIndex;
  #setsByNamespace!: InformerIndex;

  setup(context: ControllerContext, queue: WorkQueue): void {
    this.#sets = context.informers.informer(replicaSets);
    const podInformer = context.informers.informer(pods);
    this.#podsByNamespace = context.informers.index(pods, 'namespace', byNamespace);
    this.#setsByNamespace = context.informers.index(replicaSets, 'namespace', byNamespace);
    this.#sets.on('add', (set) => queue.add(keyOf(set)));
    this.#sets.on('update', (_old, set) => queue.add(keyOf(set)));
    this.#sets.on('delete', (set) => {
      this.#expectations.delete(keyOf(set));
      queue.add(keyOf(set));
    });
    const lookup = (namespace: string | undefined, name: string) => this.#sets.get(namespace, name);
    const podChanged = (pod: KubeObject, gone: boolean) => {
      const owner = resolveControllerRef<ReplicaSet>(pod, 'ReplicaSet', lookup);
      if (owner) {
        const ownerKey = keyOf(owner);
        if (gone || pod.metadata.deletionTimestamp !== undefined) this.#expectations.deletionObserved(ownerKey, objectKey(pod));
        else this.#expectations.creationObserved(ownerKey, objectKey(pod));
        queue.add(ownerKey);
      } else if (!controllerOf(pod) && !gone) {
        // An orphan: every ReplicaSet that could adopt it.
        for (const set of this.#setsByNamespace.get(pod.metadata.namespace ?? '')) {
          if (matchesLabels(selectorOf(set as ReplicaSet), pod.metadata.labels)) queue.add(keyOf(set));
        }
      }
    };
    podInformer.on('add', (pod) => podChanged(pod, false));
    podInformer.on('update', (old, pod) => {
      // A changed controller or labels concerns the old owner as much as the new one.
      const oldOwner = resolveControllerRef<ReplicaSet>(old, 'ReplicaSet', lookup);
      if (oldOwner && (controllerOf(pod)?.uid !== oldOwner.metadata.uid || !deepEqual(old.metadata.labels, pod.metadata.labels))) queue.add(keyOf(oldOwner));
      podChanged(pod, false);
    });
    podInformer.on('delete', (pod) => podChanged(pod, true));
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const set = this.#sets.get(namespace, name) as ReplicaSet | undefined;
    if (!set) {
      this.#expectations.delete(key);
      return;
    }
    const nowMs = context.now().getTime();
    const needsSync = this.#expectations.satisfied(key, nowMs);
    const candidates = (this.#podsByNamespace.get(namespace ?? '') as Pod[]).filter(isPodActive);
    const owned = await claimObjects(candidates, { client: context.client, info: pods, ownerInfo: replicaSets, owner: set, selector: selectorOf(set) });

    let manageError: unknown;
    const manage = needsSync && set.metadata.deletionTimestamp === undefined;
    if (manage) {
      try {
        await this.#manageReplicas(context, set, owned);
      } catch (error) {
        manageError = error;
      }
    }
    const status = calculateStatus(set, owned, manageError, context.now());
    // observedGeneration says "acted on this spec", so only a sync that could act moves it.
    if (manage) status.observedGeneration = set.metadata.generation ?? 1;
    await writeStatus(context, set, status);
    if (manageError !== undefined) throw manageError;
    if (!needsSync) return { requeueAfterMs: this.#expectations.expiresInMs(key, nowMs) ?? 0 };
    const availableIn = nextAvailableInMs(owned, set.spec.minReadySeconds ?? 0, nowMs);
    return availableIn === undefined ? undefined : { requeueAfterMs: availableIn };
  }

  /** Creates or deletes pods so that `owned` (the active pods it controls) becomes spec.replicas. */
  async #manageReplicas(context: ControllerContext, set: ReplicaSet, owned: Pod[]): Promise<void> {
    const key = keyOf(set);
    const namespace = set.metadata.namespace ?? '';
    const diff = owned.length - (set.spec.replicas ?? 1);
    const nowMs = context.now().getTime();
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      const prefix = `${set.metadata.name}-`.slice(0, MAX_GENERATED_PREFIX);
      const names = Array.from({ length: count }, () => `${prefix}${randomSuffix()}`);
      this.#expectations.expectCreations(key, names.map((podName) => `${namespace}/${podName}`), nowMs);
      const { attempted, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, async (index) => {
        const podName = names[index]!;
        try {
          await context.client.create(pods, namespace, podFromTemplate(set, set.spec.template, { name: podName }));
          context.recorder.event(set, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`);
        } catch (createError) {
          this.#expectations.creationObserved(key, `${namespace}/${podName}`);
          context.recorder.event(set, 'Warning', 'FailedCreate', `Error creating: ${messageOf(createError)}`);
          throw createError;
        }
      });
      // Pods of batches never started will never show up in the informer.
      for (const podName of names.slice(attempted)) this.#expectations.creationObserved(key, `${namespace}/${podName}`);
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const doomed = this.#podsToDelete(set, owned, Math.min(diff, BURST_REPLICAS));
      this.#expectations.expectDeletions(key, doomed.map(objectKey), nowMs);
      const results = await Promise.allSettled(doomed.map(async (pod) => {
        try {
          await context.client.delete(pods, namespace, pod.metadata.name ?? '', { preconditions: { uid: pod.metadata.uid ?? '' } });
          context.recorder.event(set, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (deleteError) {
          this.#expectations.deletionObserved(key, objectKey(pod));
          if ((deleteError as ApiError).code === 404) return;
          context.recorder.event(set, 'Warning', 'FailedDelete', `Error deleting: ${messageOf(deleteError)}`);
          throw deleteError;
        }
      }));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /**
   * The `count` least useful pods. Pods sharing a node with more pods of the same workload (this
   * ReplicaSet, or its siblings under one Deployment) rank as more deletable, as in Kubernetes.
   */
  #podsToDelete(set: ReplicaSet, owned: Pod[], count: number): Pod[] {
    if (count >= owned.length) return owned;
    const perNode = new Map<string, number>();
    for (const pod of this.#relatedPods(set, owned)) perNode.set(pod.spec.nodeName ?? '', (perNode.get(pod.spec.nodeName ?? '') ?? 0) + 1);
    const rankOf = (pod: Pod) => perNode.get(pod.spec.nodeName ?? '') ?? 0;
    return [...owned].sort((a, b) => compareForDeletion(a, b, rankOf)).slice(0, count);
  }

  #relatedPods(set: ReplicaSet, owned: Pod[]): Pod[] {
    const owner = controllerOf(set);
    if (!owner) return owned;
    const namespace = set.metadata.namespace ?? '';
    const siblingUids = new Set(this.#setsByNamespace.get(namespace).filter((other) => controllerOf(other)?.uid === owner.uid).map((other) => other.metadata.uid));
    return (this.#podsByNamespace.get(namespace) as Pod[]).filter((pod) => isPodActive(pod) && siblingUids.has(controllerOf(pod)?.uid));
  }
}

export function selectorOf(object: { spec: { selector: LabelSelectorObject } }): LabelSelector {
  return labelSelectorFromObject(object.spec.selector);
}

/**
 * Runs `count` calls in batches of 1, 2, 4… and stops after the first batch with a failure, so a
 * template that cannot work costs one failed call rather than hundreds (Kubernetes' slowStartBatch).
 */
export async function slowStartBatch(count: number, initial: number, call: (index: number) => Promise<void>): Promise<{ attempted: number; error?: unknown }> {
  let started = 0;
  for (let batch = Math.min(count, initial); batch > 0; batch = Math.min(2 * batch, count - started)) {
    const first = started;
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, offset) => call(first + offset)));
    started += batch;
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) return { attempted: started, error: failed.reason };
  }
  return { attempted: started };
}

function calculateStatus(set: ReplicaSet, owned: Pod[], manageError: unknown, now: Date): ReplicaSetStatus {
  const templateLabels = Object.entries(set.spec.template.metadata?.labels ?? {});
  const minReadySeconds = set.spec.minReadySeconds ?? 0;
  const nowMs = now.getTime();
  const status: ReplicaSetStatus = {
    replicas: owned.length,
    fullyLabeledReplicas: owned.filter((pod) => templateLabels.every(([label, value]) => pod.metadata.labels?.[label] === value)).length,
    readyReplicas: owned.filter(isPodReady).length,
    availableReplicas: owned.filter((pod) => isPodAvailable(pod, minReadySeconds, nowMs)).length,
    ...(set.status?.observedGeneration === undefined ? {} : { observedGeneration: set.status.observedGeneration }),
  };
  let conditions: Condition[] = [...(set.status?.conditions ?? [])];
  const failure = conditions.find((condition) => condition.type === 'ReplicaFailure');
  if (manageError !== undefined && !failure) {
    const reason = owned.length < (set.spec.replicas ?? 1) ? 'FailedCreate' : 'FailedDelete';
    const at = rfc3339(now);
    conditions.push({ type: 'ReplicaFailure', status: 'True', reason, message: messageOf(manageError), lastTransitionTime: at });
  } else if (manageError === undefined && failure) {
    conditions = conditions.filter((condition) => condition.type !== 'ReplicaFailure');
  }
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

/** Writes status through the status subresource, only when something changed. */
async function writeStatus(context: ControllerContext, set: ReplicaSet, status: ReplicaSetStatus): Promise<void> {
  const current = set.status ?? {};
  const same =
    (current.replicas ?? 0) === status.replicas &&
    (current.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
    (current.readyReplicas ?? 0) === status.readyReplicas &&
    (current.availableReplicas ?? 0) === status.availableReplicas &&
    current.observedGeneration === status.observedGeneration &&
    deepEqual(current.conditions ?? [], status.conditions ?? []);
  if (same) return;
  const updated = clone(set) as ReplicaSet;
  updated.status = { ...(current.terminatingReplicas === undefined ? {} : { terminatingReplicas: current.terminatingReplicas }), ...status };
  await context.client.update(replicaSets, set.metadata.namespace, updated, { subresource: 'status' });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
