import t from 'tap';
import { resourceForKind } from '../../../src/api/resources.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../src/api/validation.js';

const infoFor = (apiVersion: string, kind: string): ResourceInfo => resourceForKind(apiVersion, kind)!;
const messagesFor = (value: KubeObject, old?: KubeObject): string[] =>
  validateObject(infoFor(value.apiVersion, value.kind), value, old).map((error) => error.message);
const defaulted = <T extends KubeObject>(value: T): T => {
  applyDefaults(infoFor(value.apiVersion, value.kind), value);
  return value;
};
const secret = (body: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...body });

t.test('type defaults to Opaque; stringData folds into data', async (t) => {
  const value = defaulted(secret({ data: { a: 'eA==' }, stringData: { b: 'hello' } }));
  t.same({ type: value.type, data: value.data, stringData: value.stringData }, { type: 'Opaque', data: { a: 'eA==', b: 'aGVsbG8=' }, stringData: undefined });
});

t.test('data must be base64 and is never echoed', async (t) => {
  t.same(messagesFor(secret({ data: { password: 'hunter2!' } })), ['data[password]: Invalid value: "<secret contents redacted>": must be a base64-encoded string']);
  t.same(messagesFor(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': '' } })), ['data[tls.key]: Required value']);
});

t.test('type is immutable', async (t) => {
  t.same(messagesFor(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }), secret({ type: 'Opaque' })), ['type: Invalid value: "kubernetes.io/tls": field is immutable']);
});
