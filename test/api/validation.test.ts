import t from 'tap';
import { invalid } from '../../src/api/errors.js';
import { resourceForKind } from '../../src/api/resources.js';
import type { ResourceInfo } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { applyDefaults, validateObject, validateStatus } from '../../src/api/validation.js';

const info = (apiVersion: string, kind: string): ResourceInfo => {
  const found = resourceForKind(apiVersion, kind);
  if (!found) throw new Error(`no resource ${kind}`);
  return found;
};
const deployments = info('apps/v1', 'Deployment');
const configMaps = info('v1', 'ConfigMap');
const namespaces = info('v1', 'Namespace');
const nodes = info('v1', 'Node');
const pods = info('v1', 'Pod');

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const deployment = (spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', ...metadata },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', command: ['node', 'server.js'], ...container }] } },
    ...spec,
  },
});

const messages = (resource: ResourceInfo, object: KubeObject, old?: KubeObject): string[] =>
  validateObject(resource, object, old).map((error) => error.message);

t.test('a good deployment passes before and after defaults', async (t) => {
  const object = deployment();
  t.same(messages(deployments, object), []);
  applyDefaults(deployments, object);
  t.same(messages(deployments, object), []);
});

t.test('names', async (t) => {
  const cases: [string, string[]][] = [
    ['../../etc', [SUBDOMAIN, "may not contain '/'"]],
    ['a'.repeat(254), ['must be no more than 253 characters']],
    ['Bad_Name', [SUBDOMAIN]],
    ['UPPER', [SUBDOMAIN]],
    ['a\u0000b', [SUBDOMAIN]],
    ['%2e%2e%2f', [SUBDOMAIN, "may not contain '%'"]],
    ['\u0430pp', [SUBDOMAIN]],
    ['..', [SUBDOMAIN, "may not be '..'"]],
  ];
  for (const [name, details] of cases) {
    const errors = validateObject(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });
    t.same(errors.map((error) => error.field), details.map(() => 'metadata.name'), JSON.stringify(name.slice(0, 20)));
    t.same(errors.map((error) => error.message), details.map((detail) => `metadata.name: Invalid value: ${JSON.stringify(name)}: ${detail}`));
  }
  t.same(messages(deployments, deployment({}, {}, { name: 'Bad_Name' })), [`metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN}`]);
  t.same(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default' } }), ['metadata.name: Required value: name or generateName is required']);
  t.same(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'cfg-', namespace: 'default' } }), []);
  t.match(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'Cfg-', namespace: 'default' } }), [/^metadata.generateName: Invalid value: "Cfg-": a lowercase RFC 1123 subdomain/]);
  t.match(messages(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }), [/^metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label/]);
  t.match(messages(info('v1', 'Service'), { apiVersion: 'v1', kind: 'Service', metadata: { name: '1web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } }), [/^metadata.name: Invalid value: "1web": a DNS-1035 label/]);
});

t.test('namespace rules', async (t) => {
  t.same(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }), ['metadata.namespace: Required value']);
  t.same(messages(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', namespace: 'x' } }), ['metadata.namespace: Forbidden: not allowed on this type']);
  t.match(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'Bad' } }), [/^metadata.namespace: Invalid value: "Bad": a lowercase RFC 1123 label/]);
});

t.test('labels, annotations, owners, finalizers', async (t) => {
  const long = 'v'.repeat(64);
  const errors = messages(configMaps, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'a',
      namespace: 'default',
      labels: { good: 'ok', bad: long, 'bad key': 'x' },
      annotations: { big: 'x'.repeat(262144) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: '', uid: '' }],
      finalizers: ['example.com/ok', 'plain', 'kubernetes'],
    },
  });
  t.same(errors, [
    `metadata.labels: Invalid value: "${long}": must be no more than 63 characters`,
    "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    'metadata.annotations: Too long: must have at most 262144 bytes',
    'metadata.ownerReferences.name: Invalid value: "": must not be empty',
    'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    'metadata.finalizers: Invalid value: "plain": name is neither a standard finalizer name nor is it fully qualified',
  ]);
  t.same(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default', labels: 'x' as unknown as Record<string, string> } }), [
    'metadata.labels: Invalid value: "x": must be of type object',
  ]);
  t.same(messages(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: 'x' } as unknown as KubeObject), ['metadata: Invalid value: "x": must be of type object']);
});

