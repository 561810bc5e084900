import t from 'tap';
import { resolveResource, qualifiedName, RESOURCES } from '../../src/api/resources.js';

t.test('resolves short names, singulars, plurals and kinds', async (t) => {
  t.equal(resolveResource('po')?.resource, 'pods');
  t.equal(resolveResource('deploy')?.kind, 'Deployment');
  t.equal(resolveResource('Deployment')?.group, 'apps');
  t.equal(resolveResource('deployments.apps')?.resource, 'deployments');
  t.equal(resolveResource('ingresses')?.kind, 'Ingress');
  t.equal(resolveResource('ep')?.resource, 'endpoints');
  t.equal(resolveResource('lease')?.group, 'coordination.k8s.io');
  t.equal(resolveResource('widgets'), undefined);
});

t.test('plurals and qualified names match Kubernetes', async (t) => {
  const plurals = Object.fromEntries(RESOURCES.map((r) => [r.kind, qualifiedName(r)]));
  t.same(plurals, {
    Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', Service: 'services', Endpoints: 'endpoints',
    ConfigMap: 'configmaps', Secret: 'secrets', Event: 'events', PersistentVolumeClaim: 'persistentvolumeclaims',
    Deployment: 'deployments.apps', ReplicaSet: 'replicasets.apps', StatefulSet: 'statefulsets.apps',
    DaemonSet: 'daemonsets.apps', Ingress: 'ingresses.networking.k8s.io', Lease: 'leases.coordination.k8s.io',
  });
});
