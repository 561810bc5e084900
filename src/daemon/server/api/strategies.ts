/**
 * Per-kind rules the API server applies on writes (Kubernetes' "REST strategies"): what a create
 * resets, which fields count for `generation`, how long an object lives.
 */
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import { NAMESPACE_FINALIZER } from './deletion-plan.js';

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

/** Per-server settings some strategies read. */
export interface StrategyOptions {
  eventTtlSeconds?: number;
  /** The DefaultTolerationSeconds admission default; no tolerations are added when absent. */
  defaultTolerationSeconds?: number;
}

const STRATEGIES: Record<string, Strategy> = {
  Pod: {
    prepareForCreate(object) {
      object.status = { phase: 'Pending' };
    },
  },
  Namespace: {
    prepareForCreate(object) {
      object.status = { phase: 'Active' };
      // Every new namespace carries `kubernetes` in spec.finalizers: the namespace controller removes it once the namespace is empty.
      if (object.spec === undefined) object.spec = {};
      if (isRecord(object.spec)) {
        const finalizers = Array.isArray(object.spec.finalizers) ? object.spec.finalizers : [];
        if (!finalizers.includes(NAMESPACE_FINALIZER)) object.spec.finalizers = [...finalizers, NAMESPACE_FINALIZER];
      }
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

export function strategyFor(kind: string, options: StrategyOptions = {}): Strategy {
  const strategy = STRATEGIES[kind] ?? {};
  const seconds = options.defaultTolerationSeconds;
  if (kind === 'Pod' && seconds !== undefined) {
    return {
      ...strategy,
      prepareForCreate(object) {
        strategy.prepareForCreate?.(object);
        addDefaultTolerations(object, seconds);
      },
    };
  }
  return kind === 'Event' && options.eventTtlSeconds !== undefined ? { ...strategy, ttlSeconds: options.eventTtlSeconds } : strategy;
}

/**
 * Kubernetes' DefaultTolerationSeconds admission: a pod that does not already tolerate the
 * not-ready/unreachable NoExecute taints tolerates them for `seconds`, so a brief node outage does
 * not evict it at once.
 */
function addDefaultTolerations(pod: KubeObject, seconds: number): void {
  if (!isRecord(pod.spec)) return;
  const existing: unknown[] = Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : [];
  const tolerates = (key: string) =>
    existing.some((toleration) => isRecord(toleration) && (!toleration.key || toleration.key === key) && (!toleration.effect || toleration.effect === 'NoExecute'));
  const added = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
    .filter((key) => !tolerates(key))
    .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }));
  if (added.length > 0) pod.spec.tolerations = [...existing, ...added];
}

/** Everything but metadata and status: a change here is a spec change and bumps generation. */
export function specOf(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}
