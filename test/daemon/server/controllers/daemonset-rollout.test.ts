import t from 'tap';
import type { DaemonSet } from '../../../../src/api/kinds/daemonset.js';
import type { Node } from '../../../../src/api/kinds/node.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import { computeCounts, planManage, planRollingUpdate } from '../../../../src/daemon/server/controllers/daemonset-rollout.js';
import type { FailedPodGate } from '../../../../src/daemon/server/controllers/daemonset-rollout.js';

const NEW = 'new';
const OLD = 'old';
const NOW = Date.parse('2024-01-01T00:01:00Z');

const node = (name: string, spec: Node['spec'] = {}): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec });

const daemonSet = (rollingUpdate: { maxUnavailable?: number | string; maxSurge?: number | string } = {}): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 2 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'main', command: ['sleep'] }] } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0, ...rollingUpdate } },
  },
});

interface PodOptions { hash?: string; ready?: boolean; phase?: string; terminating?: boolean; created?: string }

const pod = (name: string, nodeName: string, { hash = OLD, ready = true, phase = 'Running', terminating = false, created = '2024-01-01T00:00:00Z' }: PodOptions = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name, uid: `${name}-uid`, creationTimestamp: created, labels: { app: 'agent', 'controller-revision-hash': hash },
    ...(terminating ? { deletionTimestamp: '2024-01-01T00:00:30Z' } : {}),
  },
  spec: { nodeName, containers: [] },
  status: { phase: phase as 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: created }] },
});

const byNode = (...pods: Pod[]): Map<string, Pod[]> => {
  const map = new Map<string, Pod[]>();
  for (const item of pods) map.set(item.spec.nodeName!, [...(map.get(item.spec.nodeName!) ?? []), item]);
  return map;
};

const names = (pods: readonly Pod[]): string[] => pods.map((item) => item.metadata.name ?? '').sort();
const allow: FailedPodGate = () => ({ allowed: true });

t.test('manage: a pod where missing, one per node (the oldest), none off eligible or vanished nodes', async (t) => {
  const nodes = [node('a'), node('b'), node('c'), node('d', { taints: [{ key: 'k', effect: 'NoExecute' }] })];
  const plan = planManage(daemonSet(), nodes, byNode(
    pod('a1', 'a', { created: '2024-01-01T00:00:00Z' }), pod('a2', 'a', { created: '2024-01-01T00:00:05Z' }),
    pod('c1', 'c', { terminating: true }),
    pod('d1', 'd'),
    pod('gone1', 'gone'),
  ), NEW, NOW, allow);
  t.same(plan.createOn, ['b'], 'c waits for its terminating pod to go');
  t.same(names(plan.deletePods), ['a2', 'd1', 'gone1']);
});

t.test('manage: failed pods are replaced unless their node is in backoff; succeeded ones at once', async (t) => {
  const nodes = [node('a'), node('b')];
  const pods = byNode(pod('a1', 'a', { phase: 'Failed' }), pod('b1', 'b', { phase: 'Succeeded' }));
  const allowed = planManage(daemonSet(), nodes, pods, NEW, NOW, allow);
  t.same(names(allowed.deletePods), ['a1', 'b1']);
  t.same(allowed.failedPods.map((failed) => failed.nodeName), ['a']);
  const gated = planManage(daemonSet(), nodes, pods, NEW, NOW, () => ({ allowed: false, waitMs: 700 }));
  t.same(names(gated.deletePods), ['b1']);
  t.equal(gated.requeueAfterMs, 700);
});

t.test('rolling update without surge deletes old pods only within maxUnavailable', async (t) => {
  const nodes = [node('a'), node('b'), node('c'), node('d')];
  const allOld = byNode(pod('a1', 'a'), pod('b1', 'b'), pod('c1', 'c'), pod('d1', 'd'));
  t.equal(planRollingUpdate(daemonSet({ maxUnavailable: 2 }), nodes, allOld, NEW, NOW).deletePods.length, 2);
  t.equal(planRollingUpdate(daemonSet({ maxUnavailable: '50%' }), nodes, allOld, NEW, NOW).deletePods.length, 2);
  t.equal(planRollingUpdate(daemonSet({ maxUnavailable: '10%' }), nodes, allOld, NEW, NOW).deletePods.length, 1, 'percentages round up');

  const midway = byNode(pod('a2', 'a', { hash: NEW, ready: false }), pod('b1', 'b'), pod('c1', 'c', { terminating: true }), pod('d1', 'd'));
  t.same(planRollingUpdate(daemonSet({ maxUnavailable: 2 }), nodes, midway, NEW, NOW).deletePods, [], 'two nodes already lack an available pod');
  t.same(names(planRollingUpdate(daemonSet({ maxUnavailable: 3 }), nodes, midway, NEW, NOW).deletePods), ['b1']);

  const missing = byNode(pod('a1', 'a'), pod('b1', 'b'), pod('c1', 'c'));
  t.same(planRollingUpdate(daemonSet(), nodes, missing, NEW, NOW).deletePods, [], 'an eligible node without a pod counts as unavailable');

  const brokenOld = byNode(pod('a1', 'a', { ready: false }), pod('b1', 'b', { ready: false }), pod('c2', 'c', { hash: NEW, ready: false }), pod('d1', 'd'));
  t.same(names(planRollingUpdate(daemonSet(), nodes, brokenOld, NEW, NOW).deletePods), ['a1', 'b1'], 'unavailable old pods are replaced regardless');
});

t.test('rolling update with surge creates beside old pods and removes an old pod once the new one is available', async (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  const surge = daemonSet({ maxSurge: 1, maxUnavailable: 0 });
  const start = planRollingUpdate(surge, nodes, byNode(pod('a1', 'a'), pod('b1', 'b'), pod('c1', 'c')), NEW, NOW);
  t.same(start.createOn, ['a']);
  t.same(start.deletePods, []);
  const waiting = planRollingUpdate(surge, nodes, byNode(pod('a1', 'a'), pod('a2', 'a', { hash: NEW, ready: false }), pod('b1', 'b'), pod('c1', 'c')), NEW, NOW);
  t.same([waiting.createOn, waiting.deletePods], [[], []], 'the surge budget is spent');
  const done = planRollingUpdate(surge, nodes, byNode(pod('a1', 'a'), pod('a2', 'a', { hash: NEW }), pod('b1', 'b'), pod('c1', 'c')), NEW, NOW);
  t.same(names(done.deletePods), ['a1']);
  t.same(done.createOn, ['b']);
});

t.test('status counts judge each eligible node by its oldest pod', async (t) => {
  const nodes = [node('a'), node('b'), node('c'), node('d', { taints: [{ key: 'k', effect: 'NoSchedule' }] }), node('e')];
  const { counts } = computeCounts(daemonSet(), nodes, byNode(
    pod('a1', 'a', { hash: NEW }), pod('b1', 'b', { ready: false }), pod('c1', 'c', { created: '2024-01-01T00:00:00Z' }), pod('c2', 'c', { hash: NEW, created: '2024-01-01T00:00:09Z' }), pod('d1', 'd'),
  ), NEW, NOW);
  t.same(counts, {
    currentNumberScheduled: 3, numberMisscheduled: 1, desiredNumberScheduled: 4, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2, numberUnavailable: 2,
  });
});
