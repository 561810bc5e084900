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
const claim = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec });

t.test('defaults and validation', async (t) => {
  const value = defaulted(claim({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }));
  t.match(value, { spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
  t.same(messagesFor(value), []);
  t.same(messagesFor(claim({ accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '0' } } })), [
    'spec.accessModes[0]: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    'spec.resources[storage]: Invalid value: "0": must be greater than zero',
  ]);
});

t.test('only the requested size may change', async (t) => {
  const old = claim({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  t.same(messagesFor(claim({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } }), old), []);
  t.same(messagesFor(claim({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } }), old), [
    'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
  ]);
});
