import t from 'tap';
import { expandCommand, expandVars } from '../../../src/runtime/process/expand-command.js';
import { EnvError, resolveEnv } from '../../../src/runtime/process/resolve-env.js';

t.test('$(VAR) expansion as Kubernetes does it', async (t) => {
  const env = { A: 'a', B: 'b $(A)', EMPTY: '' };
  t.same(expandCommand(['echo', '$(A)'], ['x$(B)y', '$(MISSING)', '$$(A)', '$$$(A)', '$(EMPTY)', '$(A', '$x', '$', 'a$$b'], env), [
    'echo', 'a', 'xb $(A)y', '$(MISSING)', '$(A)', '$a', '', '$(A', '$x', '$', 'a$b',
  ]);
  t.equal(expandVars('$(A)$(A)', (name) => (name === 'A' ? '1' : undefined)), '11');
  t.same(expandCommand(undefined, ['x'], {}), ['x']);
});

t.test('env: values, references to earlier entries, downward API', async (t) => {
  const pod = {
    metadata: { name: 'web-1', namespace: 'prod', uid: 'u-1', labels: { app: 'web' }, annotations: { 'a.b/c': 'd' } },
    spec: { nodeName: 'n1', serviceAccountName: 'sa', containers: [{ name: 'side', resources: { limits: { memory: '64Mi' } } }] },
    status: { podIP: '10.0.0.5' },
  };
  const container = {
    name: 'web',
    resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '250m' } },
    env: [
      { name: 'LATER_REF', value: '$(FIRST)' },
      { name: 'FIRST', value: 'one' },
      { name: 'SECOND', value: '$(FIRST)-two $$(FIRST) $(NOPE)' },
      ...[
        'metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['a.b/c']", "metadata.labels['none']",
        'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIP',
      ].map((fieldPath, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath } } })),
      { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      { name: 'REQ_CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'REQ_MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
      { name: 'SIDE_MEM', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'SIDE_CPU', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.cpu' } } },
      { name: 'REF_FIELD', value: '$(F0).$(F1)' },
    ],
  };
  const env = await resolveEnv(container, pod, { hostIP: '192.168.1.2', allocatable: { cpu: '4', memory: '8Gi' } });
  t.same(env, {
    LATER_REF: '$(FIRST)', FIRST: 'one', SECOND: 'one-two $(FIRST) $(NOPE)',
    F0: 'web-1', F1: 'prod', F2: 'u-1', F3: 'web', F4: 'd', F5: '', F6: 'n1', F7: 'sa', F8: '10.0.0.5', F9: '192.168.1.2',
    CPU: '2', CPU_M: '1500', REQ_CPU_M: '250', MEM_MI: '128', REQ_MEM: String(128 * 1024 * 1024), SIDE_MEM: '64', SIDE_CPU: '4',
    REF_FIELD: 'web-1.prod',
  });
  await t.rejects(resolveEnv({ name: 'x', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, pod), { code: 'EnvUnsupportedField', name: EnvError.name });
  await t.rejects(resolveEnv({ name: 'x', env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] }, pod), { code: 'EnvInvalidResource' });
});

t.test('configMap and secret references go through the lookup', async (t) => {
  const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: {} };
  const data: Record<string, Record<string, string>> = { 'ConfigMap/ns/cfg': { MODE: 'fast', 'bad name': 'x' }, 'Secret/ns/creds': { password: 's3cret' } };
  const lookup = async (kind: 'ConfigMap' | 'Secret', namespace: string, name: string) => data[`${kind}/${namespace}/${name}`];
  const env = await resolveEnv(
    {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'creds' } }, { configMapRef: { name: 'gone', optional: true } }],
      env: [
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'MODE', value: 'slow-$(MODE)' },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
      ],
    },
    pod,
    {},
    lookup,
  );
  t.same(env, { MODE: 'slow-fast', S_password: 's3cret', PW: 's3cret' }, 'envFrom first, invalid names skipped, env overrides');
  await t.rejects(resolveEnv({ name: 'c', envFrom: [{ configMapRef: { name: 'gone' } }] }, pod, {}, lookup), { code: 'EnvNotFound', message: 'configmap "gone" not found' });
  await t.rejects(resolveEnv({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }] }, pod, {}, lookup), {
    code: 'EnvNotFound',
    message: "couldn't find key nope in ConfigMap ns/cfg",
  });
});
