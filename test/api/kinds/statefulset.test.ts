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
const statefulSet = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: 'default' },
  spec: {
    serviceName: 'db',
    selector: { matchLabels: { app: 'db' } },
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'main' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
});

t.test('defaults: OrderedReady, RollingUpdate partition 0, replicas 1, history 10, Retain', async (t) => {
  t.match(defaulted(statefulSet()).spec, {
    podManagementPolicy: 'OrderedReady',
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    replicas: 1,
    revisionHistoryLimit: 10,
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    volumeClaimTemplates: [{ spec: { volumeMode: 'Filesystem' } }],
    template: { spec: { restartPolicy: 'Always' } },
  });
  t.same(messagesFor(defaulted(statefulSet())), []);
});

t.test('validation', async (t) => {
  t.same(messagesFor(statefulSet({ podManagementPolicy: 'Random', updateStrategy: { type: 'Sometimes' } })), [
    "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
    "spec.updateStrategy: Invalid value: {}: must be 'RollingUpdate' or 'OnDelete'",
  ]);
  t.same(messagesFor(statefulSet({ volumeClaimTemplates: [{ spec: { accessModes: [] } }] })), [
    'spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required',
    'spec.volumeClaimTemplates[0].spec.resources[storage]: Required value',
  ]);
});

t.test('only replicas, template, updateStrategy and a few more may change', async (t) => {
  const old = defaulted(statefulSet());
  t.same(messagesFor(defaulted(statefulSet({ replicas: 3 })), old), []);
  t.same(messagesFor(defaulted(statefulSet({ serviceName: 'other' })), old), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
});

t.test('a template volume mount may name a volumeClaimTemplate, and only that', async (t) => {
  const mounting = (name: string) => ({ metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'main', volumeMounts: [{ name, mountPath: '/data' }] }] } });
  t.same(messagesFor(statefulSet({ template: mounting('data') })), []);
  t.same(messagesFor(statefulSet({ template: mounting('other') })), ['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "other"']);
});
