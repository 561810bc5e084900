/**
 * Controller references (Kubernetes' ControllerRefManager): which object controls which, and the
 * claim step that adopts matching orphans and releases owned objects that stopped matching.
 */
import type { ApiError } from '../../../api/errors.js';
import { clone } from '../../../api/meta.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { matchesLabels } from '../../../api/selectors.js';
import type { LabelSelector } from '../../../api/selectors.js';
import type { KubeObject, OwnerReference } from '../../../api/types.js';
import type { ApiClient } from '../../../client/api-client.js';

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((reference) => reference.controller === true);
}

/** The reference a controller puts on what it creates or adopts. */
export function controllerRefTo(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The controller of `object` if it is of `kind` and is the very object (same uid) `lookup` finds. */
export function resolveControllerRef<T extends KubeObject>(
  object: KubeObject,
  kind: string,
  lookup: (namespace: string | undefined, name: string) => KubeObject | undefined,
): T | undefined {
  const reference = controllerOf(object);
  if (!reference || reference.kind !== kind) return undefined;
  const owner = lookup(object.metadata.namespace, reference.name);
  return owner && owner.metadata.uid === reference.uid ? (owner as T) : undefined;
}

const isNotFound = (error: unknown): boolean => (error as ApiError | undefined)?.code === 404;

export interface ClaimOptions {
  client: ApiClient;
  /** The resource of the candidates (pods, replicasets). */
  info: ResourceInfo;
  /** The owner's resource, to re-read it before adopting. */
  ownerInfo: ResourceInfo;
  owner: KubeObject;
  selector: LabelSelector;
}

/**
 * ClaimObjects: returns the candidates `owner` controls after adopting orphans that match its
 * selector and releasing owned ones that no longer do. Writes use the cached resourceVersion, so a
 * stale view fails with 409 (the caller retries) instead of undoing someone else's change.
 */
export async function claimObjects<T extends KubeObject>(candidates: readonly T[], options: ClaimOptions): Promise<T[]> {
  const { client, info, owner, selector } = options;
  const ownerUid = owner.metadata.uid;
  const ownerDeleting = owner.metadata.deletionTimestamp !== undefined;
  let canAdopt: boolean | undefined;
  const claimed: T[] = [];
  for (const candidate of candidates) {
    const reference = controllerOf(candidate);
    const matches = matchesLabels(selector, candidate.metadata.labels);
    if (reference) {
      if (reference.uid !== ownerUid) continue;
      if (matches) {
        claimed.push(candidate);
      } else if (!ownerDeleting) {
        const released = clone(candidate) as KubeObject;
        released.metadata.ownerReferences = (released.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== ownerUid);
        await ignoreNotFound(client.update(info, candidate.metadata.namespace, released));
      }
      continue;
    }
    if (ownerDeleting || !matches || candidate.metadata.deletionTimestamp !== undefined) continue;
    // RecheckDeletionTimestamp: never adopt for an owner that is going away or was replaced.
    canAdopt ??= await ownerStillLive(options);
    if (!canAdopt) continue;
    const adopted = clone(candidate) as KubeObject;
    adopted.metadata.ownerReferences = [...(adopted.metadata.ownerReferences ?? []), controllerRefTo(owner)];
    const written = await ignoreNotFound(client.update(info, candidate.metadata.namespace, adopted));
    if (written) claimed.push(written as T);
  }
  return claimed;
}

async function ownerStillLive({ client, ownerInfo, owner }: ClaimOptions): Promise<boolean> {
  try {
    const fresh = await client.get(ownerInfo, owner.metadata.namespace, owner.metadata.name ?? '');
    return fresh.metadata.uid === owner.metadata.uid && fresh.metadata.deletionTimestamp === undefined;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function ignoreNotFound(write: Promise<KubeObject>): Promise<KubeObject | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
