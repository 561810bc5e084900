import t from 'tap';
import { listStrategyFor, mergeKeyFor } from '../../../src/api/patch/patch-schema.js';

const template = ['spec', 'template', 'spec'];

t.test('merge keys follow the path from the kind root, as in k8s.io/api struct tags', async (t) => {
  const table: [string, string[], string | undefined][] = [
    ['Deployment', [...template, 'containers'], 'name'],
    ['Deployment', [...template, 'containers', 'ports'], 'containerPort'],
    ['Deployment', [...template, 'containers', 'env'], 'name'],
    ['Deployment', [...template, 'containers', 'volumeMounts'], 'mountPath'],
    ['Deployment', [...template, 'containers', 'volumeDevices'], 'devicePath'],
    ['Deployment', [...template, 'containers', 'envFrom'], undefined],
    ['Deployment', [...template, 'containers', 'command'], undefined],
    ['Deployment', [...template, 'containers', 'args'], undefined],
    ['Deployment', [...template, 'initContainers'], 'name'],
    ['Deployment', [...template, 'initContainers', 'env'], 'name'],
    ['Deployment', [...template, 'initContainers', 'ports'], 'containerPort'],
    ['Deployment', [...template, 'ephemeralContainers'], 'name'],
    ['Deployment', [...template, 'volumes'], 'name'],
    ['Deployment', [...template, 'imagePullSecrets'], 'name'],
    ['Deployment', [...template, 'hostAliases'], 'ip'],
    ['Deployment', [...template, 'tolerations'], undefined],
    ['Deployment', ['spec', 'template', 'metadata', 'ownerReferences'], 'uid'],
    ['Deployment', ['status', 'conditions'], 'type'],
    ['ReplicaSet', [...template, 'containers'], 'name'],
    ['StatefulSet', [...template, 'containers', 'ports'], 'containerPort'],
    ['DaemonSet', [...template, 'volumes'], 'name'],
    ['Job', [...template, 'containers'], 'name'],
    ['CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers'], 'name'],
    ['Pod', ['spec', 'containers'], 'name'],
    ['Pod', ['spec', 'containers', 'ports'], 'containerPort'],
    ['Pod', ['spec', 'initContainers', 'env'], 'name'],
    ['Pod', ['spec', 'template', 'spec', 'containers'], undefined],
    ['Pod', ['status', 'conditions'], 'type'],
    ['Pod', ['status', 'podIPs'], 'ip'],
    ['Pod', ['metadata', 'ownerReferences'], 'uid'],
    ['Service', ['spec', 'ports'], 'port'],
    ['Deployment', ['spec', 'ports'], undefined],
    ['Node', ['spec', 'taints'], 'key'],
    ['Node', ['status', 'addresses'], 'type'],
    ['Node', ['status', 'conditions'], 'type'],
    ['Endpoints', ['subsets'], undefined],
    ['Endpoints', ['metadata', 'ownerReferences'], 'uid'],
    ['Widget', ['spec', 'containers'], undefined],
    ['Widget', ['metadata', 'ownerReferences'], 'uid'],
    ['constructor', ['metadata', 'ownerReferences'], 'uid'],
    ['Pod', ['spec', 'constructor'], undefined],
    ['Pod', ['spec', '__proto__', 'containers'], undefined],
  ];
  for (const [kind, path, key] of table) t.equal(mergeKeyFor(kind, path), key, `${kind} ${path.join('.')}`);
});

t.test('finalizers merge as a set; unknown and atomic lists are replaced', async (t) => {
  t.same(listStrategyFor('Pod', ['metadata', 'finalizers']), { type: 'set' });
  t.same(listStrategyFor('Deployment', ['spec', 'template', 'metadata', 'finalizers']), { type: 'set' });
  t.same(listStrategyFor('Pod', ['spec', 'tolerations']), { type: 'replace' });
  t.same(listStrategyFor('Pod', ['spec']), { type: 'replace' });
  t.same(listStrategyFor('Pod', []), { type: 'replace' });
  t.same(listStrategyFor('Service', ['spec', 'ports']), { type: 'merge', key: 'port' });
});
