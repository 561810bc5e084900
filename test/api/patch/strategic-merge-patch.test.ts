import t from 'tap';
import { applyStrategicMergePatch } from '../../../src/api/patch/strategic-merge-patch.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Applies a patch given as JSON text, with both inputs frozen so any mutation throws. */
const patch = (target: unknown, body: string, kind = 'Deployment'): unknown =>
  applyStrategicMergePatch(deepFreeze(target), deepFreeze(JSON.parse(body)), kind);

const LAST_APPLIED_V1 =
  '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"hello","namespace":"default"},' +
  '"spec":{"replicas":2,"selector":{"matchLabels":{"app":"hello"}},"template":{"metadata":{"labels":{"app":"hello"}},' +
  '"spec":{"containers":[{"command":["sleep","3600"],"image":"busybox:1.36","name":"main","ports":[{"containerPort":8080}]}]}}}}\n';

/** A live Deployment as the server stores it after `kubectl apply` of file v1: defaults, status and all. */
const liveV1 = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'hello',
    namespace: 'default',
    uid: 'b1946ac9',
    resourceVersion: '7',
    generation: 2,
    labels: { app: 'hello' },
    annotations: { 'deployment.kubernetes.io/revision': '1', 'kubectl.kubernetes.io/last-applied-configuration': LAST_APPLIED_V1 },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'hello' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'hello' } },
      spec: {
        restartPolicy: 'Always',
        containers: [
          {
            name: 'main',
            image: 'busybox:1.36',
            command: ['sleep', '3600'],
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            imagePullPolicy: 'IfNotPresent',
            terminationMessagePath: '/dev/termination-log',
          },
        ],
      },
    },
  },
  status: { observedGeneration: 2, replicas: 2 },
});

type Live = ReturnType<typeof liveV1>;
const containersOf = (object: unknown): unknown => (object as Live).spec.template.spec.containers;

t.test('kubectl apply: first PATCH body (annotation, replicas, image with $setElementOrder)', async (t) => {
  const lastApplied = LAST_APPLIED_V1.replace('"replicas":2', '"replicas":3').replace('busybox:1.36', 'busybox:1.37');
  const body =
    `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":${JSON.stringify(lastApplied)}}},\n` +
    ` "spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],\n` +
    `   "containers":[{"image":"busybox:1.37","name":"main"}]}}}}`;
  const live = liveV1();
  const result = patch(live, body) as Live;
  const expected = liveV1();
  expected.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = lastApplied;
  expected.spec.replicas = 3;
  expected.spec.template.spec.containers[0]!.image = 'busybox:1.37';
  t.same(result, expected);
  t.equal(result.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], lastApplied, 'stored verbatim');
});

const BODY_V1_TO_V3 = `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"},{"name":"side"}],
   "containers":[{"command":null,"env":[{"name":"GREETING","value":"hi"}],"image":"busybox:1.37","name":"main","ports":null},
                 {"command":["sleep","10"],"image":"busybox:1.36","name":"side"}]}}}}`;
const BODY_V3_TO_V1 = `{"spec":{"replicas":2,"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],
   "containers":[{"command":["sleep","3600"],"env":null,"image":"busybox:1.36","name":"main","ports":[{"containerPort":8080}]},
                 {"$patch":"delete","name":"side"}]}}}}`;

t.test('kubectl apply: removing fields, adding and then deleting a side container', async (t) => {
  const v3 = patch(liveV1(), BODY_V1_TO_V3);
  t.same(containersOf(v3), [
    {
      name: 'main',
      image: 'busybox:1.37',
      env: [{ name: 'GREETING', value: 'hi' }],
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
    },
    { name: 'side', image: 'busybox:1.36', command: ['sleep', '10'] },
  ]);
  t.same((v3 as Live).metadata, liveV1().metadata, 'metadata untouched, annotations byte-for-byte');
  t.equal((v3 as Live).spec.replicas, 2);

  const scaled = { ...(v3 as Live), spec: { ...(v3 as Live).spec, replicas: 5 } };
  const back = patch(scaled, BODY_V3_TO_V1) as Live;
  t.same(containersOf(back), [
    {
      name: 'main',
      image: 'busybox:1.36',
      command: ['sleep', '3600'],
      ports: [{ containerPort: 8080 }],
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
    },
  ]);
  t.equal(back.spec.replicas, 2);
  t.same(back.status, liveV1().status);
  t.same(back.spec.strategy, liveV1().spec.strategy);
});

