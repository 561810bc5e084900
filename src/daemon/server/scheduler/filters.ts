/**
 * Filters (kube-scheduler's Filter plugins) as pure functions of a pod and a node: each returns the
 * reasons the pod cannot go there, in Kubernetes' own words, or none. Run in Kubernetes' order;
 * the first filter that fails decides a node's reasons, as the default profile does.
 */
import type { Node } from '../../../api/kinds/node.js';
import type { Pod } from '../../../api/kinds/pod.js';
import type { NodeInfo, PodRequest } from './node-info.js';
import { portsConflict } from './node-info.js';

/** A pod being scheduled, with everything derived from it once per attempt. */
export interface SchedulingPod {
  pod: Pod;
  request: PodRequest;
  /** The node its PersistentVolumeClaims are pinned to (`volume.kubernetes.io/selected-node`); null if pinned to two different nodes. */
  pinnedNode?: string | null;
}

type Toleration = NonNullable<Pod['spec']['tolerations']>[number];
type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];
type NodeSelectorTerm = NonNullable<NonNullable<NonNullable<Pod['spec']['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms'][number];
type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchExpressions']>[number];

export const REASONS = {
  notReady: 'node(s) were not ready',
  unschedulable: 'node(s) were unschedulable',
  affinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: 'Too many pods',
  insufficientCpu: 'Insufficient cpu',
  insufficientMemory: 'Insufficient memory',
  volumeConflict: 'node(s) had volume node affinity conflict',
} as const;

export const untoleratedTaintReason = (taint: Taint): string => `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;

const NONE: readonly string[] = [];

export type Filter = (pod: SchedulingPod, node: NodeInfo) => readonly string[];

/** Kubernetes' ToleratesTaint: effect and key match (empty matches all), then Exists, or Equal values. */
export function tolerates(toleration: Toleration, taint: { key: string; value?: string | undefined; effect: string }): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

const toleratedBy = (pod: Pod, taint: { key: string; value?: string; effect: string }): boolean =>
  (pod.spec.tolerations ?? []).some((toleration) => tolerates(toleration, taint));

/**
 * Ready=True, unless the pod tolerates the taint Kubernetes would put on such a node
 * (DaemonSet pods do). pm8s says so in its own words; Kubernetes shows it as a taint.
 */
export const readyFilter: Filter = ({ pod }, { node }) => {
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status;
  if (ready === 'True') return NONE;
  const key = ready === 'Unknown' ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready';
  return toleratedBy(pod, { key, effect: 'NoSchedule' }) ? NONE : [REASONS.notReady];
};

export const unschedulableFilter: Filter = ({ pod }, { node }) =>
  node.spec?.unschedulable && !toleratedBy(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }) ? [REASONS.unschedulable] : NONE;

/** NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule only lowers the score. */
export const taintFilter: Filter = ({ pod }, { node }) => {
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!toleratedBy(pod, taint)) return [untoleratedTaintReason(taint)];
  }
  return NONE;
};

export function matchesRequirement(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]!)) return false;
      const actual = BigInt(value);
      const bound = BigInt(values[0]!);
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** A term matches when all its requirements do; an empty term matches nothing (as in Kubernetes). */
export function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return (
    expressions.every((requirement) => matchesRequirement(requirement, Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined)) &&
    fields.every((requirement) => requirement.key === 'metadata.name' && matchesRequirement(requirement, node.metadata.name))
  );
}

/** nodeSelector (every label equal) and required node affinity (terms ORed). */
export const nodeAffinityFilter: Filter = ({ pod }, { node }) => {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[key] !== value) return [REASONS.affinity];
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !required.nodeSelectorTerms.some((term) => matchesTerm(term, node))) return [REASONS.affinity];
  return NONE;
};

export const hostPortFilter: Filter = ({ request }, { hostPorts }) => {
  for (const wanted of request.hostPorts) if (hostPorts.some((used) => portsConflict(wanted, used))) return [REASONS.ports];
  return NONE;
};

/** Requests fit allocatable minus what the node's pods request; every shortfall is a reason. */
export const resourcesFilter: Filter = ({ request }, { allocatable, requested }) => {
  let reasons: string[] | undefined;
  if (requested.pods + 1 > allocatable.pods) (reasons ??= []).push(REASONS.tooManyPods);
  if (request.milliCpu > 0 && requested.milliCpu + request.milliCpu > allocatable.milliCpu) (reasons ??= []).push(REASONS.insufficientCpu);
  if (request.memory > 0 && requested.memory + request.memory > allocatable.memory) (reasons ??= []).push(REASONS.insufficientMemory);
  return reasons ?? NONE;
};

/** A claim already on a node's local storage pins the pod to that node. */
export const volumeFilter: Filter = ({ pinnedNode }, { name }) => (pinnedNode === undefined || pinnedNode === name ? NONE : [REASONS.volumeConflict]);

export const FILTERS: readonly Filter[] = [readyFilter, unschedulableFilter, taintFilter, nodeAffinityFilter, hostPortFilter, resourcesFilter, volumeFilter];

/** The first failing filter's reasons, or none: the pod fits. */
export function filterNode(pod: SchedulingPod, node: NodeInfo): readonly string[] {
  for (const filter of FILTERS) {
    const reasons = filter(pod, node);
    if (reasons.length > 0) return reasons;
  }
  return NONE;
}

/**
 * Kubernetes' FitError message: "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory."
 * Each reason with its count, the "count reason" strings sorted as strings (as sort.Strings does).
 */
export function fitErrorMessage(nodeCount: number, reasonsPerNode: Iterable<readonly string[]>): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const reasons of reasonsPerNode) for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const histogram = [...counts].map(([reason, count]) => `${count} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `0/${nodeCount} nodes are available: ${histogram.join(', ')}.`;
}
