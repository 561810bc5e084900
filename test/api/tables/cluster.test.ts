import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { printTable, toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const cellsOf = (resource: string, object: KubeObject): unknown[] =>
  toTable(resolveResource(resource)!, [object], { now }).rows[0]!.cells;

const node = (name: string, labels: Record<string, string>, spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels, creationTimestamp: ago(10 * 86400) },
  spec,
  status,
});

const nodeInfo = { kubeletVersion: 'v1.30.0-pm8s', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'pm8s://0.1.0' };

const ready = node('node-1', { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'ingress' }, {}, {
  conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
  addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '192.168.1.10' }],
  nodeInfo,
});

const cordoned = node('node-2', { 'kubernetes.io/hostname': 'node-2' }, { unschedulable: true }, {
  conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }],
  addresses: [{ type: 'InternalIP', address: '192.168.1.11' }, { type: 'ExternalIP', address: '203.0.113.11' }],
  nodeInfo,
});

t.test('a ready node with roles, and a NotReady cordoned one', async (t) => {
  t.same(cellsOf('nodes', ready), [
    'node-1', 'Ready', 'control-plane,ingress', '10d', 'v1.30.0-pm8s',
    '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'pm8s://0.1.0',
  ]);
  t.same(cellsOf('nodes', cordoned).slice(0, 7), [
    'node-2', 'NotReady,SchedulingDisabled', '<none>', '10d', 'v1.30.0-pm8s', '192.168.1.11', '203.0.113.11',
  ]);
});

t.test('a node that never reported is Unknown', async (t) => {
  const fresh = node('node-3', {}, { unschedulable: true }, {});
  t.same(cellsOf('nodes', fresh), [
    'node-3', 'Unknown,SchedulingDisabled', '<none>', '10d', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>',
  ]);
});

t.test('kubectl get nodes', async (t) => {
  const table = toTable(resolveResource('no')!, [ready, cordoned], { now });
  t.equal(
    printTable(table, {}),
    [
      'NAME     STATUS                        ROLES                   AGE   VERSION',
      'node-1   Ready                         control-plane,ingress   10d   v1.30.0-pm8s',
      'node-2   NotReady,SchedulingDisabled   <none>                  10d   v1.30.0-pm8s',
      '',
    ].join('\n'),
  );
});

t.test('namespaces and leases', async (t) => {
  const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: ago(400 * 86400) }, status: { phase: 'Active' } };
  t.same(cellsOf('ns', namespace), ['default', 'Active', '400d']);
  const lease: KubeObject = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'pm8s-scheduler', creationTimestamp: ago(8 * 60 + 5) },
    spec: { holderIdentity: 'server-a_3f2c', leaseDurationSeconds: 15 },
  };
  t.same(cellsOf('lease', lease), ['pm8s-scheduler', 'server-a_3f2c', '8m5s']);
  t.same(cellsOf('lease', { ...lease, spec: {} })[1], '');
});
