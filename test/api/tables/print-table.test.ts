import t from 'tap';
import { printTable, type Table } from '../../../src/api/tables/index.js';

const meta = (namespace: string, labels?: Record<string, string>): unknown => ({
  kind: 'PartialObjectMetadata',
  apiVersion: 'meta.k8s.io/v1',
  metadata: { name: 'x', namespace, labels },
});

const table: Table = {
  kind: 'Table',
  apiVersion: 'meta.k8s.io/v1',
  metadata: { resourceVersion: '7' },
  columnDefinitions: [
    { name: 'Name', type: 'string', format: 'name', priority: 0 },
    { name: 'Ready', type: 'string', priority: 0 },
    { name: 'Restarts', type: 'integer', priority: 0 },
    { name: 'Age', type: 'string', priority: 0 },
    { name: 'IP', type: 'string', priority: 1 },
  ],
  rows: [
    { cells: ['web-1', '1/1', 0, '5m', '10.0.0.5'], object: meta('default', { tier: 'fe', app: 'web' }) },
    { cells: ['a-much-longer-name', '0/1', 12, '3h20m', '<none>'], object: meta('kube-system') },
  ],
};

t.test('headers upper-cased, columns padded to the widest cell plus 3', async (t) => {
  t.equal(
    printTable(table, {}),
    [
      'NAME                 READY   RESTARTS   AGE',
      'web-1                1/1     0          5m',
      'a-much-longer-name   0/1     12         3h20m',
      '',
    ].join('\n'),
  );
});

t.test('wide, all namespaces and labels', async (t) => {
  t.equal(
    printTable(table, { wide: true, withNamespace: true, showLabels: true }),
    [
      'NAMESPACE     NAME                 READY   RESTARTS   AGE     IP         LABELS',
      'default       web-1                1/1     0          5m      10.0.0.5   app=web,tier=fe',
      'kube-system   a-much-longer-name   0/1     12         3h20m   <none>     <none>',
      '',
    ].join('\n'),
  );
});

t.test('no headers', async (t) => {
  t.equal(
    printTable(table, { noHeaders: true }),
    // READY and RESTARTS shrink to their cells, but never below 6.
    ['web-1                1/1   0     5m', 'a-much-longer-name   0/1   12    3h20m', ''].join('\n'),
  );
});

t.test('columns are at least 6 wide, like kubectl\'s tabwriter', async (t) => {
  const narrow: Table = {
    ...table,
    columnDefinitions: [
      { name: 'A', type: 'string', priority: 0 },
      { name: 'B', type: 'string', priority: 0 },
    ],
    rows: [{ cells: ['x', 'y'] }],
  };
  t.equal(printTable(narrow, {}), 'A     B\nx     y\n');
});

t.test('rows without objects leave NAMESPACE and LABELS empty; odd cells still print', async (t) => {
  const bare: Table = {
    ...table,
    columnDefinitions: [
      { name: 'Name', type: 'string', priority: 0 },
      { name: 'Message', type: 'string', priority: 0 },
      { name: 'Flag', type: 'boolean', priority: 0 },
    ],
    rows: [
      { cells: ['ünï', 'first line\nsecond line', true] },
      { cells: ['b', undefined, { x: 1 }] },
      { cells: ['c'] },
    ],
  };
  t.equal(
    printTable(bare, { withNamespace: true, showLabels: true }),
    [
      'NAMESPACE   NAME   MESSAGE         FLAG      LABELS',
      '            ünï    first line...   true',
      '            b                      {"x":1}',
      '            c',
      '',
    ].join('\n'),
  );
});

t.test('an empty table prints nothing, like kubectl', async (t) => {
  t.equal(printTable({ ...table, rows: [] }, {}), '');
});
