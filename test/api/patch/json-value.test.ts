import t from 'tap';
import { cloneJson, getOwn, jsonEqual, rejectForbiddenKeys, removeOwn, setOwn } from '../../../src/api/patch/json-value.js';

t.test('own-property access ignores the prototype chain', async (t) => {
  const object: Record<string, unknown> = {};
  t.equal(getOwn(object, 'constructor'), undefined);
  t.equal(getOwn(object, 'toString'), undefined);
  setOwn(object, '__proto__', { polluted: true });
  t.equal(Object.getPrototypeOf(object), Object.prototype, 'setOwn never reaches the __proto__ setter');
  t.same(getOwn(object, '__proto__'), { polluted: true });
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  removeOwn(object, '__proto__');
  t.same(Object.keys(object), []);
  removeOwn(object, 'toString');
  t.equal(typeof object.toString, 'function', 'removing an inherited name does nothing');
});

t.test('cloneJson is deep and keeps an own __proto__ key as data', async (t) => {
  const source = JSON.parse('{"__proto__":{"x":1},"a":[{"b":1}]}') as Record<string, unknown>;
  const copy = cloneJson(source);
  t.not(copy.a, source.a);
  t.ok(Object.hasOwn(copy, '__proto__'));
  t.equal(Object.getPrototypeOf(copy), Object.prototype);
});

t.test('jsonEqual: key order ignored, array order and types respected', async (t) => {
  t.ok(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }));
  t.notOk(jsonEqual([1, 2], [2, 1]));
  t.notOk(jsonEqual({ a: 1 }, { a: 1, b: undefined }));
  t.notOk(jsonEqual('10', 10));
  t.notOk(jsonEqual(null, {}));
  t.notOk(jsonEqual([], {}));
});

t.test('rejectForbiddenKeys finds __proto__ at any depth', async (t) => {
  t.doesNotThrow(() => rejectForbiddenKeys({ constructor: { prototype: [1] } }, 'p'));
  t.throws(() => rejectForbiddenKeys(JSON.parse('[{"a":[{"__proto__":1}]}]'), 'p'), { code: 400, message: 'p: the key "__proto__" is not allowed' });
});
