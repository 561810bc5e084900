import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const cellsOf = (resource: string, object: KubeObject): unknown[] =>
  toTable(resolveResource(resource)!, [object], { now }).rows[0]!.cells;
const created = '2024-05-01T11:00:00Z';

t.test('configmaps count data and binaryData keys', async (t) => {
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'web-config', creationTimestamp: created },
    data: { 'app.json': '{}', LOG_LEVEL: 'info' },
    binaryData: { 'logo.png': 'iVBORw0KGgo=' },
  };
  t.same(cellsOf('cm', configMap), ['web-config', 3, '60m']);
  t.same(cellsOf('cm', { ...configMap, data: undefined, binaryData: undefined }), ['web-config', 0, '60m']);
});

t.test('secrets show type and key count, never values', async (t) => {
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'tls', creationTimestamp: created },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'LS0t', 'tls.key': 'LS0t' },
  };
  t.same(cellsOf('secret', secret), ['tls', 'kubernetes.io/tls', 2, '60m']);
  t.same(cellsOf('secret', { ...secret, type: undefined, data: undefined }), ['tls', 'Opaque', 0, '60m']);
});
