/**
 * The DaemonSet controller (Kubernetes' pkg/controller/daemon): one pod per eligible node, pinned to
 * it by a `metadata.name` node affinity that the scheduler honours; pods follow nodes as they come,
 * go and change; RollingUpdate replaces old pods within maxUnavailable/maxSurge; OnDelete waits for
 * the user. The decisions live in daemonset-rollout.ts; this file reads the caches and writes.
 */
import type { ApiError } from '../../../api/errors.js';
import type { DaemonSet, DaemonSetStatus } from '../../../api/kinds/daemonset.js';
import type { Node } from '../../../api/kinds/node.js';
import type { Pod } from '../../../api/kinds/pod.js';
import { clone } from '../../../api/meta.js';
import { resolveResource } from '../../../api/resources.js';
import { labelSelectorFromObject, matchesLabels } from '../../../api/selectors.js';
import type { KubeObject, OwnerReference } from '../../../api/types.js';
import type { Informer } from '../../../client/informer.js';
import { byNamespace } from '../../../client/informer-index.js';
import type { InformerIndex } from '../../../client/informer-index.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import { keyOf, splitKey } from './controller.js';
import { newDaemonPod, targetNodeName, templateHash } from './daemonset-placement.js';
import { computeCounts, planManage, planRollingUpdate } from './daemonset-rollout.js';
import type { FailedPodGate, Plan, PodsByNode } from './daemonset-rollout.js';
import type { WorkQueue } from './work-queue.js';

const daemonSets = resolveResource('daemonsets')!;
const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;

/** Writes not seen in the cache after this long are assumed lost (an informer re-list may skip events). */
const EXPECTATIONS_TIMEOUT_MS = 30_000;
/** failedPodsBackoff: 1 s doubling to 15 min per DaemonSet and node. */
const FAILED_POD_BACKOFF = { initialMs: 1000, maxMs: 15 * 60_000 };

/** Pods created or deleted but not yet seen so in the cache (Kubernetes' ControllerExpectations). */
interface Expectations {
  creates: Set<string>;
  deletes: Set<string>;
  sinceMs: number;
}

interface Backoff {
  delayMs: number;
  lastMs: number;
}

const controllerOf = (object: KubeObject): OwnerReference | undefined => object.metadata.ownerReferences?.find((owner) => owner.controller === true);

const daemonSetOwner = (pod: KubeObject): OwnerReference | undefined => {
  const owner = controllerOf(pod);
  return owner?.kind === 'DaemonSet' && owner.apiVersion.startsWith('apps/') ? owner : undefined;
};