t.test('last-applied-configuration survives byte-for-byte', async (t) => {
  const awkward = '{"a":"tab\\t quote\\" backslash\\\\ \u2028 \u00e9 \ud83d\ude80","b":[1.0,1e3]}\n\n  ';
  const result = patch(liveV1(), JSON.stringify({ metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': awkward } } })) as Live;
  t.equal(result.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], awkward);
  t.equal(Buffer.compare(Buffer.from(result.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']), Buffer.from(awkward)), 0);
  const untouched = patch(liveV1(), '{"spec":{"replicas":9}}') as Live;
  t.equal(untouched.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], LAST_APPLIED_V1);
});

t.test('kubectl rollout restart adds a template annotation', async (t) => {
  const live = liveV1();
  const body = '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-02T03:04:05Z"}}}}}';
  const result = patch(live, body) as Live & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
  t.same(result.spec.template.metadata, { labels: { app: 'hello' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-02T03:04:05Z' } });
  t.same(containersOf(result), liveV1().spec.template.spec.containers);
});

t.test('kubectl set image merges containers by name and keeps their order', async (t) => {
  const twoContainers = patch(liveV1(), BODY_V1_TO_V3);
  const result = patch(twoContainers, '{"spec":{"template":{"spec":{"containers":[{"image":"busybox:2","name":"main"}]}}}}');
  t.same(containersOf(result), [
    { name: 'main', image: 'busybox:2', env: [{ name: 'GREETING', value: 'hi' }], imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' },
    { name: 'side', image: 'busybox:1.36', command: ['sleep', '10'] },
  ]);
});

t.test('Service ports merge by port; container ports by containerPort', async (t) => {
  const service = {
    kind: 'Service',
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
    },
  };
  const result = patch(service, '{"spec":{"ports":[{"port":80,"targetPort":9090},{"port":8081,"name":"admin"}]}}', 'Service');
  t.same((result as typeof service).spec.ports, [
    { name: 'http', port: 80, targetPort: 9090, protocol: 'TCP' },
    { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
    { port: 8081, name: 'admin' },
  ]);
  const pod = { spec: { containers: [{ name: 'main', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81 }] }] } };
  const patchedPod = patch(pod, '{"spec":{"containers":[{"name":"main","ports":[{"containerPort":81,"name":"metrics"}]}]}}', 'Pod');
  t.same(patchedPod, { spec: { containers: [{ name: 'main', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81, name: 'metrics' }] }] } });
  const notAService = patch(service, '{"spec":{"ports":[{"port":80}]}}', 'Widget');
  t.same((notAService as typeof service).spec.ports, [{ port: 80 }], 'unknown kinds replace the list');
});

t.test('lists without a merge key are replaced whole', async (t) => {
  const pod = {
    spec: {
      tolerations: [{ key: 'a', operator: 'Exists' }],
      containers: [{ name: 'main', command: ['a', 'b'], args: ['x'], envFrom: [{ configMapRef: { name: 'c' } }] }],
    },
  };
  const result = patch(pod, '{"spec":{"tolerations":[{"key":"b","operator":"Exists"}],"containers":[{"name":"main","command":["c"],"envFrom":[{"secretRef":{"name":"s"}}]}]}}', 'Pod');
  t.same(result, {
    spec: {
      tolerations: [{ key: 'b', operator: 'Exists' }],
      containers: [{ name: 'main', command: ['c'], args: ['x'], envFrom: [{ secretRef: { name: 's' } }] }],
    },
  });
  const endpoints = { subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] };
  t.same(patch(endpoints, '{"subsets":[{"addresses":[{"ip":"10.0.0.2"}]}]}', 'Endpoints'), { subsets: [{ addresses: [{ ip: '10.0.0.2' }] }] });
});

t.test('other merge keys: env, volumes, volumeMounts, conditions, ownerReferences, taints, addresses', async (t) => {
  const pod = {
    metadata: { ownerReferences: [{ uid: 'u1', name: 'rs-1' }, { uid: 'u2', name: 'x' }] },
    spec: {
      volumes: [{ name: 'data', emptyDir: {} }],
      initContainers: [{ name: 'init', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }],
      containers: [{ name: 'main', volumeMounts: [{ mountPath: '/data', name: 'data' }] }],
    },
    status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] },
  };
  const body = `{"metadata":{"ownerReferences":[{"uid":"u2","$patch":"delete"}]},
    "spec":{"volumes":[{"name":"cache","emptyDir":{}}],
      "initContainers":[{"name":"init","env":[{"name":"B","value":"3"}]}],
      "containers":[{"name":"main","volumeMounts":[{"mountPath":"/data","readOnly":true}]}]},
    "status":{"conditions":[{"type":"Ready","status":"True"}]}}`;
  t.same(patch(pod, body, 'Pod'), {
    metadata: { ownerReferences: [{ uid: 'u1', name: 'rs-1' }] },
    spec: {
      volumes: [{ name: 'data', emptyDir: {} }, { name: 'cache', emptyDir: {} }],
      initContainers: [{ name: 'init', env: [{ name: 'A', value: '1' }, { name: 'B', value: '3' }] }],
      containers: [{ name: 'main', volumeMounts: [{ mountPath: '/data', name: 'data', readOnly: true }] }],
    },
    status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] },
  });
  const node = {
    spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] },
    status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n1' }] },
  };
  t.same(patch(node, '{"spec":{"taints":[{"key":"b","effect":"NoExecute"}]},"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.9"}]}}', 'Node'), {
    spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] },
    status: { addresses: [{ type: 'InternalIP', address: '10.0.0.9' }, { type: 'Hostname', address: 'n1' }] },
  });
});

