/** Every kind's schema, defaults and update rules, keyed by kind. Add a kind: one file plus one line here. */

import type { KindDefinition } from './common.js';
import { configMapKind } from './configmap.js';
import { daemonSetKind } from './daemonset.js';
import { deploymentKind } from './deployment.js';
import { endpointsKind } from './endpoints.js';
import { eventKind } from './event.js';
import { ingressKind } from './ingress.js';
import { leaseKind } from './lease.js';
import { namespaceKind } from './namespace.js';
import { nodeKind } from './node.js';
import { podKind } from './pod.js';
import { pvcKind } from './pvc.js';
import { replicaSetKind } from './replicaset.js';
import { secretKind } from './secret.js';
import { serviceKind } from './service.js';
import { statefulSetKind } from './statefulset.js';

export type { KindDefinition } from './common.js';

export const KINDS: Readonly<Record<string, KindDefinition>> = {
  Namespace: namespaceKind,
  Node: nodeKind,
  Pod: podKind,
  Service: serviceKind,
  Endpoints: endpointsKind,
  ConfigMap: configMapKind,
  Secret: secretKind,
  Event: eventKind,
  PersistentVolumeClaim: pvcKind,
  Deployment: deploymentKind,
  ReplicaSet: replicaSetKind,
  StatefulSet: statefulSetKind,
  DaemonSet: daemonSetKind,
  Ingress: ingressKind,
  Lease: leaseKind,
};

export const kindDefinition = (kind: string): KindDefinition | undefined => (Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined);
