/**
 * The scheduler's view of the cluster (kube-scheduler's cache): per node, its allocatable
 * resources and what the pods on it request, kept current from the informers event by event so
 * a decision never scans all pods. A bind is *assumed* here the moment it is decided, so the next
 * decision already sees it, and is confirmed (or forgotten) when the informer or the bind answers.
 */
import type { Node } from '../../../api/kinds/node.js';
import type { Pod } from '../../../api/kinds/pod.js';
import { objectKey } from '../../../api/meta.js';
import { quantityToMilli, quantityValue } from '../../../api/quantity.js';
import type { KubeObject } from '../../../api/types.js';

/** What a pod takes from a node, computed once per pod object. */
export interface PodRequest {
  uid: string;
  milliCpu: number;
  memory: number;
  /** The same with Kubernetes' defaults (100m, 200Mi) for containers that request nothing: used by scores only. */
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
  hostPorts: HostPort[];
  /** uid of the controlling owner (ownerReferences controller: true), for spreading. */
  ownerUid: string | undefined;
}

export interface HostPort {
  protocol: string;
  port: number;
  /** '0.0.0.0' when unset: every address. */
  hostIP: string;
}

export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

const DEFAULT_MILLI_CPU = 100;
const DEFAULT_MEMORY = 200 * 1024 * 1024;
const ANY_ADDRESS = '0.0.0.0';

/** Requests as Kubernetes computes them: the sum over containers, or the largest init container if larger. */
export function podRequestOf(pod: Pod): PodRequest {
  const sum = { milliCpu: 0, memory: 0, nonZeroMilliCpu: 0, nonZeroMemory: 0 };
  for (const container of pod.spec.containers) {
    const requests = container.resources?.requests ?? {};
    const cpu = requests.cpu === undefined ? undefined : Number(quantityToMilli(requests.cpu));
    const memory = requests.memory === undefined ? undefined : Number(quantityValue(requests.memory));
    sum.milliCpu += cpu ?? 0;
    sum.memory += memory ?? 0;
    sum.nonZeroMilliCpu += cpu ?? DEFAULT_MILLI_CPU;
    sum.nonZeroMemory += memory ?? DEFAULT_MEMORY;
  }
  // Init containers run one at a time before the others: the pod needs the largest of them.
  for (const container of pod.spec.initContainers ?? []) {
    const requests = container.resources?.requests ?? {};
    const cpu = requests.cpu === undefined ? 0 : Number(quantityToMilli(requests.cpu));
    const memory = requests.memory === undefined ? 0 : Number(quantityValue(requests.memory));
    sum.milliCpu = Math.max(sum.milliCpu, cpu);
    sum.memory = Math.max(sum.memory, memory);
    sum.nonZeroMilliCpu = Math.max(sum.nonZeroMilliCpu, cpu);
    sum.nonZeroMemory = Math.max(sum.nonZeroMemory, memory);
  }
  const hostPorts: HostPort[] = [];
  for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const port of container.ports ?? []) {
      if (port.hostPort) hostPorts.push({ protocol: port.protocol ?? 'TCP', port: port.hostPort, hostIP: port.hostIP || ANY_ADDRESS });
    }
  }
  const owner = pod.metadata.ownerReferences?.find((reference) => reference.controller === true);
  return { uid: pod.metadata.uid ?? '', ...sum, hostPorts, ownerUid: owner?.uid };
}

/** Whether two host ports collide: same protocol and port, and the same address or either on all addresses. */
export function portsConflict(a: HostPort, b: HostPort): boolean {
  return a.protocol === b.protocol && a.port === b.port && (a.hostIP === b.hostIP || a.hostIP === ANY_ADDRESS || b.hostIP === ANY_ADDRESS);
}

/** One node and what is on it; read by the filters and scores, written only by the ClusterView. */
export class NodeInfo {
  readonly name: string;
  node: Node;
  allocatable: Resources = { milliCpu: 0, memory: 0, pods: 0 };
  readonly requested: Resources = { milliCpu: 0, memory: 0, pods: 0 };
  readonly nonZeroRequested = { milliCpu: 0, memory: 0 };
  readonly hostPorts: HostPort[] = [];
  /** Pods per controlling owner uid. */
  readonly owners = new Map<string, number>();