/** Only labels, taints and cordoning decide placement: status heartbeats need no resync. */
const placementChanged = (old: KubeObject, node: KubeObject): boolean =>
  JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(node.metadata.labels ?? {}) || JSON.stringify(old.spec ?? {}) !== JSON.stringify(node.spec ?? {});

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly #expectations = new Map<string, Expectations>();
  readonly #failedBackoff = new Map<string, Map<string, Backoff>>();
  #daemonSets!: Informer;
  #nodes!: Informer;
  #podsByNamespace!: InformerIndex;

  setup(context: ControllerContext, queue: WorkQueue): void {
    this.#daemonSets = context.informers.informer(daemonSets);
    this.#nodes = context.informers.informer(nodes);
    const podInformer = context.informers.informer(pods);
    this.#podsByNamespace = context.informers.index(pods, 'namespace', byNamespace);

    const enqueue = (object: KubeObject) => queue.add(keyOf(object));
    this.#daemonSets.on('add', enqueue).on('update', (_old, object) => enqueue(object)).on('delete', enqueue);
    const enqueueAll = () => {
      for (const daemonSet of this.#daemonSets.list()) enqueue(daemonSet);
    };
    this.#nodes.on('add', enqueueAll).on('delete', enqueueAll).on('update', (old, node) => {
      if (placementChanged(old, node)) enqueueAll();
    });
    const enqueueFor = (pod: KubeObject) => {
      const owner = daemonSetOwner(pod);
      if (owner) {
        queue.add(`${pod.metadata.namespace}/${owner.name}`);
        return;
      }
      // An orphan may be adopted by any DaemonSet in its namespace whose selector matches.
      if (controllerOf(pod) || pod.metadata.deletionTimestamp) return;
      for (const daemonSet of this.#daemonSets.list() as DaemonSet[]) {
        if (daemonSet.metadata.namespace === pod.metadata.namespace && matchesLabels(labelSelectorFromObject(daemonSet.spec.selector), pod.metadata.labels)) enqueue(daemonSet);
      }
    };
    podInformer
      .on('add', (pod) => {
        this.#observe(pod, false);
        enqueueFor(pod);
      })
      .on('update', (old, pod) => {
        this.#observe(pod, false);
        if (daemonSetOwner(old)?.uid !== daemonSetOwner(pod)?.uid) enqueueFor(old);
        enqueueFor(pod);
      })
      .on('delete', (pod) => {
        this.#observe(pod, true);
        enqueueFor(pod);
      });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const daemonSet = this.#daemonSets.get(namespace, name) as DaemonSet | undefined;
    if (!daemonSet) {
      this.#expectations.delete(key);
      this.#failedBackoff.delete(key);
      return;
    }
    // The garbage collector removes the pods of a DaemonSet being deleted.
    if (daemonSet.metadata.deletionTimestamp) return;
    const nowMs = context.now().getTime();
    const hash = templateHash(daemonSet.spec.template, daemonSet.status?.collisionCount);
    const nodeList = this.#nodes.list() as Node[];
    const byNode = await this.#claimPods(daemonSet, context);
    // A write not yet in the cache would make the cache lie: only status until it shows up.
    const satisfied = this.#satisfied(key, nowMs);
    let requeueAfterMs: number | undefined;
    if (!satisfied) {
      // If the awaited events never come (a missed watch event), look again when the expectations expire.
      const since = this.#expectations.get(key)?.sinceMs ?? nowMs;
      requeueAfterMs = Math.max(0, EXPECTATIONS_TIMEOUT_MS - (nowMs - since));
    }
    if (satisfied) {
      const manage = planManage(daemonSet, nodeList, byNode, hash, nowMs, this.#failedPodGate(key, nowMs));
      requeueAfterMs = manage.requeueAfterMs;
      const wrote = await this.#apply(daemonSet, manage, hash, context);
      if (!wrote && daemonSet.spec.updateStrategy?.type === 'RollingUpdate') {
        const rolling = planRollingUpdate(daemonSet, nodeList, byNode, hash, nowMs);
        requeueAfterMs = earliest(requeueAfterMs, rolling.requeueAfterMs);
        await this.#apply(daemonSet, rolling, hash, context);
      }
    }
    const status = computeCounts(daemonSet, nodeList, byNode, hash, nowMs);
    await this.#writeStatus(daemonSet, status.counts, satisfied, context);
    requeueAfterMs = earliest(requeueAfterMs, status.requeueAfterMs);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /**
   * ClaimPods: the DaemonSet's pods in its namespace by node, adopting matching orphans and
   * releasing owned pods whose labels no longer match. Finished pods already being deleted are left out.
   */
  async #claimPods(daemonSet: DaemonSet, context: ControllerContext): Promise<PodsByNode> {
    const selector = labelSelectorFromObject(daemonSet.spec.selector);
    const uid = daemonSet.metadata.uid;
    const byNode = new Map<string, Pod[]>();
    for (const cached of this.#podsByNamespace.get(daemonSet.metadata.namespace ?? '') as Pod[]) {
      const owner = controllerOf(cached);
      if (owner && owner.uid !== uid) continue;
      const matches = matchesLabels(selector, cached.metadata.labels);
      let pod: Pod | undefined = cached;
      if (owner && !matches) pod = await this.#setOwner(cached, daemonSet, false, context);
      else if (!owner && matches && !cached.metadata.deletionTimestamp) pod = await this.#setOwner(cached, daemonSet, true, context);
      else if (!owner) pod = undefined;
      if (!pod || !matches) continue;
      const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      if (pod.metadata.deletionTimestamp && finished) continue;
      const nodeName = targetNodeName(pod);
      if (nodeName === undefined) continue;
      const list = byNode.get(nodeName);
      if (list) list.push(pod);
      else byNode.set(nodeName, [pod]);
    }
    return byNode;
  }

  /** Adopts (adds our controller reference) or releases (removes it); undefined when the pod is gone. */
  async #setOwner(pod: Pod, daemonSet: DaemonSet, adopt: boolean, context: ControllerContext): Promise<Pod | undefined> {
    const updated = clone(pod);
    const others = (updated.metadata.ownerReferences ?? []).filter((owner) => owner.uid !== daemonSet.metadata.uid);
    const ours: OwnerReference = {
      apiVersion: daemonSet.apiVersion, kind: daemonSet.kind, name: daemonSet.metadata.name ?? '', uid: daemonSet.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
    };
    updated.metadata.ownerReferences = adopt ? [...others, ours] : others;
    try {
      return (await context.client.update(pods, pod.metadata.namespace, updated)) as Pod;
    } catch (error) {
      if ((error as ApiError).code === 404) return undefined;
      throw error;
    }
  }

  /** Performs a plan: creations in growing batches (slow start, so a failing create costs one call), then deletions. */
  async #apply(daemonSet: DaemonSet, plan: Plan, hash: string, context: ControllerContext): Promise<boolean> {
    if (plan.createOn.length === 0 && plan.deletePods.length === 0) return false;
    const key = keyOf(daemonSet);
    const expectations = this.#expect(key, context.now().getTime());
    const errors: unknown[] = [];
    for (let start = 0, batch = 1; start < plan.createOn.length && errors.length === 0; start += batch, batch *= 2) {
      await Promise.all(plan.createOn.slice(start, start + batch).map(async (nodeName) => {
        const pod = newDaemonPod(daemonSet, nodeName, hash);
        const podName = pod.metadata.name ?? '';
        expectations.creates.add(podName);
        try {
          await context.client.create(pods, daemonSet.metadata.namespace, pod);
          context.recorder.event(daemonSet, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`);
        } catch (error) {
          expectations.creates.delete(podName);
          errors.push(error);
          context.recorder.event(daemonSet, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
        }
      }));
    }
    for (const { pod, nodeName } of plan.failedPods) {
      context.recorder.event(daemonSet, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${nodeName}, will try to kill it`);
    }
    await Promise.all(plan.deletePods.map(async (pod) => {
      const uid = pod.metadata.uid ?? '';
      expectations.deletes.add(uid);
      try {
        await context.client.delete(pods, pod.metadata.namespace, pod.metadata.name ?? '', { preconditions: { uid } });
        context.recorder.event(daemonSet, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (error) {
        expectations.deletes.delete(uid);
        // Gone already, or replaced by another pod of the same name: nothing of ours to delete.
        const code = (error as ApiError).code;
        if (code !== 404 && code !== 409) {
          errors.push(error);
          context.recorder.event(daemonSet, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
        }
      }
    }));
    if (errors.length > 0) throw errors[0];
    return true;
  }

  async #writeStatus(daemonSet: DaemonSet, counts: ReturnType<typeof computeCounts>['counts'], observed: boolean, context: ControllerContext): Promise<void> {
    const current: DaemonSetStatus = daemonSet.status ?? {};
    const observedGeneration = observed ? daemonSet.metadata.generation : current.observedGeneration;
    const next: DaemonSetStatus = { ...current, ...counts, ...(observedGeneration === undefined ? {} : { observedGeneration }) };
    const keys = [...Object.keys(counts), 'observedGeneration'] as Array<keyof DaemonSetStatus>;
    if (keys.every((field) => current[field] === next[field])) return;
    const updated = clone(daemonSet);
    updated.status = next;
    // A 409 throws: the queue retries against the fresher cache.
    await context.client.update(daemonSets, daemonSet.metadata.namespace, updated, { subresource: 'status' });
  }

  #expect(key: string, nowMs: number): Expectations {
    let expectations = this.#expectations.get(key);
    if (!expectations) this.#expectations.set(key, (expectations = { creates: new Set(), deletes: new Set(), sinceMs: nowMs }));
    if (expectations.creates.size === 0 && expectations.deletes.size === 0) expectations.sinceMs = nowMs;
    return expectations;
  }

  #satisfied(key: string, nowMs: number): boolean {
    const expectations = this.#expectations.get(key);
    if (!expectations || (expectations.creates.size === 0 && expectations.deletes.size === 0)) return true;
    if (nowMs - expectations.sinceMs < EXPECTATIONS_TIMEOUT_MS) return false;
    this.#expectations.delete(key);
    return true;
  }

  /** A pod event settles what we expected: its creation when seen at all, its deletion when marked or gone. */
  #observe(pod: KubeObject, deleted: boolean): void {
    const owner = daemonSetOwner(pod);
    if (!owner) return;
    const expectations = this.#expectations.get(`${pod.metadata.namespace}/${owner.name}`);
    if (!expectations) return;
    expectations.creates.delete(pod.metadata.name ?? '');
    if (deleted || pod.metadata.deletionTimestamp) expectations.deletes.delete(pod.metadata.uid ?? '');
  }

  #failedPodGate(key: string, nowMs: number): FailedPodGate {
    return (nodeName) => {
      let perNode = this.#failedBackoff.get(key);
      if (!perNode) this.#failedBackoff.set(key, (perNode = new Map()));
      const backoff = perNode.get(nodeName);
      if (backoff && nowMs - backoff.lastMs < backoff.delayMs) return { allowed: false, waitMs: backoff.lastMs + backoff.delayMs - nowMs };
      const expired = !backoff || nowMs - backoff.lastMs > 2 * FAILED_POD_BACKOFF.maxMs;
      const delayMs = expired ? FAILED_POD_BACKOFF.initialMs : Math.min(backoff.delayMs * 2, FAILED_POD_BACKOFF.maxMs);
      perNode.set(nodeName, { delayMs, lastMs: nowMs });
      return { allowed: true };
    };
  }
}

const earliest = (current: number | undefined, candidate: number | undefined): number | undefined =>
  candidate === undefined ? current : current === undefined ? candidate : Math.min(current, candidate);
