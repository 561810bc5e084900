/**
 * Records Events about objects, as Kubernetes' EventRecorder: the same event (object, type, reason,
 * message) repeated within the correlation window bumps `count` and `lastTimestamp` on one Event
 * instead of writing a new one. Recording never throws into the caller.
 */
import { createHash } from 'node:crypto';
import type { ApiError } from '../../../api/errors.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import type { ApiClient } from '../../../client/api-client.js';
import type { Logger } from '../../../lib/logger.js';
import { rfc3339 } from '../../../api/meta.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  event(object: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written (for tests and shutdown). */
  flush(): Promise<void>;
}

const events = resolveResource('events')!;
/** Repeats further apart than this start a new Event (Kubernetes aggregates over 10 minutes). */
const CORRELATION_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;
/** Events waiting to be written; beyond this, new ones are dropped until the backlog drains. */
const MAX_PENDING = 1000;

interface Remembered {
  name: string;
  namespace: string;
  count: number;
  lastMs: number;
}

export function createEventRecorder(client: ApiClient, component: string, logger: Logger, now: () => Date = () => new Date()): EventRecorder {
  const remembered = new Map<string, Remembered>();
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  let dropped = 0;

  const write = async (object: KubeObject, type: EventType, reason: string, message: string): Promise<void> => {
    const namespace = object.metadata.namespace ?? 'default';
    const identity = `${object.kind}/${namespace}/${object.metadata.name}/${object.metadata.uid}/${type}/${reason}/${message}`;
    const at = now();
    const timestamp = rfc3339(at);
    const previous = remembered.get(identity);
    if (previous && at.getTime() - previous.lastMs < CORRELATION_WINDOW_MS) {
      previous.count++;
      previous.lastMs = at.getTime();
      try {
        await client.patch(events, previous.namespace, previous.name, 'application/merge-patch+json', { count: previous.count, lastTimestamp: timestamp });
        return;
      } catch (error) {
        // Expired or deleted meanwhile: write a fresh one below.
        if ((error as ApiError).code !== 404) throw error;
      }
    }
    // `<object>.<16 hex>` as Kubernetes names them, within the 253-character name limit.
    const name = `${(object.metadata.name ?? 'object').slice(0, 236)}.${createHash('sha256').update(`${identity}/${at.getTime()}`).digest('hex').slice(0, 16)}`;
    await client.create(events, namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component },
      reportingComponent: component,
    });
    if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
    remembered.set(identity, { name, namespace, count: 1, lastMs: at.getTime() });
  };

  return {
    event(object, type, reason, message) {
      // Events are best effort: past a bounded backlog they are dropped (and counted), so a burst
      // never holds thousands of objects in memory or delays shutdown.
      if (pending >= MAX_PENDING) {
        if (dropped++ === 0) logger.warn('too many events waiting to be written; dropping some', { pending });
        return;
      }
      pending++;
      // One at a time, so repeats of the same event find the one written before them.
      chain = chain
        .then(() => write(object, type, reason, message))
        .catch((error: unknown) => {
          logger.warn('could not record an event', { reason, object: `${object.kind}/${object.metadata.name}`, error });
        })
        .finally(() => {
          pending--;
          if (pending === 0 && dropped > 0) {
            logger.warn('events were dropped while the backlog was full', { dropped });
            dropped = 0;
          }
        });
    },
    flush: () => chain,
  };
}
