import t from 'tap';
import { applyMergePatch } from '../../../src/api/patch/merge-patch.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

t.test('RFC 7386 appendix A test cases', async (t) => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) {
    t.same(applyMergePatch(deepFreeze(target), deepFreeze(patch)), expected, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
  }
});

t.test('kubectl scale sends a merge patch of spec.replicas', async (t) => {
  const deployment = deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', labels: { app: 'hello' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'hello' } }, template: { spec: { containers: [{ name: 'main' }] } } },
  });
  const result = applyMergePatch(deployment, JSON.parse('{"spec":{"replicas":3}}'));
  t.same(result, { ...deployment, spec: { ...deployment.spec, replicas: 3 } });
  t.equal(deployment.spec.replicas, 1, 'the input is unchanged');
});

t.test('kubectl label and annotate: add, overwrite and remove with null', async (t) => {
  const pod = deepFreeze({ metadata: { name: 'p', labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } } });
  const result = applyMergePatch(pod, { metadata: { labels: { tier: null, env: 'prod' }, annotations: { note: 'y' } } });
  t.same(result, { metadata: { name: 'p', labels: { app: 'web', env: 'prod' }, annotations: { note: 'y' } } });
});

t.test('the result shares nothing with the inputs', async (t) => {
  const target = deepFreeze({ keep: { deep: [1, { x: 1 }] }, change: { a: 1 } });
  const patch = deepFreeze({ change: { b: [{ c: 1 }] } });
  const result = applyMergePatch(target, patch) as { keep: { deep: unknown[] }; change: { b: unknown[] } };
  t.not(result.keep, target.keep);
  t.not(result.change.b, patch.change.b);
  result.keep.deep.push(2);
  result.change.b.push(3);
  t.same(target.keep.deep, [1, { x: 1 }]);
  t.same(patch.change.b, [{ c: 1 }]);
});

t.test('__proto__ is rejected; constructor and prototype are plain data', async (t) => {
  t.throws(() => applyMergePatch({}, JSON.parse('{"a":{"__proto__":{"polluted":true}}}')), { code: 400, reason: 'BadRequest' });
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  const result = applyMergePatch({}, JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'));
  t.same(result, { constructor: { prototype: { polluted: true } } });
  t.equal(Object.getPrototypeOf(result), Object.prototype);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.same(applyMergePatch({ a: 1 }, { constructor: null }), { a: 1 }, 'deleting an inherited name is a no-op');
});
