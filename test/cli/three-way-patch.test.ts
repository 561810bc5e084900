import t from 'tap';
import { applyStrategicMergePatch } from '../../src/api/patch/index.js';
import type { KubeObject } from '../../src/api/types.js';
import { LAST_APPLIED, lastAppliedOf, readLastApplied, threeWayPatch, withLastApplied } from '../../src/cli/three-way-patch.js';

const deployment = (containers: unknown[], replicas = 2): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'hello' },
  spec: { replicas, template: { spec: { containers } } },
});

const v1 = deployment([{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 8080 }] }]);
const v3 = deployment([
  { name: 'main', image: 'busybox:1.37', env: [{ name: 'GREETING', value: 'hi' }] },
  { name: 'side', image: 'busybox:1.36', command: ['sleep', '10'] },
], 3);

/** The live object after applying `config` over `live`, as the server would store it. */
function applyOver(live: KubeObject, config: KubeObject): { patch: Record<string, unknown>; result: KubeObject } {
  const patch = threeWayPatch(readLastApplied(live), withLastApplied(config), live);
  return { patch, result: applyStrategicMergePatch(live, patch, live.kind) as KubeObject };
}

t.test('the last-applied annotation is the config as compact JSON plus a newline', async (t) => {
  t.equal(lastAppliedOf(v1), `${JSON.stringify(v1)}\n`);
  const annotated = withLastApplied(v1);
  t.equal(annotated.metadata.annotations?.[LAST_APPLIED], `${JSON.stringify(v1)}\n`);
  t.same(withLastApplied(annotated), annotated, 'an annotation already present is not nested');
});

t.test('kubectl\'s v1 → v3 → v1 sequence (KUBECTL-PROTOCOL §8)', async (t) => {
  const live1 = withLastApplied(v1);
  const { patch: toV3, result: live3 } = applyOver(live1, v3);
  t.match(toV3, {
    spec: {
      replicas: 3,
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'main' }, { name: 'side' }],
          containers: [
            { name: 'main', image: 'busybox:1.37', command: null, ports: null, env: [{ name: 'GREETING', value: 'hi' }] },
            { name: 'side', image: 'busybox:1.36', command: ['sleep', '10'] },
          ],
        },
      },
    },
  });
  t.same((live3.spec as { template: { spec: unknown } }).template.spec, (v3.spec as { template: { spec: unknown } }).template.spec);

  const { patch: back, result: again } = applyOver(live3, v1);
  t.match(back, {
    spec: {
      replicas: 2,
      template: { spec: { containers: [{ name: 'main', env: null, command: ['sleep', '3600'] }, { $patch: 'delete', name: 'side' }] } },
    },
  });
  t.same((again.spec as { template: { spec: unknown } }).template.spec, (v1.spec as { template: { spec: unknown } }).template.spec);
  t.same(threeWayPatch(readLastApplied(again), withLastApplied(v1), again), {}, 'applying the same config again is a no-op');
});

t.test('fields other writers set are left alone; drifted fields are reset', async (t) => {
  const live = structuredClone(withLastApplied(v1));
  live.metadata.labels = { owner: 'ops' };
  (live.spec as Record<string, unknown>).paused = true;
  (live.spec as Record<string, unknown>).replicas = 7;
  const { patch, result } = applyOver(live, v1);
  t.same(patch, { spec: { replicas: 2 } });
  t.same(result.metadata.labels, { owner: 'ops' });
  t.equal((result.spec as Record<string, unknown>).paused, true);
});

t.test('objects without a last-applied annotation only get additions and changes', async (t) => {
  const live: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
  const config: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '9' } };
  const patch = threeWayPatch(readLastApplied(live), withLastApplied(config), live);
  t.same(patch, { metadata: { annotations: { [LAST_APPLIED]: lastAppliedOf(config) } }, data: { a: '9' } });
});
