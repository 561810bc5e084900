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
const replicaSet = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-1', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main' }] } },
    ...spec,
  },
});

t.test('replicas default to 1 and must be a non-negative int32', async (t) => {
  t.equal((defaulted(replicaSet()).spec as { replicas: number }).replicas, 1);
  t.same(messagesFor(replicaSet({ replicas: -1 })), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  t.same(messagesFor(replicaSet({ replicas: 2 ** 31 })), ['spec.replicas: Invalid value: 2147483648: must be less than or equal to 2147483647']);
});

t.test('templates must keep running and match the selector', async (t) => {
  const template = { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'main' }], restartPolicy: 'OnFailure', activeDeadlineSeconds: 5 } };
  t.same(messagesFor(replicaSet({ template })), [
    'spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`',
    'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
  ]);
  t.same(messagesFor(replicaSet({ selector: { matchLabels: { app: 'x' } } }), replicaSet()).includes('spec.selector: Invalid value: {}: field is immutable'), true);
});
