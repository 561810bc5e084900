/**
 * Per-kind rules the API server applies on writes (Kubernetes' "REST strategies"): what a create
 * resets, which fields count for `generation`, how long an object lives.
 */
import type { KubeObject } from '../../../api/types.js';

export interface Strategy {
  /** Resets what a client may not set on create (usually status). */
  prepareForCreate?(object: KubeObject): void;
  /** Seconds until the store expires the object. */
  ttlSeconds?: number;
}

const EVENT_TTL_SECONDS = 3600;

const clearStatus = (object: KubeObject): void => {
  delete object.status;
};

const STRATEGIES: Record<string, Strategy> = {
  Pod: {
    prepareForCreate(object) {
      object.status = { phase: 'Pending' };
    },
  },
  Namespace: {
    prepareForCreate(object) {
      object.status = { phase: 'Active' };
    },
  },
  Node: { prepareForCreate: clearStatus },
  Deployment: { prepareForCreate: clearStatus },
  ReplicaSet: { prepareForCreate: clearStatus },
  StatefulSet: { prepareForCreate: clearStatus },
  DaemonSet: { prepareForCreate: clearStatus },
  PersistentVolumeClaim: {
    prepareForCreate(object) {
      object.status = { phase: 'Pending' };
    },
  },
  Event: { ttlSeconds: EVENT_TTL_SECONDS },
};

export function strategyFor(kind: string, eventTtlSeconds?: number): Strategy {
  const strategy = STRATEGIES[kind] ?? {};
  return kind === 'Event' && eventTtlSeconds !== undefined ? { ...strategy, ttlSeconds: eventTtlSeconds } : strategy;
}

/** Everything but metadata and status: a change here is a spec change and bumps generation. */
export function specOf(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}
