/**
 * What the garbage collector needs to know about ownerReferences: where each points, how it stands
 * (solid, dangling, waiting for its dependents), and the small writes it makes to metadata.
 */
import type { ApiError } from '../../../api/errors.js';
import { clone } from '../../../api/meta.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { qualifiedName, RESOURCES, resourceForKind } from '../../../api/resources.js';
import type { KubeObject, OwnerReference } from '../../../api/types.js';
import type { ApiClient } from '../../../client/api-client.js';
import { FOREGROUND_FINALIZER } from '../api/deletion-plan.js';

export interface ObjectRef {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

/** Every kind that can own or depend; Events are left out (they expire on their own and own nothing). */
export const COLLECTED_RESOURCES: readonly ResourceInfo[] = RESOURCES.filter((info) => info.kind !== 'Event');

const byQualifiedName = new Map(COLLECTED_RESOURCES.map((info) => [qualifiedName(info), info]));

/** `pods:default/web-1`, `deployments.apps:default/web`, `nodes:node-1`: one queue holds every kind. */
export function collectorKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${qualifiedName(info)}:${namespace ? `${namespace}/` : ''}${name}`;
}

export function parseCollectorKey(key: string): ObjectRef | undefined {
  const colon = key.indexOf(':');
  const info = byQualifiedName.get(key.slice(0, colon));
  if (colon < 0 || !info) return undefined;
  const rest = key.slice(colon + 1);
  const slash = rest.indexOf('/');
  return slash < 0 ? { info, namespace: undefined, name: rest } : { info, namespace: rest.slice(0, slash), name: rest.slice(slash + 1) };
}

/**
 * The object an ownerReference names: a namespaced owner lives in its dependent's namespace. A kind
 * pm8s does not serve, or a namespaced owner of a cluster-scoped object, cannot be resolved: such a
 * reference counts as a live owner, so the collector never deletes on a guess.
 */
export function ownerTarget(dependent: KubeObject, reference: OwnerReference): ObjectRef | undefined {
  const info = resourceForKind(reference.apiVersion, reference.kind);
  if (!info) return undefined;
  if (info.namespaced && !dependent.metadata.namespace) return undefined;
  return { info, namespace: info.namespaced ? dependent.metadata.namespace : undefined, name: reference.name };
}

/** solid: the owner exists and keeps the dependent; dangling: it is gone (or was replaced); waiting: it is being deleted in the foreground. */
export type OwnerState = 'solid' | 'dangling' | 'waiting';

export function stateOfOwner(owner: KubeObject | undefined, reference: OwnerReference): OwnerState | undefined {
  if (!owner || owner.metadata.uid !== reference.uid) return undefined;
  const waiting = owner.metadata.deletionTimestamp !== undefined && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER);
  return waiting ? 'waiting' : 'solid';
}

export const isNotFound = (error: unknown): boolean => (error as ApiError | undefined)?.code === 404;
const isConflict = (error: unknown): boolean => (error as ApiError | undefined)?.code === 409;

/** A few fresh reads on conflict before giving the key back to the queue's backoff. */
const UPDATE_ATTEMPTS = 4;

/**
 * Applies `change` to the object and writes it with the resourceVersion read. A 409 re-reads the live
 * object and tries again; a change returning false means nothing to do. Returns quietly when the object
 * (this uid) is gone.
 */
export async function updateObject(client: ApiClient, info: ResourceInfo, object: KubeObject, change: (copy: KubeObject) => boolean): Promise<void> {
  let current = object;
  for (let attempt = 1; ; attempt++) {
    const copy = clone(current);
    if (!change(copy)) return;
    try {
      await client.update(info, copy.metadata.namespace, copy);
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error) || attempt >= UPDATE_ATTEMPTS) throw error;
    }
    const live = await getSame(client, info, object);
    if (!live) return;
    current = live;
  }
}

/** The live object if it still is the one (uid) we know, else undefined. */
export async function getSame(client: ApiClient, info: ResourceInfo, object: KubeObject): Promise<KubeObject | undefined> {
  try {
    const live = await client.get(info, object.metadata.namespace, object.metadata.name ?? '');
    return live.metadata.uid === object.metadata.uid ? live : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Drops the references to these owner uids; false when there are none. */
export function withoutOwners(copy: KubeObject, uids: ReadonlySet<string>): boolean {
  const references = copy.metadata.ownerReferences ?? [];
  const kept = references.filter((reference) => !uids.has(reference.uid));
  if (kept.length === references.length) return false;
  if (kept.length > 0) copy.metadata.ownerReferences = kept;
  else delete copy.metadata.ownerReferences;
  return true;
}

/** Drops one finalizer; false when it is not there. */
export function withoutFinalizer(copy: KubeObject, finalizer: string): boolean {
  const finalizers = copy.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) return false;
  const kept = finalizers.filter((name) => name !== finalizer);
  if (kept.length > 0) copy.metadata.finalizers = kept;
  else delete copy.metadata.finalizers;
  return true;
}
