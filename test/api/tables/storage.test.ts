import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const pvcs = resolveResource('pvc')!;
const cellsOf = (object: KubeObject): unknown[] => toTable(pvcs, [object], { now }).rows[0]!.cells;
const claim = (spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', creationTimestamp: '2024-05-01T11:59:00Z', ...meta },
  spec,
  status,
});

t.test('a bound claim shows the volume, its capacity and modes', async (t) => {
  const bound = claim(
    { volumeName: 'pv-data', storageClassName: 'local-path', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'] },
  );
  t.same(cellsOf(bound), ['data', 'Bound', 'pv-data', '2Gi', 'RWO,RWX', 'local-path', '<unset>', '60s', '<unset>']);
});

t.test('a pending claim leaves capacity and modes blank', async (t) => {
  const pending = claim({ storageClassName: 'local-path', volumeMode: 'Filesystem' }, { phase: 'Pending' }, {
    annotations: { 'volume.beta.kubernetes.io/storage-class': 'legacy' },
  });
  t.same(cellsOf(pending), ['data', 'Pending', '', '', '', 'legacy', '<unset>', '60s', 'Filesystem']);
  const deleting = claim({}, { phase: 'Bound' }, { deletionTimestamp: '2024-05-01T12:00:00Z' });
  t.equal(cellsOf(deleting)[1], 'Terminating');
});
