/**
 * One sync of one Deployment (Kubernetes' pkg/controller/deployment sync.go, rolling.go,
 * recreate.go, progress.go): find or create the new ReplicaSet, move replicas between it and the
 * old ones within maxSurge/maxUnavailable, prune history and report status and conditions.
 *
 * Unlike Kubernetes, the surge and availability arithmetic counts the pods themselves (from the
 * shared pod cache) rather than ReplicaSet status, which lags: a set counts as
 * max(spec.replicas, its active pods) pods and min(spec.replicas, its available pods) available,
 * so the bounds hold at every observed state, not only eventually.
 */
import type { ApiError } from '../../../api/errors.js';
import { deepEqual } from '../../../api/kinds/common.js';
import type { Deployment, DeploymentStatus } from '../../../api/kinds/deployment.js';
import type { Pod } from '../../../api/kinds/pod.js';
import type { ReplicaSet } from '../../../api/kinds/replicaset.js';
import { clone } from '../../../api/meta.js';
import { resolveResource } from '../../../api/resources.js';
import type { ControllerContext, ReconcileResult } from './controller.js';
import { controllerOf, controllerRefTo } from './controller-ref.js';
import { calculateStatus, deadlineRequeue, rolloutStatus } from './deployment-status.js';
import {
  POD_TEMPLATE_HASH_LABEL, REASONS, REVISION_ANNOTATION, byCreation, byRevision, bySizeNewer, bySizeOlder, computeHash, deploymentComplete,
  desiredReplicasOf, equalIgnoreHash, getCondition, hasProgressDeadline, isRollingUpdate, isSaturated, maxRevision, maxSurge, maxUnavailable,
  newCondition, proportionOf, setCondition, setNewReplicaSetAnnotations, setReplicasAnnotations,
} from './deployment-util.js';
import { isPodActive, isPodAvailable } from './pod-util.js';

const deployments = resolveResource('deployments')!;
const replicaSets = resolveResource('replicasets')!;

const replicasOf = (set: ReplicaSet): number => set.spec.replicas ?? 0;
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

export interface RolloutOptions {
  context: ControllerContext;
  deployment: Deployment;
  /** The ReplicaSets the Deployment controls (already claimed). */
  sets: ReplicaSet[];
  /** Every pod a ReplicaSet controls, terminating ones included. */
  podsOf: (set: ReplicaSet) => Pod[];
  /** Told of every ReplicaSet this sync wrote, so the next sync can wait for the cache to show it. */
  wrote: (set: ReplicaSet) => void;
}

export class Rollout {
  readonly #context: ControllerContext;
  readonly #podsOf: (set: ReplicaSet) => Pod[];
  readonly #wrote: (set: ReplicaSet) => void;
  readonly #now: Date;
  #deployment: Deployment;
  #sets: ReplicaSet[];

  constructor(options: RolloutOptions) {
    this.#context = options.context;
    this.#deployment = options.deployment;
    this.#sets = [...options.sets];
    this.#podsOf = options.podsOf;
    this.#wrote = options.wrote;
    this.#now = options.context.now();
  }

