import t from 'tap';
import type { DaemonSet } from '../../../../src/api/kinds/daemonset.js';
import type { Node } from '../../../../src/api/kinds/node.js';
import type { Pod, PodSpec } from '../../../../src/api/kinds/pod.js';
import {
  newDaemonPod, nodeShouldRunDaemonPod, podAvailability, scaledValue, setNodeNameAffinity, targetNodeName, templateHash,
} from '../../../../src/daemon/server/controllers/daemonset-placement.js';

const node = (name: string, spec: Node['spec'] = {}, labels: Record<string, string> = {}): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec });

const daemonSet = (podSpec: Partial<PodSpec> = {}): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 3 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'main', command: ['sleep'] }], ...podSpec } },
  },
});

t.test('eligibility follows nodeSelector, affinity, nodeName and NoSchedule/NoExecute taints', async (t) => {
  const run = { shouldRun: true, shouldContinueRunning: true };
  t.same(nodeShouldRunDaemonPod(node('a'), daemonSet()), run);
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'k', effect: 'NoSchedule' }] }), daemonSet()), { shouldRun: false, shouldContinueRunning: true }, 'NoSchedule: no new pod, the running one stays');
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'k', effect: 'NoExecute' }] }), daemonSet()), { shouldRun: false, shouldContinueRunning: false });
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }), daemonSet()), run, 'PreferNoSchedule does not count');
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }] }), daemonSet({ tolerations: [{ operator: 'Exists' }] })), run, 'an empty-key Exists toleration tolerates everything');
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }), daemonSet({ tolerations: [{ key: 'k', value: 'w', effect: 'NoSchedule' }] })).shouldRun, false, 'Equal needs the same value');
  t.same(nodeShouldRunDaemonPod(node('a', { unschedulable: true }), daemonSet()), run, 'cordoned nodes run daemon pods');
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }] }), daemonSet()), run, 'automatic tolerations');
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), daemonSet()).shouldRun, false);
  t.same(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), daemonSet({ hostNetwork: true })), run, 'hostNetwork pods tolerate network-unavailable');
  t.same(nodeShouldRunDaemonPod(node('a', {}, { role: 'edge' }), daemonSet({ nodeSelector: { role: 'edge' } })), run);
  t.same(nodeShouldRunDaemonPod(node('a'), daemonSet({ nodeSelector: { role: 'edge' } })), { shouldRun: false, shouldContinueRunning: false });
  const notIn = daemonSet({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['x'] }] }] } } } });
  t.equal(nodeShouldRunDaemonPod(node('a', {}, { zone: 'y' }), notIn).shouldRun, true);
  t.equal(nodeShouldRunDaemonPod(node('a', {}, { zone: 'x' }), notIn).shouldRun, false);
  t.equal(nodeShouldRunDaemonPod(node('a'), daemonSet({ nodeName: 'b' })).shouldRun, false, 'a template nodeName picks one node');
});

t.test('a daemon pod is pinned by metadata.name affinity, labelled, owned and tolerant', async (t) => {
  const withTerms = daemonSet({
    tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['old'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['y'] }] },
    ] } } },
  });
  const pod = newDaemonPod(withTerms, 'node-1', 'hash1');
  t.match(pod.metadata.name, /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.same(pod.metadata.labels, { app: 'agent', 'controller-revision-hash': 'hash1', 'pod-template-generation': '3' });
  t.same(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }]);
  t.same(pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] },
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['y'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] },
  ], 'every term gets the node, other expressions kept');
  const unreachable = pod.spec.tolerations?.filter((toleration) => toleration.key === 'node.kubernetes.io/unreachable');
  t.same(unreachable, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], 'the daemon toleration replaces a bounded one');
  t.equal(pod.spec.tolerations?.length, 6);
  t.equal(targetNodeName(pod), 'node-1');
  t.equal(targetNodeName({ ...pod, spec: { ...pod.spec, nodeName: 'bound' } }), 'bound');
  t.equal(withTerms.spec.template.spec.tolerations?.length, 1, 'the DaemonSet itself is untouched');

  const spec: PodSpec = { containers: [] };
  setNodeNameAffinity(spec, 'n');
  t.same(spec.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }] } } });
});

t.test('the template hash is stable, changes with the template and collisionCount, and is label-safe', async (t) => {
  const a = daemonSet().spec.template;
  const reordered = { spec: a.spec, metadata: { labels: { app: 'agent' } } };
  t.equal(templateHash(a, undefined), templateHash(reordered, undefined), 'key order does not matter');
  t.not(templateHash(a, undefined), templateHash(daemonSet({ hostNetwork: true }).spec.template, undefined));
  t.not(templateHash(a, undefined), templateHash(a, 1));
  t.match(templateHash(a, undefined), /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
});

t.test('availability waits minReadySeconds; percentages scale', async (t) => {
  const readySince = (iso: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] },
    status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso }] },
  });
  const now = Date.parse('2024-01-01T00:00:10Z');
  t.same(podAvailability(readySince('2024-01-01T00:00:05Z'), 0, now), { available: true });
  t.same(podAvailability(readySince('2024-01-01T00:00:05Z'), 10, now), { available: false, waitMs: 5000 });
  t.same(podAvailability(readySince('2024-01-01T00:00:00Z'), 10, now), { available: true });
  t.same(podAvailability({ ...readySince(''), status: {} }, 0, now), { available: false });
  t.equal(scaledValue('25%', 3, true), 1);
  t.equal(scaledValue('50%', 5, true), 3);
  t.equal(scaledValue('50%', 5, false), 2);
  t.equal(scaledValue(2, 5, true), 2);
  t.equal(scaledValue(undefined, 5, true), 0);
});
