/**
 * Simulated nodes (Kubernetes' kubemark idea): Node objects whose Leases are renewed and whose
 * bound pods are reported Running and Ready as an agent would, with no processes at all. The
 * control plane cannot tell them from real agents, so tests and benchmarks of the scheduler and
 * controllers run in seconds on one machine.
 */
import type { ApiError } from '../api/errors.js';
import { clone, microTime, rfc3339 } from '../api/meta.js';
import { resolveResource } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';
import type { ApiClient } from '../client/api-client.js';
import { Informer } from '../client/informer.js';
import type { Logger } from '../lib/logger.js';
import { silentLogger } from '../lib/logger.js';

const nodes = resolveResource('nodes')!;
const leases = resolveResource('leases')!;
const pods = resolveResource('pods')!;

export interface SimulatedNodeSpec {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>;
  unschedulable?: boolean;
}

export interface SimulatedClusterOptions {
  /** How often each node renews its Lease (default 1 s; a real agent renews every 10 s). */
  leaseRenewMs?: number;
  /** Whether a pod becomes Ready once Running (default: always). */
  ready?: (pod: KubeObject) => boolean;
  logger?: Logger;
}


export class SimulatedCluster {
  readonly #client: ApiClient;
  readonly #options: SimulatedClusterOptions;
  readonly #logger: Logger;
  /** Nodes this cluster acts for; a paused one neither renews nor answers for its pods. */
  readonly #active = new Map<string, boolean>();
  readonly #inFlight = new Set<string>();
  readonly #abort = new AbortController();
  #informer: Informer | undefined;
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(client: ApiClient, options: SimulatedClusterOptions = {}) {
    this.#client = client;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Starts acting for the nodes: renewing Leases and reporting pods. */
  async start(): Promise<void> {
    const informer = new Informer(this.#client, pods, { logger: this.#logger });
    informer.on('add', (pod) => this.#handle(pod));
    informer.on('update', (_old, pod) => this.#handle(pod));
    informer.start(this.#abort.signal);
    this.#informer = informer;
    await informer.waitForSync(this.#abort.signal);
    const renew = () => {
      void Promise.all([...this.#active].filter(([, active]) => active).map(([name]) => this.#renewLease(name))).finally(() => {
        if (!this.#abort.signal.aborted) this.#renewTimer = setTimeout(renew, this.#options.leaseRenewMs ?? 1000);
      });
    };
    renew();
  }

  stop(): void {
    this.#abort.abort();
    clearTimeout(this.#renewTimer);
  }

  /** Registers a Ready node with the given capacity (default 4 cpu, 8Gi, 110 pods) and its Lease. */
  async addNode(name: string, spec: SimulatedNodeSpec = {}): Promise<KubeObject> {
    const capacity = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: String(spec.pods ?? 110) };
    const created = await this.#client.create(nodes, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...spec.labels } },
      spec: { ...(spec.taints ? { taints: spec.taints } : {}), ...(spec.unschedulable ? { unschedulable: true } : {}) },
    });
    const withStatus = clone(created);
    withStatus.status = {
      capacity,
      allocatable: capacity,
      conditions: [readyCondition('True')],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: { kubeletVersion: 'pm8s-simulated', osImage: 'simulated', kernelVersion: 'simulated', containerRuntimeVersion: 'simulated://0', operatingSystem: 'linux', architecture: 'amd64' },
    };
    const node = await this.#client.update(nodes, undefined, withStatus, { subresource: 'status' });
    await this.#client.create(leases, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid! }] },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() },
    });
    this.#active.set(name, true);
    // Pods bound before the node registered wait for it, as they would for a real agent.
    for (const pod of this.podsOn(name)) this.#handle(pod);
    return node;
  }

  /** Stops renewing the node's Lease and answering for its pods, as if it lost its network. */
  pauseNode(name: string): void {
    this.#active.set(name, false);
  }

  /** The node is back: renews again, reports Ready, and finishes what happened to its pods meanwhile. */
  async resumeNode(name: string): Promise<void> {
    this.#active.set(name, true);
    await this.#renewLease(name);
    // The node lifecycle controller may be writing the same status: retry on conflict.
    for (;;) {
      const node = clone(await this.#client.get(nodes, undefined, name));
      const status = isRecord(node.status) ? node.status : {};
      const conditions = Array.isArray(status.conditions) ? (status.conditions as Array<{ type: string }>) : [];
      node.status = { ...status, conditions: [...conditions.filter((condition) => condition.type !== 'Ready'), readyCondition('True')] };
      try {
        await this.#client.update(nodes, undefined, node, { subresource: 'status' });
        break;
      } catch (error) {
        if ((error as ApiError).code !== 409) throw error;
      }
    }
    for (const pod of this.#informer?.list() ?? []) this.#handle(pod);
  }

  /** Flips a running pod's readiness, as a readiness probe would. */
  async setReady(namespace: string, name: string, ready: boolean): Promise<void> {
    for (;;) {
      const pod = await this.#client.get(pods, namespace, name);
      try {
        await this.#client.update(pods, namespace, this.#running(pod, ready), { subresource: 'status' });
        return;
      } catch (error) {
        if ((error as ApiError).code !== 409) throw error;
      }
    }
  }

  podsOn(name: string): KubeObject[] {
    return (this.#informer?.list() ?? []).filter((pod) => nodeNameOf(pod) === name);
  }

  async #renewLease(name: string): Promise<void> {
    try {
      await this.#client.patch(leases, 'kube-node-lease', name, 'application/merge-patch+json', { spec: { renewTime: microTime() } });
    } catch (error) {
      this.#logger.warn('lease renewal failed', { node: name, error });
    }
  }

  /** Acts as the node's agent would for one pod: confirm a deletion, or report it running. */
  #handle(pod: KubeObject): void {
    const nodeName = nodeNameOf(pod);
    if (!nodeName || this.#active.get(nodeName) !== true) return;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.#inFlight.has(key)) return;
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    const phase = isRecord(pod.status) ? pod.status.phase : undefined;
    if (!terminating && phase !== 'Pending' && phase !== undefined) return;
    this.#inFlight.add(key);
    const work = terminating
      ? this.#client.delete(pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } })
      : this.#client.update(pods, pod.metadata.namespace, this.#running(pod, this.#options.ready?.(pod) ?? true), { subresource: 'status' });
    work
      .catch((error: unknown) => {
        const code = (error as ApiError).code;
        // Gone, or changed since we looked: the informer brings the next state.
        if (code !== 404 && code !== 409) this.#logger.warn('simulated agent failed', { pod: key, error });
      })
      .finally(() => this.#inFlight.delete(key));
  }

  #running(pod: KubeObject, ready: boolean): KubeObject {
    const now = rfc3339();
    const spec = isRecord(pod.spec) ? pod.spec : {};
    const containers = Array.isArray(spec.containers) ? (spec.containers as Array<{ name: string }>) : [];
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastTransitionTime: now });
    const updated = clone(pod);
    updated.status = {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: now,
      conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
      containerStatuses: containers.map((container) => ({
        name: container.name,
        ready,
        started: true,
        restartCount: 0,
        image: '',
        imageID: '',
        state: { running: { startedAt: now } },
      })),
      qosClass: 'BestEffort',
    };
    return updated;
  }
}

function nodeNameOf(pod: KubeObject): string | undefined {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === 'string' && spec.nodeName ? spec.nodeName : undefined;
}

function readyCondition(status: 'True' | 'False' | 'Unknown'): Record<string, string> {
  const now = rfc3339();
  return { type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'NodeStatusUnknown', message: 'simulated node', lastHeartbeatTime: now, lastTransitionTime: now };
}
