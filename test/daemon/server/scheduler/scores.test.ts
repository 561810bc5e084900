import t from 'tap';
import type { Node } from '../../../../src/api/kinds/node.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import type { SchedulingPod } from '../../../../src/daemon/server/scheduler/filters.js';
import { NodeInfo, podRequestOf } from '../../../../src/daemon/server/scheduler/node-info.js';
import { leastAllocatedScore, MAX_SCORE, selectNode, spreadScores, taintScores } from '../../../../src/daemon/server/scheduler/scores.js';

const node = (name: string, cpu = '4', memory = '8Gi', taints?: NonNullable<Node['spec']>['taints']): NodeInfo =>
  new NodeInfo({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: taints ? { taints } : {}, status: { allocatable: { cpu, memory, pods: '110' } } });

function pod(options: { owner?: string; cpu?: string; memory?: string; tolerations?: Pod['spec']['tolerations'] } = {}): SchedulingPod {
  const object: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', uid: `uid-${Math.random()}`, ...(options.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: options.owner, controller: true }] } : {}) },
    spec: {
      containers: [{ name: 'c', ...(options.cpu ? { resources: { requests: { cpu: options.cpu, memory: options.memory ?? '0' } } } : {}) }],
      ...(options.tolerations ? { tolerations: options.tolerations } : {}),
    },
  };
  return { pod: object, request: podRequestOf(object) };
}

t.test('least-allocated: the free share of cpu and memory after placing the pod', async (t) => {
  const empty = node('empty');
  t.equal(leastAllocatedScore(pod({ cpu: '2', memory: '4Gi' }), empty), 50);
  const busy = node('busy');
  busy.account(pod({ cpu: '3', memory: '6Gi' }).request, 1);
  t.equal(leastAllocatedScore(pod({ cpu: '1', memory: '2Gi' }), busy), 0);
  t.ok(leastAllocatedScore(pod(), empty) < MAX_SCORE, 'a pod requesting nothing counts as 100m and 200Mi, as in Kubernetes');
});

t.test('spread: fewer pods of the same owner scores higher; no owner scores all alike', async (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  nodes[0]!.account(pod({ owner: 'rs-1' }).request, 1);
  nodes[0]!.account(pod({ owner: 'rs-1' }).request, 1);
  nodes[1]!.account(pod({ owner: 'rs-1' }).request, 1);
  nodes[2]!.account(pod({ owner: 'other' }).request, 1);
  t.same(spreadScores(pod({ owner: 'rs-1' }), nodes), [0, 50, 100]);
  t.same(spreadScores(pod(), nodes), [100, 100, 100]);
});

t.test('PreferNoSchedule taints lower a node unless tolerated', async (t) => {
  const nodes = [node('clean'), node('soft', '4', '8Gi', [{ key: 'spare', effect: 'PreferNoSchedule' }]), node('hard', '4', '8Gi', [{ key: 'x', effect: 'NoSchedule' }])];
  t.same(taintScores(pod(), nodes), [100, 0, 100]);
  t.same(taintScores(pod({ tolerations: [{ key: 'spare', operator: 'Exists', effect: 'PreferNoSchedule' }] }), nodes), [100, 100, 100]);
});

t.test('10 replicas placed one after another on 3 equal nodes land 4/3/3', async (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  for (let index = 0; index < 10; index++) {
    const replica = pod({ owner: 'rs-1', cpu: '100m', memory: '64Mi' });
    selectNode(replica, nodes).account(replica.request, 1);
  }
  t.same(nodes.map((info) => info.owners.get('rs-1')).sort(), [3, 3, 4]);
});

t.test('spreading outweighs a little more free room; a much emptier node still wins when owners are equal', async (t) => {
  const big = node('big', '8', '16Gi');
  const small = node('small', '4', '8Gi');
  big.account(pod({ owner: 'rs-1', cpu: '100m', memory: '64Mi' }).request, 1);
  t.equal(selectNode(pod({ owner: 'rs-1', cpu: '100m', memory: '64Mi' }), [big, small]).name, 'small');
  small.account(pod({ cpu: '2', memory: '4Gi' }).request, 1);
  t.equal(selectNode(pod({ cpu: '100m', memory: '64Mi' }), [small, big]).name, 'big');
});

t.test('ties go to fewer pods, then the name', async (t) => {
  t.equal(selectNode(pod(), [node('b'), node('a')]).name, 'a');
});
