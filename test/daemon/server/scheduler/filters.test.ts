import t from 'tap';
import type { Node } from '../../../../src/api/kinds/node.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import type { SchedulingPod } from '../../../../src/daemon/server/scheduler/filters.js';
import {
  filterNode,
  fitErrorMessage,
  hostPortFilter,
  matchesRequirement,
  nodeAffinityFilter,
  readyFilter,
  REASONS,
  resourcesFilter,
  taintFilter,
  tolerates,
  unschedulableFilter,
  volumeFilter,
} from '../../../../src/daemon/server/scheduler/filters.js';
import { NodeInfo, podRequestOf } from '../../../../src/daemon/server/scheduler/node-info.js';

function node(name: string, options: { labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints']; unschedulable?: boolean; ready?: string; cpu?: string; memory?: string; pods?: string } = {}): NodeInfo {
  return new NodeInfo({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: options.labels ?? {} },
    spec: { ...(options.taints ? { taints: options.taints } : {}), ...(options.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: options.cpu ?? '2', memory: options.memory ?? '4Gi', pods: options.pods ?? '10' },
      conditions: options.ready === 'missing' ? [] : [{ type: 'Ready', status: options.ready ?? 'True' }],
    },
  });
}

function pod(spec: Partial<Pod['spec']> = {}): SchedulingPod {
  const object: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'c' }], ...spec } };
  return { pod: object, request: podRequestOf(object) };
}

const requesting = (cpu: string, memory: string): Partial<Pod['spec']> => ({ containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] });

t.test('readiness: Ready=True only, unless not-ready or unreachable is tolerated', async (t) => {
  t.same(readyFilter(pod(), node('n')), []);
  t.same(readyFilter(pod(), node('n', { ready: 'False' })), [REASONS.notReady]);
  t.same(readyFilter(pod(), node('n', { ready: 'missing' })), [REASONS.notReady]);
  t.same(readyFilter(pod({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] }), node('n', { ready: 'False' })), []);
  t.same(readyFilter(pod({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] }), node('n', { ready: 'Unknown' })), [REASONS.notReady], 'Unknown is unreachable');
  t.same(readyFilter(pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }] }), node('n', { ready: 'Unknown' })), []);
});

t.test('unschedulable nodes, unless the pod tolerates node.kubernetes.io/unschedulable', async (t) => {
  t.same(unschedulableFilter(pod(), node('n', { unschedulable: true })), [REASONS.unschedulable]);
  t.same(unschedulableFilter(pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), node('n', { unschedulable: true })), []);
  t.same(unschedulableFilter(pod(), node('n')), []);
});

t.test('tolerations match as Kubernetes ToleratesTaint', async (t) => {
  const taint = { key: 'gpu', value: 'a100', effect: 'NoSchedule' };
  t.ok(tolerates({ key: 'gpu', operator: 'Equal', value: 'a100', effect: 'NoSchedule' }, taint));
  t.ok(tolerates({ key: 'gpu', value: 'a100' }, taint), 'no operator means Equal; no effect means every effect');
  t.notOk(tolerates({ key: 'gpu', operator: 'Equal', value: 'v100' }, taint));
  t.ok(tolerates({ key: 'gpu', operator: 'Exists' }, taint));
  t.ok(tolerates({ operator: 'Exists' }, taint), 'empty key with Exists tolerates everything');
  t.notOk(tolerates({ key: 'gpu', operator: 'Exists', effect: 'NoExecute' }, taint));
  t.notOk(tolerates({ key: 'other', operator: 'Exists' }, taint));
});

