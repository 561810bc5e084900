import t from 'tap';
import type { Node } from '../../../../src/api/kinds/node.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import { ClusterView, holdsResources, podRequestOf, portsConflict } from '../../../../src/daemon/server/scheduler/node-info.js';

const nodeObject = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } });

function podObject(name: string, nodeName?: string, options: { cpu?: string; phase?: string; uid?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: options.uid ?? `uid-${name}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }] },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu: options.cpu ?? '500m', memory: '1Gi' } } }], ...(nodeName ? { nodeName } : {}) },
    ...(options.phase ? { status: { phase: options.phase as 'Running' } } : {}),
  };
}

t.test('requests: the sum of containers, or the largest init container if larger', async (t) => {
  const pod = (initCpu: string): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', uid: 'u' },
    spec: {
      initContainers: [{ name: 'init', resources: { requests: { cpu: initCpu, memory: '3Gi' } } }],
      containers: [
        { name: 'a', resources: { requests: { cpu: '250m', memory: '1Gi' } } },
        { name: 'b', resources: { requests: { cpu: '0.5', memory: '512Mi' } } },
        { name: 'c' },
      ],
    },
  });
  t.match(podRequestOf(pod('100m')), { milliCpu: 750, memory: 3 * 2 ** 30 });
  t.match(podRequestOf(pod('2')), { milliCpu: 2000 });
  t.match(podRequestOf(pod('100m')), { nonZeroMilliCpu: 850, ownerUid: undefined }, 'a container without requests counts 100m for scoring');
});

t.test('host ports: same protocol and port on overlapping addresses', async (t) => {
  t.ok(portsConflict({ protocol: 'TCP', port: 80, hostIP: '0.0.0.0' }, { protocol: 'TCP', port: 80, hostIP: '10.0.0.1' }));
  t.notOk(portsConflict({ protocol: 'TCP', port: 80, hostIP: '10.0.0.2' }, { protocol: 'TCP', port: 80, hostIP: '10.0.0.1' }));
  t.notOk(portsConflict({ protocol: 'UDP', port: 80, hostIP: '0.0.0.0' }, { protocol: 'TCP', port: 80, hostIP: '0.0.0.0' }));
});

t.test('finished and unbound pods hold nothing', async (t) => {
  t.ok(holdsResources(podObject('p', 'n')));
  t.notOk(holdsResources(podObject('p')));
  t.notOk(holdsResources(podObject('p', 'n', { phase: 'Succeeded' })));
  t.notOk(holdsResources(podObject('p', 'n', { phase: 'Failed' })));
});

t.test('the view follows pods: bound, moved, finished, deleted; pods seen before their node count', async (t) => {
  const view = new ClusterView();
  t.notOk(view.observePod(podObject('early', 'b')), 'a pod on a node not yet seen');
  view.setNode(nodeObject('a'));
  view.setNode(nodeObject('b'));
  t.equal(view.nodes.get('b')!.requested.milliCpu, 500, 'counted once its node appears');
  view.observePod(podObject('p', 'a'));
  view.observePod(podObject('p', 'a'));
  t.same(view.nodes.get('a')!.requested, { milliCpu: 500, memory: 2 ** 30, pods: 1 }, 'the same pod twice counts once');
  t.equal(view.nodes.get('a')!.owners.get('rs-uid'), 1);
  t.ok(view.observePod(podObject('p', 'a', { phase: 'Succeeded' })), 'finishing frees resources');
  t.same(view.nodes.get('a')!.requested, { milliCpu: 0, memory: 0, pods: 0 });
  t.equal(view.nodes.get('a')!.owners.size, 0);
  t.ok(view.forgetPod('default/early'));
  t.notOk(view.forgetPod('default/early'));
  t.same(view.nodes.get('b')!.requested.pods, 0);
  // A node updated keeps its pods; its allocatable follows the object.
  view.observePod(podObject('q', 'a'));
  view.setNode({ ...nodeObject('a'), status: { allocatable: { cpu: '8', memory: '8Gi', pods: '110' } } });
  t.match(view.nodes.get('a'), { allocatable: { milliCpu: 8000 }, requested: { pods: 1 } });
});

t.test('assumptions: counted at once, kept until the informer confirms, undone on a failed bind', async (t) => {
  const view = new ClusterView();
  view.setNode(nodeObject('a'));
  const pending = podObject('p');
  view.assume('default/p', podRequestOf(pending), 'a');
  t.equal(view.nodes.get('a')!.requested.pods, 1);
  t.ok(view.isAccounted('default/p'));
  t.notOk(view.observePod(pending), 'a stale unbound copy does not undo the assumption');
  t.equal(view.nodes.get('a')!.requested.pods, 1);
  t.ok(view.unassume('default/p', 'a'), 'a failed bind undoes it');
  t.equal(view.nodes.get('a')!.requested.pods, 0);
  t.notOk(view.isAccounted('default/p'));

  view.assume('default/p', podRequestOf(pending), 'a');
  view.observePod(podObject('p', 'a'));
  t.notOk(view.unassume('default/p', 'a'), 'once confirmed, a late bind error changes nothing');
  t.equal(view.nodes.get('a')!.requested.pods, 1);

  view.assume('default/r', podRequestOf(podObject('r')), 'a');
  t.ok(view.observePod(podObject('r', undefined, { uid: 'another-uid' })), 'its resources are freed');
  t.notOk(view.isAccounted('default/r'), 'a different pod of the same name drops the assumption');
});
