import t from 'tap';
import { RESOURCES, resolveResource, type ResourceInfo } from '../../../src/api/resources.js';
import { toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '41', labels: { app: 'web' }, creationTimestamp: '2024-05-01T11:55:00Z' },
  data: { a: '1' },
};
const configMaps = resolveResource('cm')!;

t.test('a Table with PartialObjectMetadata rows by default', async (t) => {
  const table = toTable(configMaps, [configMap], { now, resourceVersion: '42' });
  t.same(table, {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '42' },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', priority: 0 },
      { name: 'Data', type: 'string', priority: 0 },
      { name: 'Age', type: 'string', priority: 0 },
    ],
    rows: [
      {
        cells: ['web', 1, '5m'],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: configMap.metadata },
      },
    ],
  });
  t.not(table.rows[0]!.object, configMap);
});

t.test('includeObject Object and None', async (t) => {
  t.equal(toTable(configMaps, [configMap], { now, includeObject: 'Object' }).rows[0]!.object, configMap);
  const none = toTable(configMaps, [configMap], { now, includeObject: 'None' }).rows[0]!;
  t.notOk('object' in none);
  t.same(toTable(configMaps, [], {}).metadata, {});
});

t.test('unknown kinds print NAME and AGE', async (t) => {
  const widgets: ResourceInfo = { ...configMaps, resource: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', group: 'example.com' };
  const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', creationTimestamp: '2024-05-01T11:00:00Z' } };
  const table = toTable(widgets, [widget], { now });
  t.same(table.columnDefinitions.map((c) => c.name), ['Name', 'Age']);
  t.same(table.rows[0]!.cells, ['w', '60m']);
});

t.test('every served kind has a printer whose cells match its columns, even for empty objects', async (t) => {
  for (const info of RESOURCES) {
    const empty: KubeObject = { apiVersion: info.version, kind: info.kind, metadata: {} };
    const table = toTable(info, [empty], { now });
    t.ok(table.columnDefinitions.length > 2, `${info.kind} has its own columns`);
    t.equal(table.rows[0]!.cells.length, table.columnDefinitions.length, `${info.kind} cells`);
    t.equal(table.columnDefinitions.filter((c) => c.format === 'name').length, 1, `${info.kind} has one name column`);
  }
});

t.test('column definitions are copies: changing one table leaves the next alone', async (t) => {
  const first = toTable(configMaps, [], { now });
  first.columnDefinitions[0]!.name = 'Changed';
  t.equal(toTable(configMaps, [], { now }).columnDefinitions[0]!.name, 'Name');
});
