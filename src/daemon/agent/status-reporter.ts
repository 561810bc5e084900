/**
 * Writes pod statuses to the server, coalesced: one write in flight per pod, and while it flies
 * only the newest status waits behind it, so a burst of changes costs at most two writes and a
 * status that did not change costs none. Writes are merge patches of the status subresource that
 * carry the pod's UID, so a status never lands on a different pod that reused the name. A failed
 * write (server down) is retried with backoff until it lands or is superseded.
 */
import type { ApiError } from '../../api/errors.js';
import { resolveResource } from '../../api/resources.js';
import type { ApiClient } from '../../client/api-client.js';
import { createBackoff, sleep } from '../../lib/backoff.js';
import type { Logger } from '../../lib/logger.js';

const pods = resolveResource('pods')!;

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

interface Slot {
  ref: PodRef;
  /** The status waiting to be written, if any. */
  pending?: Record<string, unknown>;
  /** The last status the server acknowledged (JSON), to skip writing it again. */
  written?: string;
  flying: boolean;
  /** The pod is gone: drop the slot once the write in flight lands. */
  forgotten?: boolean;
  settled: Array<() => void>;
}

export class StatusReporter {
  readonly #client: ApiClient;
  readonly #logger: Logger;
  readonly #signal: AbortSignal;
  readonly #slots = new Map<string, Slot>();
  /** Writes that reached the server, for tests and the footprint numbers. */
  writes = 0;

  constructor(client: ApiClient, logger: Logger, signal: AbortSignal) {
    this.#client = client;
    this.#logger = logger;
    this.#signal = signal;
  }

  /** Queues `status` for the pod; replaces any status still waiting. */
  report(ref: PodRef, status: Record<string, unknown>): void {
    let slot = this.#slots.get(ref.uid);
    if (slot?.forgotten) return; // a late status of a pod already gone
    if (slot === undefined) {
      slot = { ref, flying: false, settled: [] };
      this.#slots.set(ref.uid, slot);
    }
    slot.pending = status; // compared with what the server has when it is sent
    if (!slot.flying) void this.#flush(slot);
  }

  /** Resolves when nothing is waiting or flying for the pod. */
  settled(uid: string): Promise<void> {
    const slot = this.#slots.get(uid);
    if (slot === undefined || (!slot.flying && slot.pending === undefined)) return Promise.resolve();
    return new Promise((resolve) => slot.settled.push(resolve));
  }

  /** Stops tracking the pod (it was deleted). */
  forget(uid: string): void {
    const slot = this.#slots.get(uid);
    if (slot === undefined) return;
    slot.pending = undefined;
    slot.forgotten = true;
    if (!slot.flying) this.#slots.delete(uid);
  }

  async #flush(slot: Slot): Promise<void> {
    slot.flying = true;
    const backoff = createBackoff({ initialMs: 200, maxMs: 10_000 });
    while (slot.pending !== undefined && !this.#signal.aborted) {
      const status = slot.pending;
      slot.pending = undefined;
      const text = JSON.stringify(status);
      if (text === slot.written) continue;
      try {
        await this.#client.patch(pods, slot.ref.namespace, slot.ref.name, 'application/merge-patch+json', { metadata: { uid: slot.ref.uid }, status }, { subresource: 'status' });
        slot.written = text;
        this.writes++;
        backoff.reset();
      } catch (error) {
        const code = (error as ApiError).code;
        // Gone (404) or a different pod under that name now (409 on the UID): nothing to report to.
        if (code === 404 || code === 409) {
          slot.written = text;
          slot.forgotten = true;
          slot.pending = undefined;
          continue;
        }
        this.#logger.warn('pod status write failed; retrying', { pod: `${slot.ref.namespace}/${slot.ref.name}`, error: (error as Error).message });
        slot.pending ??= status;
        await sleep(backoff.next(), this.#signal);
      }
    }
    slot.flying = false;
    if (slot.forgotten && this.#slots.get(slot.ref.uid) === slot) this.#slots.delete(slot.ref.uid);
    for (const resolve of slot.settled.splice(0)) resolve();
  }
}
