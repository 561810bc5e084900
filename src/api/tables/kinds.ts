/** Which printer serves which kind: one line per kind. */
import { leasePrinter, namespacePrinter, nodePrinter } from './cluster.js';
import { configMapPrinter, secretPrinter } from './config.js';
import { eventPrinter } from './events.js';
import { endpointsPrinter, ingressPrinter, servicePrinter } from './network.js';
import { podPrinter } from './pods.js';
import { persistentVolumeClaimPrinter } from './storage.js';
import type { KindPrinter } from './table.js';
import { daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './workloads.js';

export const PRINTERS: ReadonlyMap<string, KindPrinter> = new Map([
  ['Pod', podPrinter],
  ['Deployment', deploymentPrinter],
  ['ReplicaSet', replicaSetPrinter],
  ['StatefulSet', statefulSetPrinter],
  ['DaemonSet', daemonSetPrinter],
  ['Service', servicePrinter],
  ['Endpoints', endpointsPrinter],
  ['Ingress', ingressPrinter],
  ['ConfigMap', configMapPrinter],
  ['Secret', secretPrinter],
  ['Namespace', namespacePrinter],
  ['Node', nodePrinter],
  ['Lease', leasePrinter],
  ['Event', eventPrinter],
  ['PersistentVolumeClaim', persistentVolumeClaimPrinter],
]);
