import t from 'tap';
import { applyPatch, patchTypeOf, PATCH_TYPES } from '../../../src/api/patch/index.js';

const deployment = () => ({
  kind: 'Deployment',
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'main', image: 'a' }, { name: 'side', image: 'b' }] } } },
});

t.test('PATCH_TYPES lists the three patch media types', async (t) => {
  t.same([...PATCH_TYPES].sort(), ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
});

t.test('dispatches on the media type, ignoring parameters and case', async (t) => {
  const body = { spec: { template: { spec: { containers: [{ name: 'main', image: 'z' }] } } } };
  const strategic = applyPatch('application/strategic-merge-patch+json', deployment(), body, 'Deployment');
  t.same(strategic, { ...deployment(), spec: { ...deployment().spec, template: { spec: { containers: [{ name: 'main', image: 'z' }, { name: 'side', image: 'b' }] } } } });
  const merged = applyPatch('application/merge-patch+json; charset=utf-8', deployment(), body, 'Deployment');
  t.same(merged, { ...deployment(), spec: { ...deployment().spec, template: { spec: { containers: [{ name: 'main', image: 'z' }] } } } }, 'merge patch replaces lists');
  const json = applyPatch(' Application/JSON-Patch+JSON ;charset=UTF-8', deployment(), [{ op: 'replace', path: '/spec/replicas', value: 4 }], 'Deployment');
  t.same(json, { ...deployment(), spec: { ...deployment().spec, replicas: 4 } });
  t.equal(patchTypeOf('application/strategic-merge-patch+json;charset=utf-8'), 'application/strategic-merge-patch+json');
});

t.test('unknown media types are 415', async (t) => {
  for (const type of ['application/json', 'application/apply-patch+yaml', 'text/plain', '', 'application/merge-patch+jsonx']) {
    t.throws(() => applyPatch(type, deployment(), {}, 'Deployment'), { code: 415, reason: 'UnsupportedMediaType' }, JSON.stringify(type));
  }
});

t.test('a body of the wrong shape is 400', async (t) => {
  const cases: [string, unknown][] = [
    ['application/json-patch+json', { op: 'add', path: '/a', value: 1 }],
    ['application/merge-patch+json', [{ a: 1 }]],
    ['application/merge-patch+json', 'x'],
    ['application/merge-patch+json', null],
    ['application/strategic-merge-patch+json', []],
    ['application/strategic-merge-patch+json', 3],
  ];
  for (const [type, body] of cases) {
    t.throws(() => applyPatch(type, deployment(), body, 'Deployment'), { code: 400, reason: 'BadRequest' }, `${type} ${JSON.stringify(body)}`);
  }
});

t.test('an operation that cannot apply is 422', async (t) => {
  t.throws(() => applyPatch('application/json-patch+json', deployment(), [{ op: 'remove', path: '/spec/nope' }], 'Deployment'), {
    code: 422,
    reason: 'Invalid',
    message: 'jsonpatch remove operation does not apply: doc is missing key: /spec/nope (operation 1 of 1)',
  });
});
