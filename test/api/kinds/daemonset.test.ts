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
const daemonSet = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'main' }] } },
    ...spec,
  },
});

t.test('defaults: RollingUpdate maxUnavailable 1 maxSurge 0, history 10', async (t) => {
  t.match(defaulted(daemonSet()).spec, {
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    revisionHistoryLimit: 10,
  });
  t.same((defaulted(daemonSet({ updateStrategy: { type: 'OnDelete' } })).spec as { updateStrategy: unknown }).updateStrategy, { type: 'OnDelete' });
});

t.test('validation', async (t) => {
  t.same(messagesFor(daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } })), [
    'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
  ]);
  t.same(messagesFor(daemonSet({ updateStrategy: { type: 'Whenever' } })), ['spec.updateStrategy.type: Unsupported value: "Whenever": supported values: "OnDelete", "RollingUpdate"']);
  t.same(messagesFor(daemonSet({ selector: {} })), ['spec.selector: Invalid value: {}: empty selector is invalid for daemonset']);
});