t.test('the bad-input list, each with its exact path and message', async (t) => {
  const container = 'spec.template.spec.containers[0]';
  const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
    [{ replicas: -1 }, {}, 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    [{ replicas: 1e10 }, {}, 'spec.replicas: Invalid value: 10000000000: must be less than or equal to 2147483647'],
    [{ replicas: 1.5 }, {}, 'spec.replicas: Invalid value: 1.5: must be of type integer'],
    [{ replicas: '1e9' }, {}, 'spec.replicas: Invalid value: "1e9": must be of type integer'],
    [{}, { resources: { requests: { cpu: 'abc' } } }, `${container}.resources.requests[cpu]: Invalid value: "abc": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`],
    [{}, { resources: { limits: { memory: '-5Mi' } } }, `${container}.resources.limits[memory]: Invalid value: "-5Mi": must be greater than or equal to 0`],
    [{}, { ports: [{ containerPort: 0 }] }, `${container}.ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive`],
    [{}, { ports: [{ containerPort: 80 }, { containerPort: 65536 }] }, `${container}.ports[1].containerPort: Invalid value: 65536: must be between 1 and 65535, inclusive`],
    [{}, { resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }, `${container}.resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1`],
  ];
  for (const [spec, containerFields, expected] of cases) t.same(messages(deployments, deployment(spec, containerFields)), [expected], expected.slice(0, 60));
  // 1e9 written as a JSON number is 1000000000: a valid int32, so Kubernetes accepts it too.
  t.same(messages(deployments, deployment({ replicas: JSON.parse('1e9') as number })), []);

  const sometimes = deployment();
  (sometimes.spec as { template: { spec: Record<string, unknown> } }).template.spec.restartPolicy = 'Sometimes';
  t.same(messages(deployments, sometimes), ['spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);
  const never = deployment();
  (never.spec as { template: { spec: Record<string, unknown> } }).template.spec.restartPolicy = 'Never';
  t.same(messages(deployments, never), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
});

t.test('a multi-error object lists every bad field', async (t) => {
  const object = deployment(
    { replicas: -1, strategy: { type: 'Sideways' } },
    { name: 'Main', ports: [{ containerPort: 0, protocol: 'ICMP' }], resources: { limits: { memory: '-5Mi' }, requests: { cpu: 'abc' } } },
    { name: 'Bad_Name', labels: { tier: 'v'.repeat(64) } },
  );
  (object.spec as { template: { spec: Record<string, unknown> } }).template.spec.restartPolicy = 'Sometimes';
  const errors = validateObject(deployments, object);
  t.same(errors.map((error) => error.field).sort(), [
    'metadata.labels',
    'metadata.name',
    'spec.replicas',
    'spec.strategy.type',
    'spec.template.spec.containers[0].name',
    'spec.template.spec.containers[0].ports[0].containerPort',
    'spec.template.spec.containers[0].ports[0].protocol',
    'spec.template.spec.containers[0].resources.limits[memory]',
    'spec.template.spec.containers[0].resources.requests[cpu]',
    'spec.template.spec.restartPolicy',
  ]);
  const status = invalid('Deployment', 'Bad_Name', errors, 'apps').toStatus();
  t.equal(status.code, 422);
  t.equal(status.details?.causes?.length, 10);
});

t.test('unknown fields survive validation and defaulting byte for byte', async (t) => {
  const object = deployment({ futureField: { nested: [1, 'two', { three: null }] } }, { xUnknown: { a: 1 } }, { xMeta: true });
  object.extraTopLevel = 'kept';
  (object.spec as { template: Record<string, unknown> }).template.somethingNew = [{ z: 1 }];
  const pick = (value: KubeObject): string =>
    JSON.stringify([
      value.extraTopLevel,
      value.metadata.xMeta,
      (value.spec as Record<string, unknown>).futureField,
      (value.spec as { template: Record<string, unknown> }).template.somethingNew,
      (value.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]?.xUnknown,
    ]);
  const before = pick(object);
  const copy = structuredClone(object);
  t.same(messages(deployments, object), []);
  t.same(object, copy, 'validation changes nothing');
  applyDefaults(deployments, object);
  t.equal(pick(object), before);
});

t.test('defaults are skipped for malformed objects, which validation rejects', async (t) => {
  const object = deployment({ template: 'nonsense' });
  const copy = structuredClone(object);
  applyDefaults(deployments, object);
  t.same(object, copy);
  t.same(messages(deployments, object), ['spec.template: Invalid value: "nonsense": must be of type object']);
});

t.test('metadata is immutable where Kubernetes says so', async (t) => {
  const old = deployment({}, {}, { uid: 'u1' });
  t.same(messages(deployments, deployment({}, {}, { name: 'other', uid: 'u1' }), old), ['metadata.name: Invalid value: "other": field is immutable']);
  t.same(messages(deployments, deployment({}, {}, { uid: 'u2' }), old), ['metadata.uid: Invalid value: "u2": field is immutable']);
  const deleting = deployment({}, {}, { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['example.com/a'] });
  t.match(messages(deployments, deployment({}, {}, { finalizers: ['example.com/a', 'example.com/b'] }), deleting), [/^metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted/]);
});

t.test('status validation looks at status only', async (t) => {
  const object = deployment({ replicas: -1 });
  object.status = { replicas: -2, conditions: [{ type: 'Available' }] };
  t.same(validateStatus(deployments, object).map((error) => error.message), [
    'status.replicas: Invalid value: -2: must be greater than or equal to 0',
    'status.conditions[0].status: Required value',
  ]);
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, status: { phase: 'Dancing' } };
  t.same(validateStatus(pods, pod).map((error) => error.message), [
    'status.phase: Unsupported value: "Dancing": supported values: "Pending", "Running", "Succeeded", "Failed", "Unknown"',
  ]);
});
