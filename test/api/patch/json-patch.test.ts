import t from 'tap';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from '../../../src/api/patch/json-patch.js';
import { ApiError } from '../../../src/api/errors.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The ApiError `fn` throws, so tests can check code, reason and message. */
function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError, nothing was thrown');
}

const apply = (target: unknown, patch: string): unknown => applyJsonPatch(deepFreeze(target), deepFreeze(JSON.parse(patch)));

t.test('RFC 6902 appendix A examples', async (t) => {
  t.same(apply({ foo: 'bar' }, '[{ "op": "add", "path": "/baz", "value": "qux" }]'), { baz: 'qux', foo: 'bar' }, 'A.1 add object member');
  t.same(apply({ foo: ['bar', 'baz'] }, '[{ "op": "add", "path": "/foo/1", "value": "qux" }]'), { foo: ['bar', 'qux', 'baz'] }, 'A.2 add array element');
  t.same(apply({ baz: 'qux', foo: 'bar' }, '[{ "op": "remove", "path": "/baz" }]'), { foo: 'bar' }, 'A.3 remove object member');
  t.same(apply({ foo: ['bar', 'qux', 'baz'] }, '[{ "op": "remove", "path": "/foo/1" }]'), { foo: ['bar', 'baz'] }, 'A.4 remove array element');
  t.same(apply({ baz: 'qux', foo: 'bar' }, '[{ "op": "replace", "path": "/baz", "value": "boo" }]'), { baz: 'boo', foo: 'bar' }, 'A.5 replace');
  t.same(
    apply({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, '[{ "op": "move", "from": "/foo/waldo", "path": "/qux/thud" }]'),
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    'A.6 move a value',
  );
  t.same(
    apply({ foo: ['all', 'grass', 'cows', 'eat'] }, '[{ "op": "move", "from": "/foo/1", "path": "/foo/3" }]'),
    { foo: ['all', 'cows', 'eat', 'grass'] },
    'A.7 move an array element',
  );
  t.same(
    apply({ baz: 'qux', foo: ['a', 2, 'c'] }, '[{ "op": "test", "path": "/baz", "value": "qux" }, { "op": "test", "path": "/foo/1", "value": 2 }]'),
    { baz: 'qux', foo: ['a', 2, 'c'] },
    'A.8 test success',
  );
  t.throws(() => apply({ baz: 'qux' }, '[{ "op": "test", "path": "/baz", "value": "bar" }]'), { code: 422, reason: 'Invalid' }, 'A.9 test error');
  t.same(apply({ foo: 'bar' }, '[{ "op": "add", "path": "/child", "value": { "grandchild": { } } }]'), { foo: 'bar', child: { grandchild: {} } }, 'A.10 add nested member');
  t.same(apply({ foo: 'bar' }, '[{ "op": "add", "path": "/baz", "value": "qux", "xyz": 123 }]'), { foo: 'bar', baz: 'qux' }, 'A.11 unrecognized members are ignored');
  t.throws(() => apply({ foo: 'bar' }, '[{ "op": "add", "path": "/baz/bat", "value": "qux" }]'), { code: 422 }, 'A.12 add to a nonexistent target');
  t.same(apply({ '/': 9, '~1': 10 }, '[{"op": "test", "path": "/~01", "value": 10}]'), { '/': 9, '~1': 10 }, 'A.14 ~ escape ordering');
  t.throws(() => apply({ '/': 9, '~1': 10 }, '[{"op": "test", "path": "/~01", "value": "10"}]'), { code: 422 }, 'A.15 strings and numbers differ');
  t.same(apply({ foo: ['bar'] }, '[{ "op": "add", "path": "/foo/-", "value": ["abc", "def"] }]'), { foo: ['bar', ['abc', 'def']] }, 'A.16 add an array value');
});

t.test('operations that cannot apply are 422 naming the operation, its position and the path', async (t) => {
  const deployment = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'main' }] } } } };
  const missing = errorOf(() =>
    apply(deployment, '[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/foo","value":2}]'),
  );
  t.equal(missing.code, 422);
  t.equal(missing.reason, 'Invalid');
  t.equal(missing.message, 'jsonpatch replace operation does not apply: doc is missing key: /spec/foo (operation 2 of 2)');
  t.match(errorOf(() => apply(deployment, '[{"op":"remove","path":"/spec/template/spec/containers/1"}]')).message, /remove .*missing key: \/spec\/template\/spec\/containers\/1 \(operation 1 of 1\)/);
  t.match(errorOf(() => apply(deployment, '[{"op":"add","path":"/spec/template/spec/containers/5","value":{}}]')).message, /add .*out of bounds/);
  t.match(errorOf(() => apply(deployment, '[{"op":"add","path":"/spec/template/spec/containers/01","value":{}}]')).message, /out of bounds|missing/);
  t.match(errorOf(() => apply(deployment, '[{"op":"move","from":"/spec/nope","path":"/spec/x"}]')).message, /move .*missing from path: \/spec\/nope/);
  t.match(errorOf(() => apply(deployment, '[{"op":"copy","from":"/nope","path":"/x"}]')).message, /copy .*missing from path: \/nope/);
  t.match(errorOf(() => apply(deployment, '[{"op":"move","from":"/spec","path":"/spec/template/x"}]')).message, /own child/);
  t.match(errorOf(() => apply(deployment, '[{"op":"test","path":"/spec/replicas","value":2}]')).message, /testing value \/spec\/replicas failed/);
  t.equal(errorOf(() => apply(deployment, '[{"op":"replace","path":"/spec/replicas/x","value":2}]')).code, 422, 'cannot walk into a number');
  t.equal(errorOf(() => apply({}, '[{"op":"replace","path":"/constructor","value":2}]')).code, 422, 'inherited names are missing keys');
  t.equal(errorOf(() => apply([1], '[{"op":"remove","path":"/-"}]')).code, 422, '"-" names no existing element');
});

