/**
 * The pure half of the StatefulSet controller (Kubernetes' stateful_set_utils.go): stable pod and
 * claim names, identity labels, revision hashes, pod health, and claim ownership by retention policy.
 */
import { clone } from '../../../api/meta.js';
import type { PodSpec, PodTemplateSpec } from '../../../api/kinds/pod.js';
import type { PersistentVolumeClaim } from '../../../api/kinds/pvc.js';
import type { StatefulSet } from '../../../api/kinds/statefulset.js';
import type { KubeObject, OwnerReference } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import { controllerRefTo } from './controller-ref.js';
import { podFromTemplate } from './pod-template.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

const IDENTITY_LABELS = [POD_NAME_LABEL, POD_INDEX_LABEL, REVISION_LABEL];

/** `web-3` → { parent: 'web', ordinal: 3 }; a name without a numeric suffix has ordinal -1. */
export function parentAndOrdinal(name: string | undefined): { parent: string; ordinal: number } {
  const match = /^(.*)-([0-9]+)$/.exec(name ?? '');
  if (!match) return { parent: '', ordinal: -1 };
  const ordinal = Number(match[2]);
  return { parent: match[1] ?? '', ordinal: Number.isSafeInteger(ordinal) && ordinal <= 2 ** 31 - 1 ? ordinal : -1 };
}