  constructor(node: Node) {
    this.name = node.metadata.name ?? '';
    this.node = node;
    this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    const allocatable = node.status?.allocatable ?? {};
    this.allocatable = {
      milliCpu: allocatable.cpu === undefined ? 0 : Number(quantityToMilli(allocatable.cpu)),
      memory: allocatable.memory === undefined ? 0 : Number(quantityValue(allocatable.memory)),
      pods: allocatable.pods === undefined ? 0 : Number(quantityValue(allocatable.pods)),
    };
  }

  /** `sign` 1 adds the pod, -1 takes it away again. */
  account(request: PodRequest, sign: 1 | -1): void {
    this.requested.milliCpu += sign * request.milliCpu;
    this.requested.memory += sign * request.memory;
    this.requested.pods += sign;
    this.nonZeroRequested.milliCpu += sign * request.nonZeroMilliCpu;
    this.nonZeroRequested.memory += sign * request.nonZeroMemory;
    for (const port of request.hostPorts) {
      if (sign > 0) {
        this.hostPorts.push(port);
      } else {
        const index = this.hostPorts.findIndex((used) => used.protocol === port.protocol && used.port === port.port && used.hostIP === port.hostIP);
        if (index >= 0) this.hostPorts.splice(index, 1);
      }
    }
    if (request.ownerUid) {
      const count = (this.owners.get(request.ownerUid) ?? 0) + sign;
      if (count > 0) this.owners.set(request.ownerUid, count);
      else this.owners.delete(request.ownerUid);
    }
  }
}

interface Accounted {
  nodeName: string;
  request: PodRequest;
  /** Decided and bound (or binding) by us, not yet seen bound by the informer. */
  assumed: boolean;
}

/** A pod takes resources from its node while it is bound and not finished (terminating pods still hold them). */
export function holdsResources(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return Boolean(pod.spec.nodeName) && phase !== 'Succeeded' && phase !== 'Failed';
}

export class ClusterView {
  readonly nodes = new Map<string, NodeInfo>();
  readonly #pods = new Map<string, Accounted>();

  setNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const existing = this.nodes.get(name);
    if (existing) {
      existing.setNode(node);
      return;
    }
    const info = new NodeInfo(node);
    // Pods seen bound to a node before the node itself (or re-created) count again.
    for (const accounted of this.#pods.values()) if (accounted.nodeName === name) info.account(accounted.request, 1);
    this.nodes.set(name, info);
  }

  deleteNode(name: string): void {
    this.nodes.delete(name);
  }

  /**
   * Follows the informer: a bound, unfinished pod is accounted on its node; anything else is not.
   * Returns true when resources were freed (a pod finished, went away or moved).
   */
  observePod(pod: Pod): boolean {
    const key = objectKey(pod as KubeObject);
    const previous = this.#pods.get(key);
    if (holdsResources(pod)) {
      const nodeName = pod.spec.nodeName ?? '';
      if (previous && previous.nodeName === nodeName && previous.request.uid === pod.metadata.uid && !previous.assumed) return false;
      this.#remove(key);
      this.#add(key, { nodeName, request: podRequestOf(pod), assumed: false });
      return previous !== undefined && previous.nodeName !== nodeName;
    }
    // Not bound yet in the cache, but we bound it: keep the assumption until the informer catches up.
    if (previous?.assumed && !pod.spec.nodeName && previous.request.uid === pod.metadata.uid) return false;
    return this.#remove(key);
  }

  /** The pod is gone. Returns true when it held resources. */
  forgetPod(key: string): boolean {
    return this.#remove(key);
  }

  /** The scheduler decided: account the pod on the node at once. */
  assume(key: string, request: PodRequest, nodeName: string): void {
    this.#remove(key);
    this.#add(key, { nodeName, request, assumed: true });
  }

  /** The bind failed: undo an assumption the informer has not confirmed. Returns true if one was undone. */
  unassume(key: string, nodeName: string): boolean {
    const accounted = this.#pods.get(key);
    if (!accounted?.assumed || accounted.nodeName !== nodeName) return false;
    return this.#remove(key);
  }

  /** Whether the pod is accounted (bound, or being bound by us). */
  isAccounted(key: string): boolean {
    return this.#pods.has(key);
  }

  #add(key: string, accounted: Accounted): void {
    this.#pods.set(key, accounted);
    this.nodes.get(accounted.nodeName)?.account(accounted.request, 1);
  }

  #remove(key: string): boolean {
    const accounted = this.#pods.get(key);
    if (!accounted) return false;
    this.#pods.delete(key);
    this.nodes.get(accounted.nodeName)?.account(accounted.request, -1);
    return true;
  }
}
