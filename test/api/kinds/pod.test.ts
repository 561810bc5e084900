import t from 'tap';
import type { Pod } from '../../../src/api/kinds/pod.js';
import { resourceForKind } from '../../../src/api/resources.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../src/api/validation.js';

const infoFor = (apiVersion: string, kind: string): ResourceInfo => resourceForKind(apiVersion, kind)!;
const object = (apiVersion: string, kind: string, body: Record<string, unknown>): KubeObject => ({ apiVersion, kind, metadata: { name: 'test', namespace: 'default' }, ...body });
const messagesFor = (value: KubeObject, old?: KubeObject): string[] =>
  validateObject(infoFor(value.apiVersion, value.kind), value, old).map((error) => error.message);

const pod = (spec: Record<string, unknown>): Pod => object('v1', 'Pod', { spec }) as Pod;
const container = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'main', command: ['sleep', '1'], ...fields });

t.test('pod defaults match SetDefaults_Pod / PodSpec / Container', async (t) => {
  const value = pod({
    containers: [container({
      image: 'app:1.2',
      ports: [{ containerPort: 8080 }],
      resources: { limits: { cpu: '1', memory: '128Mi' } },
      readinessProbe: { httpGet: { port: 8080 } },
      env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    }), container({ name: 'side', image: 'tool' })],
    volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }],
  });
  applyDefaults(infoFor('v1', 'Pod'), value);
  const spec = value.spec;
  t.match(spec, {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    securityContext: {},
    volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }],
  });
  const [main, side] = spec.containers;
  t.match(main, {
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    resources: { requests: { cpu: '1', memory: '128Mi' } },
    readinessProbe: { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: '/', scheme: 'HTTP' } },
    env: [{ valueFrom: { fieldRef: { apiVersion: 'v1' } } }],
  });
  t.equal(side?.imagePullPolicy, 'Always', 'no tag means latest');
  t.same(messagesFor(value), []);
});

t.test('no image, no pull policy; explicit values are kept', async (t) => {
  const value = pod({ containers: [container()], restartPolicy: 'Never', terminationGracePeriodSeconds: 5 });
  applyDefaults(infoFor('v1', 'Pod'), value);
  t.equal(value.spec.containers[0]?.imagePullPolicy, undefined);
  t.equal(value.spec.restartPolicy, 'Never');
  t.equal(value.spec.terminationGracePeriodSeconds, 5);
});

t.test('hostNetwork makes hostPort follow containerPort', async (t) => {
  const value = pod({ hostNetwork: true, containers: [container({ ports: [{ containerPort: 9000 }] })] });
  applyDefaults(infoFor('v1', 'Pod'), value);
  t.equal(value.spec.containers[0]?.ports?.[0]?.hostPort, 9000);
});

t.test('container and spec rules', async (t) => {
  t.same(messagesFor(pod({ containers: [] })), ['spec.containers: Required value']);
  t.same(messagesFor(object('v1', 'Pod', {})), ['spec: Required value']);
  t.same(messagesFor(pod({ containers: [container(), container()] })), ['spec.containers[1].name: Duplicate value: "main"']);
  t.same(messagesFor(pod({ initContainers: [container()], containers: [container()] })), ['spec.containers[0].name: Duplicate value: "main"']);
  t.same(messagesFor(pod({ containers: [{ command: ['x'] }] })), ['spec.containers[0].name: Required value']);
  t.same(messagesFor(pod({ containers: [container({ env: [{ name: '1BAD' }, { name: 'my.env-name' }] })] })), [
    "spec.containers[0].env[0].name: Invalid value: \"1BAD\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
  ]);
  t.same(messagesFor(pod({ containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] })), [
    'spec.containers[0].volumeMounts[0].name: Not found: "data"',
  ]);
  t.same(messagesFor(pod({ containers: [container({ livenessProbe: { periodSeconds: 5 } })] })), [
    'spec.containers[0].livenessProbe: Required value: must specify a handler type',
  ]);
  t.same(messagesFor(pod({ containers: [container({ resources: { limits: { gpu: '1' } } })] })), [
    'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
  ]);
  t.same(messagesFor(pod({ containers: [container({ ports: [{ containerPort: 80, protocol: 'ICMP' }] })] })), [
    'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  t.same(messagesFor(pod({ restartPolicy: 'Sometimes', containers: [container()] })), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  t.same(messagesFor(pod({ containers: [container()], volumes: [{ name: 'v', nfs: { server: 'x' } }] })), [
    'spec.volumes[0].nfs: Forbidden: volume type not supported by pm8s; supported: emptyDir, hostPath, configMap, secret, persistentVolumeClaim',
  ]);
  t.same(messagesFor(pod({ containers: [container()], volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] })), [
    'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
  ]);
});

t.test('pod updates may only change images, deadlines and add tolerations', async (t) => {
  const old = pod({ containers: [container({ image: 'a:1' })], tolerations: [{ key: 'k', operator: 'Exists' }] });
  const newImage = structuredClone(old);
  newImage.spec.containers[0]!.image = 'a:2';
  newImage.spec.tolerations!.push({ operator: 'Exists' });
  newImage.spec.nodeName = 'node-a';
  t.same(messagesFor(newImage, old), [], 'image, added toleration and first binding are fine');
  const newCommand = structuredClone(old);
  newCommand.spec.containers[0]!.command = ['other'];
  t.match(messagesFor(newCommand, old), [/^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/]);
  const removed = structuredClone(old);
  removed.spec.tolerations = [];
  t.same(messagesFor(removed, old), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
  const bound = structuredClone(old);
  bound.spec.nodeName = 'node-a';
  const moved = structuredClone(bound);
  moved.spec.nodeName = 'node-b';
  t.match(messagesFor(moved, bound), [/^spec: Forbidden: pod updates/]);
});

t.test('liveness and startup probes need successThreshold 1', async (t) => {
  const probe = { exec: { command: ['true'] }, successThreshold: 2 };
  t.same(messagesFor(pod({ containers: [container({ livenessProbe: probe, startupProbe: probe, readinessProbe: probe })] })), [
    'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
    'spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1',
  ]);
});
