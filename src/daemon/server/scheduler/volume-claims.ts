/**
 * A pod's PersistentVolumeClaims on node-local storage (kube-scheduler's VolumeBinding, reduced):
 * a claim that already lives on a node (`volume.kubernetes.io/selected-node`) pins the pod there;
 * a claim that does not is placed on the node chosen for the pod, before the pod is bound.
 */
import type { PersistentVolumeClaim } from '../../../api/kinds/pvc.js';
import type { Pod } from '../../../api/kinds/pod.js';
import { resolveResource } from '../../../api/resources.js';
import type { ApiClient } from '../../../client/api-client.js';
import type { Informer } from '../../../client/informer.js';

export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';

const claims = resolveResource('persistentvolumeclaims')!;

export type ClaimCheck =
  /** Usable: `pinnedNode` as in SchedulingPod; `toPlace` still need a node or their Bound phase. */
  | { ok: true; pinnedNode: string | null | undefined; toPlace: PersistentVolumeClaim[] }
  /** Not schedulable anywhere until the claim changes: the message says why. */
  | { ok: false; message: string };

export function checkClaims(pod: Pod, informer: Informer): ClaimCheck {
  let pinnedNode: string | null | undefined;
  const toPlace: PersistentVolumeClaim[] = [];
  for (const volume of pod.spec.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const claim = informer.get(pod.metadata.namespace, claimName) as PersistentVolumeClaim | undefined;
    if (!claim) return { ok: false, message: `persistentvolumeclaim "${claimName}" not found` };
    if (claim.metadata.deletionTimestamp) return { ok: false, message: `persistentvolumeclaim "${claimName}" is being deleted` };
    const selected = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (selected) pinnedNode = pinnedNode === undefined || pinnedNode === selected ? selected : null;
    if (!selected || claim.status?.phase !== 'Bound') toPlace.push(claim);
  }
  return { ok: true, pinnedNode, toPlace };
}

/**
 * Puts the claim on the node: the annotation first (conditional on the version we decided from, so
 * two pods never place one claim on two nodes), then status Bound with the requested capacity.
 */
export async function placeClaim(client: ApiClient, claim: PersistentVolumeClaim, nodeName: string): Promise<void> {
  const namespace = claim.metadata.namespace;
  const name = claim.metadata.name ?? '';
  if (!claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION]) {
    await client.patch(claims, namespace, name, 'application/merge-patch+json', {
      metadata: { resourceVersion: claim.metadata.resourceVersion, annotations: { [SELECTED_NODE_ANNOTATION]: nodeName } },
    });
  }
  const storage = claim.spec.resources?.requests?.storage;
  await client.patch(
    claims,
    namespace,
    name,
    'application/merge-patch+json',
    { status: { phase: 'Bound', accessModes: claim.spec.accessModes, ...(storage === undefined ? {} : { capacity: { storage } }) } },
    { subresource: 'status' },
  );
}