t.test('malformed patch documents are 400', async (t) => {
  const bad = [
    '{"op":"add","path":"/a","value":1}',
    '[1]',
    '[{"path":"/a"}]',
    '[{"op":"frobnicate","path":"/a"}]',
    '[{"op":"add","value":1}]',
    '[{"op":"add","path":"/a"}]',
    '[{"op":"replace","path":"/a"}]',
    '[{"op":"test","path":"/a"}]',
    '[{"op":"move","path":"/a"}]',
    '[{"op":"copy","path":"/a","from":5}]',
    '[{"op":"add","path":"a","value":1}]',
    '[{"op":"add","path":"/a~2","value":1}]',
    '[{"op":"add","path":"/a~","value":1}]',
    '[{"op":"add","path":"/__proto__/polluted","value":1}]',
    '[{"op":"add","path":"/a","value":{"__proto__":{"polluted":1}}}]',
  ];
  for (const patch of bad) {
    const error = errorOf(() => apply({ a: 0 }, patch));
    t.equal(error.code, 400, patch);
    t.equal(error.reason, 'BadRequest', patch);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('the whole document, null values, escapes and appends', async (t) => {
  t.same(apply({ a: 1 }, '[{"op":"replace","path":"","value":{"b":2}}]'), { b: 2 });
  t.same(apply({ a: 1 }, '[{"op":"add","path":"","value":[1]}]'), [1]);
  t.same(apply({ a: 1 }, '[{"op":"add","path":"/a","value":null}]'), { a: null }, 'null is a value');
  t.same(apply({ a: null }, '[{"op":"test","path":"/a","value":null}]'), { a: null });
  t.same(apply({}, '[{"op":"add","path":"/a~1b~0c","value":1}]'), { 'a/b~c': 1 });
  t.same(apply({ '': 1 }, '[{"op":"replace","path":"/","value":2}]'), { '': 2 }, '"/" is the empty key');
  t.same(apply({ l: [1, 2] }, '[{"op":"add","path":"/l/2","value":3},{"op":"add","path":"/l/-","value":4}]'), { l: [1, 2, 3, 4] });
  t.same(apply({ a: { b: [1] } }, '[{"op":"copy","from":"/a","path":"/c"},{"op":"add","path":"/c/b/-","value":2}]'), { a: { b: [1] }, c: { b: [1, 2] } }, 'copies are deep');
  t.same(apply({ a: { x: 1, y: [1, { z: 2 }] } }, '[{"op":"test","path":"/a","value":{"y":[1,{"z":2}],"x":1}}]'), { a: { x: 1, y: [1, { z: 2 }] } }, 'test ignores key order');
  t.same(apply({ metadata: { annotations: { a: '1' } } }, '[{"op":"remove","path":"/metadata/annotations/a"}]'), { metadata: { annotations: {} } });
});

t.test('a failing patch changes nothing; a successful one never touches its inputs', async (t) => {
  const target = deepFreeze({ spec: { replicas: 1, list: [1, 2] } });
  t.throws(() => applyJsonPatch(target, [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'remove', path: '/nope' }]));
  t.same(target, { spec: { replicas: 1, list: [1, 2] } });
  const value = deepFreeze({ nested: [1] });
  const result = applyJsonPatch(target, [{ op: 'add', path: '/spec/v', value }]) as { spec: { v: { nested: number[] } } };
  result.spec.v.nested.push(2);
  t.same(value, { nested: [1] });
});

t.test('more operations than Kubernetes allows is 413', async (t) => {
  const test = { op: 'test', path: '/a', value: 1 };
  t.same(applyJsonPatch({ a: 1 }, Array.from({ length: MAX_JSON_PATCH_OPERATIONS }, () => test)), { a: 1 });
  t.throws(() => applyJsonPatch({ a: 1 }, Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => test)), {
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: 'The allowed maximum operations in a JSON patch is 10000, got 10001',
  });
});
