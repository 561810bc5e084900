/**
 * What a controller is (controller-runtime's shape): it wires informer events to keys in its work
 * queue, and reconciles one key at a time, reading desired and observed state fresh each time.
 */
import { ApiError } from '../../../api/errors.js';
import type { ApiClient } from '../../../client/api-client.js';
import type { Logger } from '../../../lib/logger.js';
import type { EventRecorder } from './event-recorder.js';
import type { InformerFactory } from './informer-factory.js';
import { WorkQueue } from './work-queue.js';
import type { WorkQueueOptions } from './work-queue.js';

/** Timers and limits every controller reads; all are server flags so tests can run in seconds. */
export interface ControllerConfig {
  /** A node whose Lease is not renewed for this long becomes Ready=Unknown (default 40 s). */
  nodeMonitorGracePeriodMs: number;
  /** How often node health is checked (default 5 s). */
  nodeMonitorPeriodMs: number;
  /** tolerationSeconds added to pods for not-ready/unreachable NoExecute taints (default 300). */
  defaultTolerationSeconds: number;
  /** The scheduler retries an unschedulable pod at least this often, and backs off at most this long after cluster changes (default 10 s). */
  schedulerRetryMs: number;
  /** Work-queue retry tuning. */
  queue: WorkQueueOptions;
}

export const DEFAULT_CONTROLLER_CONFIG: ControllerConfig = {
  nodeMonitorGracePeriodMs: 40_000,
  nodeMonitorPeriodMs: 5_000,
  defaultTolerationSeconds: 300,
  schedulerRetryMs: 10_000,
  queue: {},
};

export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  recorder: EventRecorder;
  logger: Logger;
  config: ControllerConfig;
  now: () => Date;
  /** Whether the server's own store writes are healthy (node lifecycle must not blame nodes for its own stall). */
  storeHealthy: () => boolean;
}

/** done: nothing more; requeueAfterMs: look again later. Throwing retries with backoff. */
export type ReconcileResult = void | { requeueAfterMs: number };

export interface Controller {
  readonly name: string;
  /** Parallel reconciles (different keys); default 2. */
  readonly workers?: number;
  /** Retry tuning of this controller's queue, when the shared defaults do not fit. */
  queueOptions?(config: ControllerConfig): WorkQueueOptions;
  /** Asks for informers and registers handlers that only enqueue keys. Runs before informers start. */
  setup(context: ControllerContext, queue: WorkQueue): void;
  reconcile(key: string, context: ControllerContext): Promise<ReconcileResult>;
}

/** A failure retrying cannot fix: logged loudly and not retried (STYLE habit 3). */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Runs a controller's workers until the signal aborts. */
export async function runController(controller: Controller, context: ControllerContext, queue: WorkQueue, signal: AbortSignal): Promise<void> {
  const logger = context.logger.child({ controller: controller.name });
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await controller.reconcile(key, context);
        queue.forget(key);
        if (result && result.requeueAfterMs >= 0) queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        if (error instanceof TerminalError) {
          logger.error('reconcile failed for good', { key, error });
          queue.forget(key);
        } else {
          // A conflict only means our cache was stale: retry quietly; anything else is worth a line.
          if (!(error instanceof ApiError && error.code === 409)) logger.warn('reconcile failed; will retry', { key, failures: queue.failures(key) + 1, error });
          if (!signal.aborted) queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: controller.workers ?? 2 }, worker));
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key controllers queue. */
export function keyOf(object: { metadata: { namespace?: string; name?: string } }): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name ?? ''}` : (object.metadata.name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function newQueue(config: ControllerConfig): WorkQueue {
  return new WorkQueue(config.queue);
}
