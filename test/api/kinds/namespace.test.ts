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
t.test('status.phase defaults to Active', async (t) => {
  const value = defaulted<KubeObject>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  t.same(value.status, { phase: 'Active' });
  t.same(messagesFor(value), []);
  t.same(messagesFor({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, status: { phase: 'Gone' } }), ['status.phase: Unsupported value: "Gone": supported values: "Active", "Terminating"']);
});