  /** syncDeployment after the claim. */
  async run(): Promise<ReconcileResult> {
    const deployment = this.#deployment;
    if (deployment.metadata.deletionTimestamp !== undefined) return this.#syncStatus(this.#findNew());
    if (await this.#checkPausedConditions()) return;
    if (deployment.spec.paused || this.#isScalingEvent()) return this.#sync();
    return isRollingUpdate(deployment) ? this.#rolloutRolling() : this.#rolloutRecreate();
  }

  // --- the strategies ----------------------------------------------------------------------

  async #rolloutRolling(): Promise<ReconcileResult> {
    const newSet = await this.#getNewReplicaSet(true);
    if (await this.#reconcileNewReplicaSet(newSet) || await this.#reconcileOldReplicaSets(newSet)) return this.#syncRolloutStatus(newSet);
    if (deploymentComplete(this.#deployment, this.#deployment.status ?? {})) await this.#cleanup(newSet);
    return this.#syncRolloutStatus(newSet);
  }

  async #rolloutRecreate(): Promise<ReconcileResult> {
    let newSet = await this.#getNewReplicaSet(false);
    let scaledDown = false;
    for (const old of this.#oldSets(newSet).filter((set) => replicasOf(set) > 0)) scaledDown = (await this.#scaleSet(old, 0)) || scaledDown;
    // Not one new pod while any old pod may still run.
    if (scaledDown || this.#oldPodsRunning(newSet)) return this.#syncRolloutStatus(newSet);
    newSet ??= await this.#getNewReplicaSet(true);
    if (newSet) await this.#scaleSet(newSet, this.#deployment.spec.replicas ?? 1);
    if (deploymentComplete(this.#deployment, this.#deployment.status ?? {})) await this.#cleanup(newSet);
    return this.#syncRolloutStatus(newSet);
  }

  /** Paused or resized: scale proportionally, prune history when paused, report. */
  async #sync(): Promise<ReconcileResult> {
    const newSet = await this.#getNewReplicaSet(false);
    await this.#scale(newSet);
    if (this.#deployment.spec.paused) await this.#cleanup(newSet);
    return this.#syncStatus(newSet);
  }

  async #reconcileNewReplicaSet(newSet: ReplicaSet | undefined): Promise<boolean> {
    if (!newSet) return false;
    const desired = this.#deployment.spec.replicas ?? 1;
    if (replicasOf(newSet) === desired) return false;
    if (replicasOf(newSet) > desired) return this.#scaleSet(newSet, desired);
    return this.#scaleSet(newSet, this.#newReplicaCount(newSet));
  }

  /** NewRSNewReplicas: as many more as maxSurge allows, never past spec.replicas. */
  #newReplicaCount(newSet: ReplicaSet): number {
    const desired = this.#deployment.spec.replicas ?? 1;
    if (!isRollingUpdate(this.#deployment)) return desired;
    const current = sum(this.#sets.map((set) => (set === newSet ? replicasOf(set) : this.#podCount(set))));
    const maxTotal = desired + maxSurge(this.#deployment);
    if (current >= maxTotal) return replicasOf(newSet);
    return replicasOf(newSet) + Math.min(maxTotal - current, desired - replicasOf(newSet));
  }

  async #reconcileOldReplicaSets(newSet: ReplicaSet | undefined): Promise<boolean> {
    const old = this.#oldSets(newSet).filter((set) => replicasOf(set) > 0).sort(byCreation);
    if (old.length === 0) return false;
    const minAvailable = (this.#deployment.spec.replicas ?? 1) - maxUnavailable(this.#deployment);
    const newUnavailable = newSet ? this.#podCount(newSet) - this.#availableCount(newSet) : 0;
    const maxScaledDown = sum(this.#sets.map((set) => this.#podCount(set))) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // First the old pods that are not available anyway: removing them costs nothing.
    let cleaned = 0;
    for (const set of old) {
      if (cleaned >= maxScaledDown) break;
      const current = this.#current(set);
      const unhealthy = replicasOf(current) - this.#availableCount(current);
      if (replicasOf(current) === 0 || unhealthy <= 0) continue;
      const count = Math.min(maxScaledDown - cleaned, unhealthy);
      await this.#scaleSet(current, replicasOf(current) - count);
      cleaned += count;
    }
    // Then available ones, down to minAvailable.
    const available = sum(this.#sets.map((set) => this.#availableCount(set)));
    let scaled = 0;
    if (available > minAvailable) {
      const toScale = available - minAvailable;
      for (const set of old) {
        if (scaled >= toScale) break;
        const current = this.#current(set);
        if (replicasOf(current) === 0) continue;
        const count = Math.min(replicasOf(current), toScale - scaled);
        await this.#scaleSet(current, replicasOf(current) - count);
        scaled += count;
      }
    }
    return cleaned + scaled > 0;
  }

  /** oldPodsRunning: an old set that has or may still make pods, or any old pod not finished. */
  #oldPodsRunning(newSet: ReplicaSet | undefined): boolean {
    return this.#oldSets(newSet).some((set) => {
      if ((set.status?.replicas ?? 0) > 0 || (set.status?.observedGeneration ?? 0) < (set.metadata.generation ?? 1)) return true;
      return this.#podsOf(set).some((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
    });
  }

  /** scale(): a resized Deployment spreads the change over its active sets in proportion to their size. */
  async #scale(newSet: ReplicaSet | undefined): Promise<void> {
    const desired = this.#deployment.spec.replicas ?? 1;
    const old = this.#oldSets(newSet);
    const active = [...old, ...(newSet ? [newSet] : [])].filter((set) => replicasOf(set) > 0);
    if (active.length <= 1) {
      const target = active[0] ?? newSet ?? [...old].sort(byCreation).at(-1);
      if (target && replicasOf(target) !== desired) await this.#scaleSet(target, desired);
      return;
    }
    if (isSaturated(this.#deployment, newSet)) {
      for (const set of old.filter((candidate) => replicasOf(candidate) > 0)) await this.#scaleSet(set, 0);
      return;
    }
    if (!isRollingUpdate(this.#deployment)) return;
    const allowed = desired > 0 ? desired + maxSurge(this.#deployment) : 0;
    const toAdd = allowed - sum(active.map(replicasOf));
    const ordered = [...active].sort(toAdd > 0 ? bySizeNewer : bySizeOlder);
    let added = 0;
    const sizes = ordered.map((set) => {
      const proportion = proportionOf(set, this.#deployment, toAdd, added);
      added += proportion;
      return replicasOf(set) + proportion;
    });
    // The leftovers go to the largest set.
    if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0]! + toAdd - added);
    for (const [index, set] of ordered.entries()) await this.#scaleSet(set, sizes[index]!, true);
  }

  // --- the new ReplicaSet and history ---------------------------------------------------------

  #findNew(): ReplicaSet | undefined {
    return [...this.#sets].sort(byCreation).find((set) => equalIgnoreHash(set.spec.template, this.#deployment.spec.template));
  }

  #oldSets(newSet: ReplicaSet | undefined): ReplicaSet[] {
    return this.#sets.filter((set) => set.metadata.uid !== newSet?.metadata.uid);
  }

  /** getNewReplicaSet: the set running the current template, brought up to date, or created. */
  async #getNewReplicaSet(create: boolean): Promise<ReplicaSet | undefined> {
    const deployment = this.#deployment;
    const existing = this.#findNew();
    const newRevision = maxRevision(this.#oldSets(existing)) + 1;
    if (existing) {
      const updated = clone(existing) as ReplicaSet;
      const annotationsChanged = setNewReplicaSetAnnotations(deployment, updated, newRevision, true);
      const minReadyChanged = (updated.spec.minReadySeconds ?? 0) !== (deployment.spec.minReadySeconds ?? 0);
      let current = existing;
      if (annotationsChanged || minReadyChanged) {
        updated.spec.minReadySeconds = deployment.spec.minReadySeconds ?? 0;
        current = await this.#writeSet(updated);
      }
      await this.#setDeploymentRevision(current.metadata.annotations?.[REVISION_ANNOTATION]);
      if (hasProgressDeadline(deployment) && !getCondition(this.#deployment.status ?? {}, 'Progressing')) {
        const status = clone(this.#deployment.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', REASONS.foundNewReplicaSet, `Found new replica set "${current.metadata.name}"`, this.#now));
        await this.#writeStatus(status);
      }
      return current;
    }
    if (!create) return undefined;

    const collisionCount = deployment.status?.collisionCount;
    const hash = computeHash(deployment.spec.template, collisionCount);
    const template = clone(deployment.spec.template);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = clone(deployment.spec.selector);
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${deployment.metadata.name}-${hash}`;
    const fresh: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: deployment.metadata.namespace, labels: { ...template.metadata.labels }, ownerReferences: [controllerRefTo(deployment)] },
      spec: { replicas: 0, minReadySeconds: deployment.spec.minReadySeconds ?? 0, selector, template },
    };
    fresh.spec.replicas = this.#newReplicaCount(fresh);
    setNewReplicaSetAnnotations(deployment, fresh, newRevision, false);
    let created: ReplicaSet;
    try {
      created = (await this.#context.client.create(replicaSets, deployment.metadata.namespace, fresh)) as ReplicaSet;
    } catch (error) {
      if ((error as ApiError).code === 409 && (error as ApiError).reason === 'AlreadyExists') return this.#onNameTaken(name);
      const message = `Failed to create new replica set "${name}": ${error instanceof Error ? error.message : String(error)}`;
      if (hasProgressDeadline(deployment)) {
        const status = clone(this.#deployment.status ?? {});
        setCondition(status, newCondition('Progressing', 'False', REASONS.replicaSetCreateError, message, this.#now));
        // The create error is what gets retried; a stale status write here only costs the condition.
        await this.#writeStatus(status).catch((statusError: unknown) => this.#context.logger.debug('could not record ReplicaSetCreateError', { deployment: name, error: statusError }));
      }
      this.#context.recorder.event(deployment, 'Warning', 'FailedCreate', message);
      throw error;
    }
    this.#sets.push(created);
    this.#wrote(created);
    if (replicasOf(created) > 0) this.#context.recorder.event(deployment, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} to ${replicasOf(created)}`);
    await this.#setDeploymentRevision(String(newRevision));
    if (hasProgressDeadline(deployment)) {
      const status = clone(this.#deployment.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', REASONS.newReplicaSetCreated, `Created new replica set "${name}"`, this.#now));
      await this.#writeStatus(status);
    }
    return created;
  }

  /** The name is taken: ours from an earlier sync (fine), or someone else's (a hash collision). */
  async #onNameTaken(name: string): Promise<ReplicaSet> {
    const deployment = this.#deployment;
    const taken = (await this.#context.client.get(replicaSets, deployment.metadata.namespace, name)) as ReplicaSet;
    if (controllerOf(taken)?.uid === deployment.metadata.uid && equalIgnoreHash(taken.spec.template, deployment.spec.template)) {
      this.#wrote(taken);
      return taken;
    }
    const status = clone(this.#deployment.status ?? {});
    status.collisionCount = (status.collisionCount ?? 0) + 1;
    await this.#writeStatus(status);
    throw new Error(`replica set ${name} already exists with another template; collisionCount is now ${status.collisionCount}`);
  }

  /** cleanupDeployment: delete the oldest scaled-down sets beyond revisionHistoryLimit. */
  async #cleanup(newSet: ReplicaSet | undefined): Promise<void> {
    const limit = this.#deployment.spec.revisionHistoryLimit;
    if (limit === undefined) return;
    const alive = this.#oldSets(newSet).filter((set) => set.metadata.deletionTimestamp === undefined).sort(byRevision);
    for (const set of alive.slice(0, Math.max(0, alive.length - limit))) {
      const settled = (set.status?.replicas ?? 0) === 0 && replicasOf(set) === 0 && (set.metadata.generation ?? 1) <= (set.status?.observedGeneration ?? 0);
      if (!settled) continue;
      try {
        await this.#context.client.delete(replicaSets, set.metadata.namespace, set.metadata.name ?? '', { preconditions: { uid: set.metadata.uid ?? '' } });
      } catch (error) {
        if ((error as ApiError).code !== 404) throw error;
      }
    }
  }

  // --- status -----------------------------------------------------------------------------

  /** checkPausedConditions: Progressing=Unknown DeploymentPaused/DeploymentResumed. True when status was written. */
  async #checkPausedConditions(): Promise<boolean> {
    const deployment = this.#deployment;
    if (!hasProgressDeadline(deployment)) return false;
    const condition = getCondition(deployment.status ?? {}, 'Progressing');
    if (condition?.reason === REASONS.timedOut) return false;
    const pausedShown = condition?.reason === REASONS.paused;
    const status = clone(deployment.status ?? {});
    if (deployment.spec.paused && !pausedShown) {
      setCondition(status, newCondition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused', this.#now));
    } else if (!deployment.spec.paused && pausedShown) {
      setCondition(status, newCondition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed', this.#now));
    } else {
      return false;
    }
    await this.#writeStatus(status);
    return true;
  }

  async #syncStatus(newSet: ReplicaSet | undefined): Promise<ReconcileResult> {
    await this.#writeStatus(calculateStatus(this.#deployment, this.#sets, newSet, this.#now));
  }

  async #syncRolloutStatus(newSet: ReplicaSet | undefined): Promise<ReconcileResult> {
    const status = rolloutStatus(this.#deployment, this.#sets, newSet, this.#now);
    await this.#writeStatus(status);
    return deadlineRequeue(this.#deployment, status, this.#now);
  }

  // --- writes -----------------------------------------------------------------------------

  /** scaleReplicaSetAndRecordEvent; `always` also refreshes the replica annotations at the same size. */
  async #scaleSet(set: ReplicaSet, replicas: number, always = false): Promise<boolean> {
    const current = this.#current(set);
    const sizeChanged = replicasOf(current) !== replicas;
    if (!sizeChanged && !always) return false;
    const updated = clone(current) as ReplicaSet;
    const desired = this.#deployment.spec.replicas ?? 1;
    const annotationsChanged = setReplicasAnnotations(updated, desired, desired + maxSurge(this.#deployment));
    if (!sizeChanged && !annotationsChanged) return false;
    updated.spec.replicas = replicas;
    await this.#writeSet(updated);
    if (sizeChanged) {
      const direction = replicasOf(current) < replicas ? 'up' : 'down';
      this.#context.recorder.event(this.#deployment, 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${current.metadata.name} to ${replicas}`);
    }
    return sizeChanged;
  }

  async #writeSet(set: ReplicaSet): Promise<ReplicaSet> {
    const written = (await this.#context.client.update(replicaSets, set.metadata.namespace, set)) as ReplicaSet;
    this.#sets = this.#sets.map((existing) => (existing.metadata.uid === written.metadata.uid ? written : existing));
    this.#wrote(written);
    return written;
  }

  /** The deployment.kubernetes.io/revision annotation; metadata, so not through the status subresource. */
  async #setDeploymentRevision(revision: string | undefined): Promise<void> {
    if (revision === undefined || this.#deployment.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    const updated = clone(this.#deployment);
    updated.metadata.annotations = { ...updated.metadata.annotations, [REVISION_ANNOTATION]: revision };
    this.#deployment = (await this.#context.client.update(deployments, updated.metadata.namespace, updated)) as Deployment;
  }

  async #writeStatus(status: DeploymentStatus): Promise<void> {
    if (deepEqual(this.#deployment.status ?? {}, status)) return;
    const updated = clone(this.#deployment);
    updated.status = status;
    this.#deployment = (await this.#context.client.update(deployments, updated.metadata.namespace, updated, { subresource: 'status' })) as Deployment;
  }

  // --- counting -----------------------------------------------------------------------------

  #current(set: ReplicaSet): ReplicaSet {
    return this.#sets.find((existing) => existing.metadata.uid === set.metadata.uid) ?? set;
  }

  #podCount(set: ReplicaSet): number {
    return Math.max(replicasOf(set), this.#podsOf(set).filter(isPodActive).length);
  }

  #availableCount(set: ReplicaSet): number {
    const minReadySeconds = this.#deployment.spec.minReadySeconds ?? 0;
    const nowMs = this.#now.getTime();
    return Math.min(replicasOf(set), this.#podsOf(set).filter((pod) => isPodActive(pod) && isPodAvailable(pod, minReadySeconds, nowMs)).length);
  }

  /** isScalingEvent: an active set was sized for another spec.replicas. */
  #isScalingEvent(): boolean {
    const desired = this.#deployment.spec.replicas ?? 1;
    return this.#sets.some((set) => replicasOf(set) > 0 && desiredReplicasOf(set) !== undefined && desiredReplicasOf(set) !== desired);
  }
}
