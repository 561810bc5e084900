import t from 'tap';
import { resourceForKind } from '../../../src/api/resources.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { validateObject } from '../../../src/api/validation.js';

const infoFor = (apiVersion: string, kind: string): ResourceInfo => resourceForKind(apiVersion, kind)!;
const messagesFor = (value: KubeObject, old?: KubeObject): string[] =>
  validateObject(infoFor(value.apiVersion, value.kind), value, old).map((error) => error.message);
const configMap = (body: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, ...body });

t.test('keys are file names', async (t) => {
  t.same(messagesFor(configMap({ data: { 'app.properties': 'x', 'A_B-c': '' } })), []);
  t.same(messagesFor(configMap({ data: { '..data': 'x' } })), ['data: Invalid value: "..data": must not start with \'..\'']);
  t.match(messagesFor(configMap({ data: { 'a/b': 'x' } })), [/^data: Invalid value: "a\/b": a valid config key must consist of alphanumeric characters/]);
  t.same(messagesFor(configMap({ data: { a: 1 } })), ['data[a]: Invalid value: 1: must be of type string']);
  t.same(messagesFor(configMap({ data: { a: 'x' }, binaryData: { a: 'eA==' } })), ['data[a]: Invalid value: "a": duplicate of key present in binaryData']);
  t.same(messagesFor(configMap({ data: { big: 'x'.repeat(1024 * 1024 + 1) } })), ['data: Too long: must have at most 1048576 bytes']);
});

t.test('immutable config maps stay as they are', async (t) => {
  const old = configMap({ data: { a: '1' }, immutable: true });
  t.same(messagesFor(configMap({ data: { a: '2' }, immutable: true }), old), ['data: Forbidden: field is immutable when `immutable` is set']);
  t.same(messagesFor(configMap({ data: { a: '1' } }), old), ['immutable: Forbidden: field is immutable when `immutable` is set']);
});
