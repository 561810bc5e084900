/**
 * Where a DaemonSet's pods belong and what they look like: Kubernetes' nodeShouldRunDaemonPod,
 * the automatic daemon tolerations, the node-name affinity the scheduler binds by, the template
 * hash, and pod availability. Pure functions, so the controller stays about reconciling.
 */
import type { DaemonSet } from '../../../api/kinds/daemonset.js';
import type { Node } from '../../../api/kinds/node.js';
import type { Pod, PodSpec, PodTemplateSpec } from '../../../api/kinds/pod.js';
import { clone, randomSuffix } from '../../../api/meta.js';
import { podFromTemplate } from './pod-template.js';
import { matchesTerm, tolerates } from '../scheduler/filters.js';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** Set by Kubernetes' API server when the template changes; pm8s falls back to metadata.generation. */
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

type Toleration = NonNullable<PodSpec['tolerations']>[number];
type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];
type NodeSelectorTerm = NonNullable<NonNullable<NonNullable<PodSpec['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms'][number];

/**
 * AddOrUpdateDaemonPodTolerations: daemon pods survive node trouble (never evicted for not-ready
 * or unreachable) and keep running on cordoned or pressured nodes.
 */
const DAEMON_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const HOST_NETWORK_TOLERATION: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

/** The spec's tolerations with each daemon toleration added, replacing one with the same key and effect. */
export function withDaemonTolerations(spec: PodSpec): Toleration[] {
  const tolerations = [...(spec.tolerations ?? [])];
  const wanted = spec.hostNetwork ? [...DAEMON_TOLERATIONS, HOST_NETWORK_TOLERATION] : DAEMON_TOLERATIONS;
  for (const toleration of wanted) {
    const existing = tolerations.findIndex((candidate) => candidate.key === toleration.key && candidate.effect === toleration.effect);
    if (existing < 0) tolerations.push({ ...toleration });
    else tolerations[existing] = { ...toleration };
  }
  return tolerations;
}

/** The node's taints, plus the one Kubernetes' node lifecycle adds for `spec.unschedulable` (cordon). */
function taintsOf(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable && !taints.some((taint) => taint.key === 'node.kubernetes.io/unschedulable')) {
    taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  }
  return taints;
}

const hasUntolerated = (taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): boolean =>
  taints.some((taint) => effects.includes(taint.effect) && !tolerations.some((toleration) => tolerates(toleration, taint)));

/** nodeSelector (every label equal) and required node affinity (terms ORed). */
function matchesNodeAffinity(spec: PodSpec, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || required.nodeSelectorTerms.some((term) => matchesTerm(term, node));
}

export interface Placement {
  /** A daemon pod should be created here if there is none. */
  shouldRun: boolean;
  /** A daemon pod already here may stay (false: delete it). */
  shouldContinueRunning: boolean;
}

/**
 * Kubernetes' NodeShouldRunDaemonPod: the node must match the template's nodeName, nodeSelector
 * and required affinity, and the pod (with the daemon tolerations) must tolerate its NoSchedule and
 * NoExecute taints. A new untolerated NoSchedule taint stops new pods but keeps a running one;
 * only an untolerated NoExecute taint removes it.
 */
export function nodeShouldRunDaemonPod(node: Node, daemonSet: DaemonSet): Placement {
  const spec = daemonSet.spec.template.spec;
  const nodeName = node.metadata.name ?? '';
  if (spec.nodeName && spec.nodeName !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = taintsOf(node);
  const tolerations = withDaemonTolerations(spec);
  if (hasUntolerated(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    return { shouldRun: false, shouldContinueRunning: !hasUntolerated(taints, tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * ReplaceDaemonSetPodNodeNameNodeAffinity: every required term gets `metadata.name In [node]` as
 * its only matchFields entry, so the scheduler can place the pod on that node and nowhere else.
 */
export function setNodeNameAffinity(spec: PodSpec, nodeName: string): void {
  const field = { key: 'metadata.name', operator: 'In' as const, values: [nodeName] };
  const affinity = (spec.affinity ??= {});
  const nodeAffinity = (affinity.nodeAffinity ??= {});
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  const terms: NodeSelectorTerm[] = required?.nodeSelectorTerms ?? [];
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: terms.length === 0 ? [{ matchFields: [field] }] : terms.map((term) => ({ ...term, matchFields: [{ ...field, values: [nodeName] }] })),
  };
}

/** GetTargetNodeName: the node a daemon pod is bound to, or the one its affinity pins it to. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const field of term.matchFields ?? []) {
      if (field.key === 'metadata.name' && field.operator === 'In' && field.values?.length === 1) return field.values[0];
    }
  }
  return undefined;
}

/** JSON with object keys sorted, so equal templates always hash alike. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The `controller-revision-hash` of a template: FNV-32a over the template (and collisionCount),
 * written in Kubernetes' rand.SafeEncodeString alphabet, as ComputeHash does.
 */
export function templateHash(template: PodTemplateSpec, collisionCount: number | undefined): string {
  const bytes = Buffer.from(stableJson(template) + (collisionCount === undefined ? '' : `/${collisionCount}`));
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return [...String(hash)].map((char) => SAFE_ALPHABET[char.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

export function templateGeneration(daemonSet: DaemonSet): string {
  return daemonSet.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? String(daemonSet.metadata.generation ?? 1);
}

/** Kubernetes' generateName keeps room for the 5-character suffix within 63 characters. */
const MAX_GENERATED_BASE = 58;

/** A daemon pod for `nodeName`: template labels plus the revision labels, owned by the DaemonSet. */
export function newDaemonPod(daemonSet: DaemonSet, nodeName: string, hash: string): Pod {
  const template = daemonSet.spec.template;
  const spec = clone(template.spec);
  spec.tolerations = withDaemonTolerations(spec);
  setNodeNameAffinity(spec, nodeName);
  const base = `${daemonSet.metadata.name ?? ''}-`.slice(0, MAX_GENERATED_BASE);
  return podFromTemplate(daemonSet, template, {
    // Named here rather than by the server, so the controller can expect the pod before it exists.
    name: `${base}${randomSuffix()}`,
    generateName: base,
    labels: { [CONTROLLER_REVISION_HASH_LABEL]: hash, [POD_TEMPLATE_GENERATION_LABEL]: templateGeneration(daemonSet) },
    spec,
  }) as unknown as Pod;
}

export const isPodUpdated = (pod: Pod, hash: string): boolean => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;

export const isPodReady = (pod: Pod): boolean => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;

/**
 * podutil.IsPodAvailable: Ready for at least minReadySeconds. `waitMs` says how long until a Ready
 * pod becomes available, so the controller can look again then.
 */
export function podAvailability(pod: Pod, minReadySeconds: number, nowMs: number): { available: boolean; waitMs?: number } {
  const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready' && condition.status === 'True');
  if (!ready) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  if (Number.isNaN(since)) return { available: true };
  const waitMs = since + minReadySeconds * 1000 - nowMs;
  return waitMs <= 0 ? { available: true } : { available: false, waitMs };
}

/** intstr.GetScaledValueFromIntOrPercent: an int as is, or a percentage of `total`. */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const percent = Number(value.slice(0, -1));
  const scaled = (percent * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
