/**
 * Registration and heartbeat: the agent's Node (created, or taken over after a restart, keeping
 * what users set on it — taints, unschedulable, their own labels), its Lease in kube-node-lease
 * renewed every 10 s (what the node lifecycle controller watches), and the Node's status re-posted
 * when it changed, when the server marked the node not Ready, and otherwise every few minutes, as
 * the kubelet does. Failures are logged and retried on the next beat: an unreachable server never
 * stops the agent.
 */
import type { ApiError } from '../../api/errors.js';
import { clone, microTime } from '../../api/meta.js';
import { resolveResource } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { isRecord } from '../../api/types.js';
import type { ApiClient } from '../../client/api-client.js';
import { sleep } from '../../lib/backoff.js';
import type { Logger } from '../../lib/logger.js';
import type { NodeCondition, NodeDescription } from './node-status.js';
import { nodeObject, nodeStatus } from './node-status.js';

const nodes = resolveResource('nodes')!;
const leases = resolveResource('leases')!;
const LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's lease duration: 40 s, four missed renewals. */
const LEASE_DURATION_SECONDS = 40;

export interface NodeHeartbeatOptions {
  client: ApiClient;
  description: NodeDescription;
  logger: Logger;
  /** Lease renewal period; the kubelet's 10 s by default. */
  leaseRenewMs?: number;
  /** Status is re-posted at least this often (the kubelet's nodeStatusReportFrequency, 5 min). */
  statusReportMs?: number;
}

export class NodeHeartbeat {
  readonly #o: NodeHeartbeatOptions;
  #node: KubeObject | undefined;
  #lastStatusAt = 0;
  #registered = false;
  #registeredOnce: { promise: Promise<void>; resolve: () => void };

  constructor(options: NodeHeartbeatOptions) {
    this.#o = options;
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    this.#registeredOnce = { promise, resolve };
  }

  /** Resolves once the Node and its Lease exist on the server. */
  get registered(): Promise<void> {
    return this.#registeredOnce.promise;
  }

  /** The Node as last written (undefined before registration). */
  get node(): KubeObject | undefined {
    return this.#node;
  }

  /** Beats until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.beat();
      } catch (error) {
        this.#o.logger.warn('node heartbeat failed; retrying', { node: this.#o.description.name, error: (error as Error).message });
      }
      await sleep(this.#registered ? (this.#o.leaseRenewMs ?? 10_000) : Math.min(this.#o.leaseRenewMs ?? 10_000, 1000), signal);
    }
  }

  /** One beat: register if needed, renew the Lease, re-post the status when due. */
  async beat(): Promise<void> {
    if (!this.#registered) {
      await this.#register();
      await this.#renewLease();
      this.#registered = true;
      this.#registeredOnce.resolve();
      this.#o.logger.info('node registered', { node: this.#o.description.name });
      return;
    }
    await this.#renewLease();
    const current = await this.#o.client.get(nodes, undefined, this.#o.description.name).catch((error: unknown) => {
      if ((error as ApiError).code === 404) return undefined;
      throw error;
    });
    if (current === undefined) {
      // Someone deleted our Node (kubectl delete node): register again, as the kubelet does.
      this.#registered = false;
      await this.beat();
      return;
    }
    const ready = conditionsOf(current).find((condition) => condition.type === 'Ready');
    const due = Date.now() - this.#lastStatusAt >= (this.#o.statusReportMs ?? 300_000);
    if (due || ready?.status !== 'True') await this.#postStatus(current);
  }

  async #register(): Promise<void> {
    const { client, description } = this.#o;
    const wanted = nodeObject(description) as KubeObject;
    let node: KubeObject;
    try {
      node = await client.create(nodes, undefined, wanted);
    } catch (error) {
      if ((error as ApiError).code !== 409) throw error;
      // Our own Node from an earlier run: refresh our labels and annotations, keep the rest.
      node = await this.#retryOnConflict(async () => {
        const existing = clone(await client.get(nodes, undefined, description.name));
        existing.metadata.labels = { ...existing.metadata.labels, ...(wanted.metadata.labels as Record<string, string>) };
        existing.metadata.annotations = { ...existing.metadata.annotations, ...(wanted.metadata.annotations as Record<string, string>) };
        return client.update(nodes, undefined, existing);
      });
    }
    await this.#postStatus(node);
  }

  async #postStatus(node: KubeObject): Promise<void> {
    const { client, description } = this.#o;
    this.#node = await this.#retryOnConflict(async (attempt) => {
      const base = clone(attempt === 0 ? node : await client.get(nodes, undefined, description.name));
      base.status = { ...(isRecord(base.status) ? base.status : {}), ...nodeStatus(description, conditionsOf(base)) };
      return client.update(nodes, undefined, base, { subresource: 'status' });
    });
    this.#lastStatusAt = Date.now();
  }

  async #renewLease(): Promise<void> {
    const { client, description } = this.#o;
    const spec = { holderIdentity: description.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime() };
    try {
      await client.patch(leases, LEASE_NAMESPACE, description.name, 'application/merge-patch+json', { spec });
    } catch (error) {
      if ((error as ApiError).code !== 404) throw error;
      const node = this.#node ?? (await client.get(nodes, undefined, description.name));
      await client.create(leases, LEASE_NAMESPACE, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: description.name, namespace: LEASE_NAMESPACE, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: description.name, uid: node.metadata.uid! }] },
        spec,
      });
    }
  }

  /** A 409 means someone else (the node lifecycle controller) wrote first: read again and retry. */
  async #retryOnConflict(write: (attempt: number) => Promise<KubeObject>): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write(attempt);
      } catch (error) {
        if ((error as ApiError).code !== 409 || attempt >= 5) throw error;
      }
    }
  }
}

function conditionsOf(node: KubeObject): NodeCondition[] {
  const status = isRecord(node.status) ? node.status : {};
  return Array.isArray(status.conditions) ? (status.conditions as NodeCondition[]) : [];
}
