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
const deployment = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', command: ['node'] }] } },
    ...spec,
  },
});

t.test('defaults: replicas 1, RollingUpdate 25%/25%, history 10, deadline 600, pod defaults in the template', async (t) => {
  t.match(defaulted(deployment()).spec, {
    replicas: 1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template: { spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst' } },
  });
  const recreate = defaulted(deployment({ strategy: { type: 'Recreate' } }));
  t.same((recreate.spec as { strategy: unknown }).strategy, { type: 'Recreate' }, 'Recreate gets no rollingUpdate');
  t.notOk((defaulted(deployment()).spec as { template: { spec: Record<string, unknown> } }).template.spec.enableServiceLinks, 'templates do not get pod-only defaults');
});

t.test('selector rules', async (t) => {
  t.same(messagesFor(deployment({ selector: undefined })), ['spec.selector: Required value']);
  t.same(messagesFor(deployment({ selector: {} })), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']);
  t.same(messagesFor(deployment({ selector: { matchLabels: { app: 'api' } } })), ['spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`']);
  t.same(messagesFor(deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'Near' }] } })), ['spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator']);
  t.same(messagesFor(deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } })), []);
});

t.test('strategy rules', async (t) => {
  t.same(messagesFor(deployment({ strategy: { type: 'Sideways' } })), ['spec.strategy.type: Unsupported value: "Sideways": supported values: "Recreate", "RollingUpdate"']);
  t.same(messagesFor(deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } })), ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0']);
  t.same(messagesFor(deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '150%', maxUnavailable: -1 } } })), [
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0',
    'spec.strategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%',
  ]);
  t.same(messagesFor(deployment({ strategy: { type: 'Recreate', rollingUpdate: {} } })), ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]);
  t.same(messagesFor(deployment({ progressDeadlineSeconds: 10, minReadySeconds: 10 })), ['spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds']);
});

t.test('the selector is immutable', async (t) => {
  const old = defaulted(deployment());
  const changed = defaulted(deployment({
    selector: { matchLabels: { app: 'web', tier: 'x' } },
    template: { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'main' }] } },
  }));
  t.same(messagesFor(changed, old), ['spec.selector: Invalid value: {}: field is immutable']);
  t.same(messagesFor(defaulted(deployment({ replicas: 5 })), old), []);
});