t.test('element order: target order kept, new elements appended; $setElementOrder decides otherwise', async (t) => {
  const list = (...names: string[]) => ({ spec: { containers: names.map((name) => ({ name })) } });
  const names = (result: unknown) => (result as ReturnType<typeof list>).spec.containers.map((c) => c.name);
  t.same(names(patch(list('a', 'b'), '{"spec":{"containers":[{"name":"c"},{"name":"a","image":"x"}]}}', 'Pod')), ['a', 'b', 'c']);
  t.same(
    names(patch(list('C', 'B', 'D', 'A', 'E'), '{"spec":{"$setElementOrder/containers":[{"name":"A"},{"name":"B"}],"containers":[{"name":"A","image":"a"},{"name":"B","image":"b"}]}}', 'Pod')),
    ['C', 'D', 'A', 'B', 'E'],
    'server-only elements interleave by their live position, as apimachinery does',
  );
  t.same(names(patch(list('B', 'A'), '{"spec":{"$setElementOrder/containers":[{"name":"A"},{"name":"B"}]}}', 'Pod')), ['A', 'B'], 'order without a patch list');
  t.same(names(patch(list('A', 'B'), '{"spec":{"$setElementOrder/containers":[{"name":"C"},{"name":"B"},{"name":"A"}]}}', 'Pod')), ['B', 'A'], 'unknown names are ignored');
  t.same(names(patch({}, '{"spec":{"$setElementOrder/containers":[{"name":"B"},{"name":"A"}],"containers":[{"name":"B"},{"name":"A"}]}}', 'Pod')), ['B', 'A']);
  t.same(
    patch({ spec: { tolerations: [{ key: 'b' }, { key: 'a' }] } }, '{"spec":{"$setElementOrder/tolerations":[{"key":"a"},{"key":"b"}]}}', 'Pod'),
    { spec: { tolerations: [{ key: 'b' }, { key: 'a' }] } },
    'an order directive alone leaves an atomic list as it is',
  );
});

t.test('finalizers: set union, $deleteFromPrimitiveList, $setElementOrder', async (t) => {
  const meta = (finalizers: string[]) => ({ metadata: { finalizers } });
  t.same(patch(meta(['a', 'b']), '{"metadata":{"finalizers":["b","c"]}}', 'Pod'), meta(['a', 'b', 'c']));
  t.same(patch(meta(['a', 'b', 'c']), '{"metadata":{"$deleteFromPrimitiveList/finalizers":["b","zz"]}}', 'Pod'), meta(['a', 'c']));
  t.same(
    patch(meta(['b', 'e', 'a', 'c', 'd']), '{"metadata":{"$setElementOrder/finalizers":["a","b","f"],"$deleteFromPrimitiveList/finalizers":["c"],"finalizers":["f"]}}', 'Pod'),
    meta(['e', 'a', 'b', 'f', 'd']),
  );
  t.same(patch(meta(['a']), '{"metadata":{"finalizers":null}}', 'Pod'), { metadata: {} });
});

