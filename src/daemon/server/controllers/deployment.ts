/**
 * The Deployment controller (Kubernetes' pkg/controller/deployment): one ReplicaSet per pod
 * template, rolled out by the Rollout in deployment-rollout.ts. This file wires the informers and
 * claims the ReplicaSets; it also remembers its own ReplicaSet writes until the cache shows them,
 * so a sync never decides on a ReplicaSet older than one it wrote itself.
 */
import type { Deployment } from '../../../api/kinds/deployment.js';
import type { Pod } from '../../../api/kinds/pod.js';
import type { ReplicaSet } from '../../../api/kinds/replicaset.js';
import { objectKey } from '../../../api/meta.js';
import { resolveResource } from '../../../api/resources.js';
import { matchesLabels } from '../../../api/selectors.js';
import type { KubeObject } from '../../../api/types.js';
import type { Informer } from '../../../client/informer.js';
import { byNamespace } from '../../../client/informer-index.js';
import type { InformerIndex } from '../../../client/informer-index.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import { keyOf, splitKey } from './controller.js';
import { claimObjects, controllerOf, resolveControllerRef } from './controller-ref.js';
import { Rollout } from './deployment-rollout.js';
import { selectorOf } from './replicaset.js';
import type { WorkQueue } from './work-queue.js';

const pods = resolveResource('pods')!;
const replicaSets = resolveResource('replicasets')!;
const deployments = resolveResource('deployments')!;

/** A write the cache has not shown after this long is given up on (the set was deleted meanwhile, say). */
const WRITE_WAIT_MS = 30_000;
/** A sync waiting for its own writes looks again after this, should the event be lost. */
const WRITE_RECHECK_MS = 1_000;

interface PendingWrite {
  resourceVersion: number;
  atMs: number;
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly workers = 4;
  #deployments!: Informer;
  #sets!: Informer;
  #setsByNamespace!: InformerIndex;
  #deploymentsByNamespace!: InformerIndex;
  #context!: ControllerContext;
  /** deployment key → ReplicaSet key → the resourceVersion this controller wrote. */
  readonly #pendingWrites = new Map<string, Map<string, PendingWrite>>();

  setup(context: ControllerContext, queue: WorkQueue): void {
    this.#context = context;
    this.#deployments = context.informers.informer(deployments);
    this.#sets = context.informers.informer(replicaSets);
    const podInformer = context.informers.informer(pods);
    this.#setsByNamespace = context.informers.index(replicaSets, 'namespace', byNamespace);
    this.#deploymentsByNamespace = context.informers.index(deployments, 'namespace', byNamespace);

    this.#deployments.on('add', (deployment) => queue.add(keyOf(deployment)));
    this.#deployments.on('update', (_old, deployment) => queue.add(keyOf(deployment)));
    this.#deployments.on('delete', (deployment) => {
      this.#pendingWrites.delete(keyOf(deployment));
      queue.add(keyOf(deployment));
    });

    const ownerOf = (set: KubeObject) => resolveControllerRef<Deployment>(set, 'Deployment', (namespace, name) => this.#deployments.get(namespace, name));
    const setChanged = (set: KubeObject) => {
      const owner = ownerOf(set);
      if (owner) {
        queue.add(keyOf(owner));
      } else if (!controllerOf(set)) {
        // An orphan: every Deployment that could adopt it.
        for (const deployment of this.#deploymentsByNamespace.get(set.metadata.namespace ?? '')) {
          if (matchesLabels(selectorOf(deployment as Deployment), set.metadata.labels)) queue.add(keyOf(deployment));
        }
      }
    };
    this.#sets.on('add', setChanged);
    this.#sets.on('update', (old, set) => {
      const oldOwner = ownerOf(old);
      if (oldOwner && controllerOf(set)?.uid !== oldOwner.metadata.uid) queue.add(keyOf(oldOwner));
      setChanged(set);
    });
    this.#sets.on('delete', (set) => {
      const owner = ownerOf(set);
      if (owner) {
        this.#pendingWrites.get(keyOf(owner))?.delete(objectKey(set));
        queue.add(keyOf(owner));
      }
    });

    // Pods move the rollout: readiness lets it go on, a finished deletion lets Recreate start.
    const podChanged = (pod: KubeObject) => {
      const set = resolveControllerRef<ReplicaSet>(pod, 'ReplicaSet', (namespace, name) => this.#sets.get(namespace, name));
      const owner = set && ownerOf(set);
      if (owner) queue.add(keyOf(owner));
    };
    podInformer.on('add', podChanged);
    podInformer.on('update', (_old, pod) => podChanged(pod));
    podInformer.on('delete', podChanged);
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const deployment = this.#deployments.get(namespace, name) as Deployment | undefined;
    if (!deployment) {
      this.#pendingWrites.delete(key);
      return;
    }
    if (this.#waitingForOwnWrites(key, context.now().getTime())) return { requeueAfterMs: WRITE_RECHECK_MS };
    const candidates = this.#setsByNamespace.get(namespace ?? '') as ReplicaSet[];
    const sets = await claimObjects(candidates, { client: context.client, info: replicaSets, ownerInfo: deployments, owner: deployment, selector: selectorOf(deployment) });
    const rollout = new Rollout({
      context,
      deployment,
      sets,
      podsOf: (set) => this.#podsOf(set),
      wrote: (set) => this.#rememberWrite(key, set, context.now().getTime()),
    });
    return rollout.run();
  }

  #podsOf(set: ReplicaSet): Pod[] {
    return (this.#context.informers.ownedBy(pods, set.metadata.uid ?? '') as Pod[]).filter((pod) => controllerOf(pod)?.uid === set.metadata.uid);
  }

  #rememberWrite(key: string, set: ReplicaSet, nowMs: number): void {
    let writes = this.#pendingWrites.get(key);
    if (!writes) this.#pendingWrites.set(key, (writes = new Map()));
    writes.set(objectKey(set), { resourceVersion: Number(set.metadata.resourceVersion ?? 0), atMs: nowMs });
  }

  /** Whether a ReplicaSet this controller wrote is still older (or absent) in the cache. */
  #waitingForOwnWrites(key: string, nowMs: number): boolean {
    const writes = this.#pendingWrites.get(key);
    if (!writes) return false;
    let waiting = false;
    for (const [setKey, write] of writes) {
      const { namespace, name } = splitKey(setKey);
      const cached = this.#sets.get(namespace, name);
      if ((cached && Number(cached.metadata.resourceVersion ?? 0) >= write.resourceVersion) || nowMs - write.atMs > WRITE_WAIT_MS) writes.delete(setKey);
      else waiting = true;
    }
    if (writes.size === 0) this.#pendingWrites.delete(key);
    return waiting;
  }
}
