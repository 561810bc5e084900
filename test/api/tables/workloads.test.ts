import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { printTable, toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const cellsOf = (resource: string, object: KubeObject): unknown[] =>
  toTable(resolveResource(resource)!, [object], { now }).rows[0]!.cells;

const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    containers: [
      { name: 'web', image: 'node:20' },
      { name: 'log', image: 'busybox:1.36' },
    ],
  },
};

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(2 * 86400) },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
  status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
};

t.test('deployment: Ready ready/desired, Up-to-date, Available', async (t) => {
  t.same(cellsOf('deploy', deployment), ['web', '2/3', 3, 2, '2d', 'web,log', 'node:20,busybox:1.36', 'app=web']);
  const table = toTable(resolveResource('deploy')!, [deployment], { now });
  t.same(
    table.columnDefinitions.map((c) => [c.name, c.type, c.priority]),
    [
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Up-to-date', 'string', 0],
      ['Available', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ],
  );
  t.equal(
    printTable(table, {}),
    'NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           2d\n',
  );
});

t.test('a new deployment without status counts zeros; replicas default to 1', async (t) => {
  const fresh: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'new' } };
  t.same(cellsOf('deploy', fresh), ['new', '0/1', 0, 0, '<unknown>', '', '', '']);
  const invalid = { ...deployment, spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] } } };
  t.equal(cellsOf('deploy', invalid)[7], '<invalid>');
});

t.test('replicaset: desired, current and ready as integers', async (t) => {
  const replicaSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-7d4b9c', creationTimestamp: ago(600) },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d4b9c' } }, template },
    status: { replicas: 3, readyReplicas: 1 },
  };
  t.same(cellsOf('rs', replicaSet), [
    'web-7d4b9c', 3, 3, 1, '10m', 'web,log', 'node:20,busybox:1.36', 'app=web,pod-template-hash=7d4b9c',
  ]);
  t.equal(cellsOf('rs', { ...replicaSet, spec: {} })[7], '<none>');
});

t.test('statefulset: ready/desired', async (t) => {
  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', creationTimestamp: ago(45) },
    spec: { replicas: 2, template },
    status: { readyReplicas: 2 },
  };
  t.same(cellsOf('sts', statefulSet), ['db', '2/2', '45s', 'web,log', 'node:20,busybox:1.36']);
});

t.test('daemonset: scheduling counts and node selector', async (t) => {
  const daemonSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', creationTimestamp: ago(5 * 3600) },
    spec: { selector: { matchLabels: { app: 'agent' } }, template },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  };
  t.same(cellsOf('ds', daemonSet), [
    'agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '5h', 'web,log', 'node:20,busybox:1.36', 'app=agent',
  ]);
  const bare: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'x' } };
  t.same(cellsOf('ds', bare), ['x', 0, 0, 0, 0, 0, '<none>', '<unknown>', '', '', '<none>']);
});
