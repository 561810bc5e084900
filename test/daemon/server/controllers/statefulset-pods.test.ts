import t from 'tap';
import type { StatefulSet } from '../../../../src/api/kinds/statefulset.js';
import type { KubeObject } from '../../../../src/api/types.js';
import {
  claimIsStale,
  claimOwnersFor,
  claimsFor,
  msUntilAvailable,
  newStatefulSetPod,
  parentAndOrdinal,
  revisionName,
  templateFromPod,
} from '../../../../src/daemon/server/controllers/statefulset-pods.js';

function set(spec: Partial<StatefulSet['spec']> = {}, status: StatefulSet['status'] = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid' },
    spec: {
      replicas: 2,
      serviceName: 'web',
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', command: ['sleep'] }], volumes: [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: {} }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
    status,
  };
}

const pod = (name: string, uid = `${name}-uid`): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid } });

t.test('parentAndOrdinal splits the last numeric suffix only', async (t) => {
  t.same(parentAndOrdinal('web-12'), { parent: 'web', ordinal: 12 });
  t.same(parentAndOrdinal('my-db-0'), { parent: 'my-db', ordinal: 0 });
  t.same(parentAndOrdinal('web'), { parent: '', ordinal: -1 });
  t.same(parentAndOrdinal('web-x'), { parent: '', ordinal: -1 });
});

t.test('revision names hash the template only, whatever its key order, plus collisionCount', async (t) => {
  const base = set();
  const reordered = set({ template: { spec: base.spec.template.spec, metadata: { labels: { app: 'web' } } } });
  t.match(revisionName(base), /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  t.equal(revisionName(reordered), revisionName(base));
  t.equal(revisionName(set({ replicas: 5 })), revisionName(base), 'replicas are not part of a revision');
  t.not(revisionName(set({ template: { ...base.spec.template, metadata: { labels: { app: 'web', v: '2' } } } })), revisionName(base));
  t.not(revisionName(set({}, { collisionCount: 1 })), revisionName(base));
});

t.test('newStatefulSetPod: identity, revision, owner, and claim volumes replacing same-named template volumes', async (t) => {
  const created = newStatefulSetPod(set(), set().spec.template, 1, 'web-abc');
  t.equal(created.metadata.name, 'web-1');
  t.same(created.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-1', 'apps.kubernetes.io/pod-index': '1', 'controller-revision-hash': 'web-abc' });
  t.match(created.metadata.ownerReferences, [{ kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
  t.match(created.spec, { hostname: 'web-1', subdomain: 'web', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }, { name: 'tmp', emptyDir: {} }] });
  t.notOk((created.spec as { volumes: unknown[] }).volumes.some((volume) => (volume as { emptyDir?: unknown; name: string }).name === 'data' && (volume as { emptyDir?: unknown }).emptyDir));
  const noService = newStatefulSetPod(set({ serviceName: '' }), set().spec.template, 0, 'web-abc');
  t.equal((noService.spec as { subdomain?: string }).subdomain, undefined);
  // The template read back from a pod makes the same pod again.
  const again = newStatefulSetPod(set(), templateFromPod({ ...created, spec: { ...(created.spec as object), nodeName: 'a' } }), 1, 'web-abc');
  t.same(again, created);
});

t.test('claimsFor: names, selector labels over template labels, no owners', async (t) => {
  const [claim] = claimsFor(set(), 3);
  t.equal(claim?.metadata.name, 'data-web-3');
  t.same(claim?.metadata.labels, { tier: 'db', app: 'web' });
  t.equal(claim?.metadata.ownerReferences, undefined);
});

t.test('claimOwnersFor follows the retention policy', async (t) => {
  const claim = (owners: KubeObject['metadata']['ownerReferences'] = []): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-web-1', ownerReferences: owners } });
  const retain = set();
  const deleteBoth = set({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } });
  const deleteScaled = set({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } });
  t.equal(claimOwnersFor(claim(), retain, pod('web-1'), false), undefined, 'Retain: nothing to do');
  t.match(claimOwnersFor(claim(), deleteBoth, pod('web-1'), false), [{ kind: 'StatefulSet', uid: 'set-uid', controller: true }]);
  t.match(claimOwnersFor(claim(), deleteBoth, pod('web-1'), true), [{ kind: 'Pod', uid: 'web-1-uid', controller: true }]);
  t.equal(claimOwnersFor(claim(), deleteScaled, pod('web-1'), false), undefined);
  const handed = claimOwnersFor(claim(), deleteScaled, pod('web-1'), true)!;
  t.same(claimOwnersFor(claim(handed), deleteScaled, pod('web-1'), true), undefined, 'already right');
  t.same(claimOwnersFor(claim(handed), deleteScaled, pod('web-1'), false), [], 'scaled back up: the pod lets go');
  const foreign = [{ apiVersion: 'v1', kind: 'Thing', name: 'x', uid: 'x', controller: true }];
  t.equal(claimOwnersFor(claim(foreign), deleteBoth, pod('web-1'), false), undefined, 'another controller owns it');
  const stale = [{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'old-uid', controller: true }];
  t.equal(claimOwnersFor(claim(stale), deleteBoth, pod('web-1'), false), undefined, 'an earlier pod of the name: left to the garbage collector');
  t.ok(claimIsStale(claim(stale), 'web-1'));
  t.notOk(claimIsStale(claim(), 'web-1'));
});

t.test('msUntilAvailable: not ready is Infinity; minReadySeconds counts from the Ready transition', async (t) => {
  const now = new Date('2024-01-01T00:00:10Z');
  const ready = (since: string): KubeObject => ({ ...pod('web-0'), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] } });
  t.equal(msUntilAvailable({ ...pod('web-0'), status: { phase: 'Pending' } }, 0, now), Infinity);
  t.equal(msUntilAvailable(ready('2024-01-01T00:00:09Z'), 0, now), 0);
  t.equal(msUntilAvailable(ready('2024-01-01T00:00:09Z'), 5, now), 4000);
  t.equal(msUntilAvailable(ready('2024-01-01T00:00:00Z'), 5, now), 0);
});