t.test('taints: NoSchedule and NoExecute filter, PreferNoSchedule does not', async (t) => {
  const tainted = node('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }, { key: 'dedicated', value: 'db', effect: 'NoSchedule' }, { key: 'evict', effect: 'NoExecute' }] });
  t.same(taintFilter(pod(), tainted), ['node(s) had untolerated taint {dedicated: db}']);
  t.same(taintFilter(pod({ tolerations: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), tainted), ['node(s) had untolerated taint {evict: }']);
  t.same(
    taintFilter(pod({ tolerations: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }, { key: 'evict', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }), tainted),
    [],
  );
  t.same(taintFilter(pod(), node('soft', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })), []);
});

t.test('node selector requirements', async (t) => {
  const requirement = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt', values?: string[]) => ({ key: 'k', operator, ...(values ? { values } : {}) });
  t.ok(matchesRequirement(requirement('In', ['a', 'b']), 'b'));
  t.notOk(matchesRequirement(requirement('In', ['a']), undefined));
  t.ok(matchesRequirement(requirement('NotIn', ['a']), undefined), 'NotIn matches a missing label');
  t.notOk(matchesRequirement(requirement('NotIn', ['a']), 'a'));
  t.ok(matchesRequirement(requirement('Exists'), ''));
  t.notOk(matchesRequirement(requirement('Exists'), undefined));
  t.ok(matchesRequirement(requirement('DoesNotExist'), undefined));
  t.notOk(matchesRequirement(requirement('DoesNotExist'), 'x'));
  t.ok(matchesRequirement(requirement('Gt', ['4']), '8'));
  t.notOk(matchesRequirement(requirement('Gt', ['8']), '8'));
  t.ok(matchesRequirement(requirement('Lt', ['10']), '9'));
  t.notOk(matchesRequirement(requirement('Lt', ['10']), 'nine'), 'non-integers never match Gt/Lt');
});

t.test('nodeSelector and required affinity: expressions ANDed, terms ORed, an empty term matches nothing', async (t) => {
  const ssd = node('ssd-node', { labels: { disk: 'ssd', cores: '16' } });
  const hdd = node('hdd-node', { labels: { disk: 'hdd', cores: '4' } });
  const affinity = (nodeSelectorTerms: NonNullable<NonNullable<NonNullable<Pod['spec']['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms']) =>
    pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } });
  t.same(nodeAffinityFilter(pod({ nodeSelector: { disk: 'ssd' } }), ssd), []);
  t.same(nodeAffinityFilter(pod({ nodeSelector: { disk: 'ssd' } }), hdd), [REASONS.affinity]);
  const both = affinity([{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }, { key: 'cores', operator: 'Gt', values: ['8'] }] }]);
  t.same(nodeAffinityFilter(both, ssd), []);
  t.same(nodeAffinityFilter(both, hdd), [REASONS.affinity]);
  const either = affinity([{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['nvme'] }] }, { matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['8'] }] }]);
  t.same(nodeAffinityFilter(either, hdd), []);
  t.same(nodeAffinityFilter(either, ssd), [REASONS.affinity]);
  t.same(nodeAffinityFilter(affinity([{}]), ssd), [REASONS.affinity]);
  const byName = affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['hdd-node'] }] }]);
  t.same(nodeAffinityFilter(byName, hdd), []);
  t.same(nodeAffinityFilter(byName, ssd), [REASONS.affinity]);
});

t.test('host ports conflict per protocol and address', async (t) => {
  const used = node('n');
  used.account(podRequestOf({ metadata: { uid: 'x' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }, { containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] }] } } as Pod), 1);
  const wanting = (port: number, protocol: 'TCP' | 'UDP', hostIP?: string) => pod({ containers: [{ name: 'c', ports: [{ containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) }] }] });
  t.same(hostPortFilter(wanting(80, 'TCP'), used), [REASONS.ports]);
  t.same(hostPortFilter(wanting(80, 'UDP'), used), []);
  t.same(hostPortFilter(wanting(53, 'UDP', '10.0.0.2'), used), [], 'another address is free');
  t.same(hostPortFilter(wanting(53, 'UDP'), used), [REASONS.ports], 'all addresses include the used one');
  t.same(hostPortFilter(pod(), used), []);
});

t.test('resources: every shortfall is a reason, counting what is already requested', async (t) => {
  const small = node('n', { cpu: '1', memory: '1Gi', pods: '2' });
  t.same(resourcesFilter(pod(requesting('1', '1Gi')), small), []);
  t.same(resourcesFilter(pod(requesting('1100m', '2Gi')), small), [REASONS.insufficientCpu, REASONS.insufficientMemory]);
  small.account(podRequestOf(pod(requesting('500m', '512Mi')).pod), 1);
  t.same(resourcesFilter(pod(requesting('600m', '100Mi')), small), [REASONS.insufficientCpu]);
  t.same(resourcesFilter(pod(requesting('500m', '512Mi')), small), []);
  small.account(podRequestOf(pod().pod), 1);
  t.same(resourcesFilter(pod(), small), [REASONS.tooManyPods], 'a pod requesting nothing still needs a pod slot');
});

t.test('volumes: a pinned pod fits only its node', async (t) => {
  t.same(volumeFilter({ ...pod(), pinnedNode: 'a' }, node('a')), []);
  t.same(volumeFilter({ ...pod(), pinnedNode: 'a' }, node('b')), [REASONS.volumeConflict]);
  t.same(volumeFilter({ ...pod(), pinnedNode: null }, node('a')), [REASONS.volumeConflict], 'claims on two nodes fit nowhere');
  t.same(volumeFilter(pod(), node('a')), []);
});

t.test('filterNode reports the first failing filter only, in Kubernetes order', async (t) => {
  const everythingWrong = node('n', { unschedulable: true, taints: [{ key: 'x', effect: 'NoSchedule' }], memory: '1Mi' });
  t.same(filterNode(pod(requesting('1', '1Gi')), everythingWrong), [REASONS.unschedulable]);
  t.same(filterNode(pod(), node('ok')), []);
});

t.test('the FitError message: counts per reason, "count reason" strings sorted', async (t) => {
  t.equal(fitErrorMessage(3, [[REASONS.insufficientMemory], [REASONS.insufficientMemory], [REASONS.insufficientMemory]]), '0/3 nodes are available: 3 Insufficient memory.');
  t.equal(
    fitErrorMessage(3, [[REASONS.insufficientMemory], [REASONS.unschedulable], [REASONS.insufficientMemory]]),
    '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient memory.',
  );
  t.equal(
    fitErrorMessage(2, [[REASONS.insufficientCpu, REASONS.insufficientMemory], [REASONS.insufficientMemory]]),
    '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
    'a node short of two resources counts for both',
  );
  t.equal(fitErrorMessage(0, []), 'no nodes available to schedule pods');
});