export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata.name}-${ordinal}`;

export const claimName = (template: string, set: StatefulSet, ordinal: number): string => `${template}-${set.metadata.name}-${ordinal}`;

export const startOrdinal = (set: StatefulSet): number => set.spec.ordinals?.start ?? 0;

/** Whether the pod's ordinal is in [start, start + replicas): outside it the pod is condemned. */
export function inOrdinalRange(set: StatefulSet, pod: KubeObject): boolean {
  const { ordinal } = parentAndOrdinal(pod.metadata.name);
  return ordinal >= startOrdinal(set) && ordinal < startOrdinal(set) + (set.spec.replicas ?? 1);
}

// --- revisions ---------------------------------------------------------------------------------

/** JSON with sorted keys, so the same template always hashes the same whatever order it was written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** FNV-1a, 32 bits: the hash Kubernetes uses for revision names. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** rand.SafeEncodeString: digits mapped onto an alphabet with no vowels, so hashes never spell words. */
function safeEncode(text: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...text].map((char) => alphabet[char.charCodeAt(0) % alphabet.length]).join('');
}

/**
 * `<set>-<hash>` of the pod template (and collisionCount), as Kubernetes names ControllerRevisions.
 * pm8s has no ControllerRevision kind: the name lives only in status and on pods.
 */
export function revisionName(set: StatefulSet, template: PodTemplateSpec = set.spec.template): string {
  const collisions = set.status?.collisionCount ?? 0;
  const hash = fnv32a(canonicalJson(template) + (collisions > 0 ? `/${collisions}` : ''));
  return `${set.metadata.name}-${safeEncode(String(hash))}`;
}

export const revisionOf = (pod: KubeObject): string | undefined => pod.metadata.labels?.[REVISION_LABEL];

/**
 * The template a pod was made from, for recreating a pod at an older revision (Kubernetes reads it
 * from the ControllerRevision): the pod's labels and spec minus what the controller and scheduler add.
 */
export function templateFromPod(pod: KubeObject): PodTemplateSpec {
  const labels = Object.fromEntries(Object.entries(pod.metadata.labels ?? {}).filter(([key]) => !IDENTITY_LABELS.includes(key)));
  const spec = clone(pod.spec) as PodSpec;
  delete spec.nodeName;
  delete spec.hostname;
  delete spec.subdomain;
  return { metadata: { labels, ...(pod.metadata.annotations ? { annotations: clone(pod.metadata.annotations) } : {}) }, spec };
}

// --- pods and claims ---------------------------------------------------------------------------

/** newStatefulSetPod: the template with the ordinal's identity, storage and revision. */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec, ordinal: number, revision: string): KubeObject {
  const name = podName(set, ordinal);
  const spec = clone(template.spec);
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = set.spec.volumeClaimTemplates ?? [];
  const claimVolumes = claims.map((claim) => ({ name: claim.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(claim.metadata?.name ?? '', set, ordinal) } }));
  // A template volume with a claim template's name is replaced by the claim, as in Kubernetes.
  const otherVolumes = (spec.volumes ?? []).filter((volume) => !claimVolumes.some((claim) => claim.name === volume.name));
  if (claimVolumes.length + otherVolumes.length > 0) spec.volumes = [...claimVolumes, ...otherVolumes];
  return podFromTemplate(set, template, { name, labels: { ...identityLabels(set, ordinal), [REVISION_LABEL]: revision }, spec });
}

export function identityLabels(set: StatefulSet, ordinal: number): Record<string, string> {
  return { [POD_NAME_LABEL]: podName(set, ordinal), [POD_INDEX_LABEL]: String(ordinal) };
}

/** The claims a pod at this ordinal uses: `<template>-<set>-<ordinal>`, labelled with the selector's matchLabels. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  return (set.spec.volumeClaimTemplates ?? []).map((template) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(template.metadata?.name ?? '', set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...template.metadata?.labels, ...set.spec.selector.matchLabels },
      ...(template.metadata?.annotations ? { annotations: clone(template.metadata.annotations) } : {}),
    },
    spec: clone(template.spec),
  }));
}

/**
 * The owner references a claim should have under persistentVolumeClaimRetentionPolicy
 * (updateClaimOwnerRefForSetAndPod): whenDeleted=Delete → the set; whenScaled=Delete and the pod
 * scaled away → the pod. Undefined when they are already right, when another controller owns the
 * claim, or when it refers to an earlier set or pod of the same name (the garbage collector's now).
 */
export function claimOwnersFor(claim: KubeObject, set: StatefulSet, pod: KubeObject, scaledDown: boolean): OwnerReference[] | undefined {
  const references = claim.metadata.ownerReferences ?? [];
  const isSetReference = (reference: OwnerReference) => reference.kind === 'StatefulSet' && reference.name === set.metadata.name;
  const isPodReference = (reference: OwnerReference) => reference.kind === 'Pod' && reference.name === pod.metadata.name;
  const stale = references.some(
    (reference) => (isSetReference(reference) && reference.uid !== set.metadata.uid) || (isPodReference(reference) && reference.uid !== pod.metadata.uid),
  );
  const foreign = references.some((reference) => reference.controller === true && !isSetReference(reference) && !isPodReference(reference));
  if (stale || foreign) return undefined;
  const wanted = references.filter((reference) => !isSetReference(reference) && !isPodReference(reference));
  const policy = set.spec.persistentVolumeClaimRetentionPolicy;
  if (scaledDown && policy?.whenScaled === 'Delete') wanted.push(controllerRefTo(pod));
  else if (policy?.whenDeleted === 'Delete') wanted.push(controllerRefTo(set));
  const same = wanted.length === references.length && wanted.every((reference, index) => reference.uid === references[index]?.uid);
  return same ? undefined : wanted;
}

/** The owner references a new claim starts with: the set's when whenDeleted is Delete. */
export function newClaimOwners(set: StatefulSet): OwnerReference[] {
  return set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete' ? [controllerRefTo(set)] : [];
}

/** PodClaimIsStale: a claim still going away, or tied to an earlier pod of this name, must be gone before the pod comes back. */
export function claimIsStale(claim: KubeObject, podName: string): boolean {
  return claim.metadata.deletionTimestamp !== undefined || (claim.metadata.ownerReferences ?? []).some((reference) => reference.kind === 'Pod' && reference.name === podName);
}

// --- pod health --------------------------------------------------------------------------------

interface PodStatusView {
  phase?: string;
  conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>;
}

const statusOf = (pod: KubeObject): PodStatusView => (isRecord(pod.status) ? (pod.status as PodStatusView) : {});

export const isTerminating = (pod: KubeObject): boolean => pod.metadata.deletionTimestamp !== undefined;

export const hasFinished = (pod: KubeObject): boolean => statusOf(pod).phase === 'Failed' || statusOf(pod).phase === 'Succeeded';

export const isPending = (pod: KubeObject): boolean => (statusOf(pod).phase ?? 'Pending') === 'Pending';

export function isRunningAndReady(pod: KubeObject): boolean {
  const status = statusOf(pod);
  return status.phase === 'Running' && (status.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

export const isHealthy = (pod: KubeObject): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/** Milliseconds until a running, ready pod counts as available (0: it does; Infinity: it is not ready). */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: Date): number {
  if (!isRunningAndReady(pod)) return Infinity;
  if (minReadySeconds <= 0) return 0;
  const ready = (statusOf(pod).conditions ?? []).find((condition) => condition.type === 'Ready');
  const since = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  if (Number.isNaN(since)) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - now.getTime());
}
