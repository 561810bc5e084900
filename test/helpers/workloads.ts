/** Small Deployment / ReplicaSet / StatefulSet / DaemonSet / Pod objects for CLI tests against a test cluster. */
import type { KubeObject } from '../../src/api/types.js';

export type WorkloadKind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet';

/** A workload of `kind` whose pods carry `app: NAME`; `spec` is merged into the generated spec. */
export function workload(kind: WorkloadKind, name: string, options: { replicas?: number; env?: string; spec?: Record<string, unknown>; podSpec?: Record<string, unknown> } = {}): KubeObject {
  const container = { name: 'main', command: ['sleep', '1000'], ...(options.env === undefined ? {} : { env: [{ name: 'VERSION', value: options.env }] }) };
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      ...(kind === 'DaemonSet' ? {} : { replicas: options.replicas ?? 1 }),
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container], ...options.podSpec } },
      ...options.spec,
    },
  };
}

export function barePod(name: string, nodeName?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'main', command: ['sleep', '1000'] }] },
  };
}