t.test('$patch: replace and delete in maps and lists, $retainKeys', async (t) => {
  const pod = { spec: { containers: [{ name: 'main', resources: { limits: { cpu: '1' }, requests: { cpu: '1', memory: '1Gi' } } }, { name: 'side' }] } };
  t.same(
    patch(pod, '{"spec":{"containers":[{"name":"main","resources":{"$patch":"replace","requests":{"cpu":"2"}}}]}}', 'Pod'),
    { spec: { containers: [{ name: 'main', resources: { requests: { cpu: '2' } } }, { name: 'side' }] } },
  );
  t.same(patch(pod, '{"spec":{"containers":[{"name":"main","resources":{"$patch":"delete"}}]}}', 'Pod'), {
    spec: { containers: [{ name: 'main', resources: {} }, { name: 'side' }] },
  });
  t.same(patch(pod, '{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"x"}]}}', 'Pod'), {
    spec: { containers: [{ name: 'only', image: 'x' }] },
  });
  t.same(patch({ spec: { tolerations: [{ key: 'a' }] } }, '{"spec":{"tolerations":[{"$patch":"replace"},{"key":"b"}]}}', 'Pod'), { spec: { tolerations: [{ key: 'b' }] } });
  const deployment = { spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
  t.same(patch(deployment, '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}'), { spec: { replicas: 1, strategy: { type: 'Recreate' } } });
  t.same(patch(deployment, '{"$patch":"replace","kind":"Deployment"}'), { kind: 'Deployment' });
});

t.test('null deletes; nulls and directives in new subtrees are not stored', async (t) => {
  const pod = { spec: { containers: [{ name: 'main', image: 'a' }], nodeName: 'n1' } };
  const body = `{"spec":{"nodeName":null,"hostname":null,"securityContext":{"runAsUser":1,"fsGroup":null},
    "containers":[{"name":"new","resources":{"$patch":"replace","limits":{"cpu":"1","memory":null}}}]}}`;
  t.same(patch(pod, body, 'Pod'), {
    spec: { containers: [{ name: 'main', image: 'a' }, { name: 'new', resources: { limits: { cpu: '1' } } }], securityContext: { runAsUser: 1 } },
  });
  t.same(patch({ spec: { containers: 'corrupt' } }, '{"spec":{"containers":[{"name":"a"}]}}', 'Pod'), { spec: { containers: [{ name: 'a' }] } }, 'a type change replaces');
  t.same(patch({ spec: { x: [1] } }, '{"spec":{"x":{"y":1}}}', 'Pod'), { spec: { x: { y: 1 } } });
  t.same(patch(undefined, '{"a":{"b":null,"c":1}}', 'Pod'), { a: { c: 1 } });
});

t.test('malformed directives and lists are 400', async (t) => {
  const pod = { spec: { containers: [{ name: 'main' }] }, metadata: { finalizers: ['a'] } };
  const bad = [
    '[]',
    '"x"',
    '{"$patch":"merge"}',
    '{"spec":{"$patch":"bogus"}}',
    '{"spec":{"containers":[{"image":"x"}]}}',
    '{"spec":{"containers":["main"]}}',
    '{"spec":{"containers":[{"$patch":"delete"}]}}',
    '{"spec":{"containers":[{"$patch":"merge","name":"main"}]}}',
    '{"spec":{"$setElementOrder/containers":{"name":"main"}}}',
    '{"spec":{"$setElementOrder/containers":["main"]}}',
    '{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"b"}]}}',
    '{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"b"},{"name":"a"}]}}',
    '{"spec":{"$setElementOrder/":[]}}',
    '{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}',
    '{"metadata":{"$deleteFromPrimitiveList/finalizers":[{"a":1}]}}',
    '{"metadata":{"finalizers":[{"a":1}]}}',
    '{"spec":{"$retainKeys":"containers"}}',
    '{"spec":{"$retainKeys":["containers"],"nodeName":"n"}}',
    '{"spec":{"$bogus":1}}',
    '{"metadata":{"annotations":{"__proto__":{"polluted":"yes"}}}}',
  ];
  for (const body of bad) {
    t.throws(() => patch(pod, body, 'Pod'), { code: 400, reason: 'BadRequest' }, body);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('constructor and prototype are plain keys; the result shares nothing with the inputs', async (t) => {
  const result = patch({ data: { a: '1' } }, '{"data":{"constructor":"c","prototype":"p"},"constructor":{"x":1}}', 'ConfigMap');
  t.same(result, { data: { a: '1', constructor: 'c', prototype: 'p' }, constructor: { x: 1 } });
  t.equal(Object.getPrototypeOf(result), Object.prototype);
  const live = deepFreeze(liveV1());
  const body = deepFreeze(JSON.parse(BODY_V1_TO_V3) as Record<string, unknown>);
  const out = applyStrategicMergePatch(live, body, 'Deployment') as Live;
  out.spec.template.spec.containers[1]!.command!.push('mutated');
  out.spec.selector.matchLabels.app = 'changed';
  t.same(JSON.parse(BODY_V1_TO_V3), body);
  t.same(live, liveV1());
});
