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
t.test('allocatable defaults to capacity; taints and quantities are checked', async (t) => {
  const value = defaulted<KubeObject>({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a.example.com' }, status: { capacity: { cpu: '4', memory: '8Gi' } } });
  t.same((value.status as { allocatable: unknown }).allocatable, { cpu: '4', memory: '8Gi' });
  t.same(messagesFor(value), []);
  t.same(messagesFor({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [{ key: 'k', effect: 'Sometimes' }] }, status: { capacity: { cpu: '-1' } } }), [
    'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
    'status.capacity[cpu]: Invalid value: "-1": must be greater than or equal to 0',
  ]);
});
