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
t.test('lease durations are positive', async (t) => {
  const lease = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-a', namespace: 'pm8s-node-lease' }, spec });
  t.same(messagesFor(defaulted(lease({ holderIdentity: 'node-a', leaseDurationSeconds: 40, renewTime: '2024-01-01T00:00:00.000000Z' }))), []);
  t.same(messagesFor(lease({ leaseDurationSeconds: 0, leaseTransitions: -1 })), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
  ]);
});
