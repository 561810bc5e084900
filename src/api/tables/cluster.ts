/** Namespaces, Nodes and Leases. */
import type { KubeObject } from '../types.js';
import { ageSince } from './format-age.js';
import { at, creationOf, nameOf, rec, recs, str, stringMap } from './fields.js';
import { ageColumn, column, nameColumn, wideColumn, type KindPrinter } from './table.js';

export const namespacePrinter: KindPrinter = {
  columns: [nameColumn, column('Status'), ageColumn],
  cells: (namespace, now) => [nameOf(namespace), str(at(namespace.status, 'phase')), ageSince(creationOf(namespace), now)],
};

const ROLE_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';

/** Roles from `node-role.kubernetes.io/<role>` labels and the legacy `kubernetes.io/role=<role>`. */
function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(stringMap(rec(node.metadata).labels))) {
    if (key.startsWith(ROLE_PREFIX) && key.length > ROLE_PREFIX.length) roles.add(key.slice(ROLE_PREFIX.length));
    else if (key === ROLE_LABEL && value !== '') roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function nodeStatus(node: KubeObject): string {
  const ready = recs(at(node.status, 'conditions')).findLast((condition) => condition.type === 'Ready');
  const status = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (at(node.spec, 'unschedulable') === true) status.push('SchedulingDisabled');
  return status.join(',');
}

const nodeAddress = (node: KubeObject, type: string): string =>
  str(recs(at(node.status, 'addresses')).find((address) => address.type === type)?.address) || '<none>';

export const nodePrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Status'),
    column('Roles'),
    ageColumn,
    column('Version'),
    wideColumn('Internal-IP'),
    wideColumn('External-IP'),
    wideColumn('OS-Image'),
    wideColumn('Kernel-Version'),
    wideColumn('Container-Runtime'),
  ],
  cells(node, now) {
    const info = rec(at(node.status, 'nodeInfo'));
    return [
      nameOf(node),
      nodeStatus(node),
      nodeRoles(node),
      ageSince(creationOf(node), now),
      str(info.kubeletVersion),
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      str(info.osImage) || '<unknown>',
      str(info.kernelVersion) || '<unknown>',
      str(info.containerRuntimeVersion) || '<unknown>',
    ];
  },
};

export const leasePrinter: KindPrinter = {
  columns: [nameColumn, column('Holder'), ageColumn],
  cells: (lease, now) => [nameOf(lease), str(at(lease.spec, 'holderIdentity')), ageSince(creationOf(lease), now)],
};
