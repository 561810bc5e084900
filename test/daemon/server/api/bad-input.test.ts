/**
 * REFERENCE.md §E.3: hostile or malformed input gets a clear error in bounded time and memory,
 * writes nothing (revision, objects, files), and the server keeps serving.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { ApiResponse, TestServer } from '../../../helpers/api-request.js';
import { assertStatus, configMap, deployment, startTestServer } from '../../../helpers/api-request.js';

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const PODS = '/api/v1/namespaces/default/pods';

interface Expectation {
  code: number;
  reason: string;
  /** Every one of these must appear as a `details.causes[].field`. */
  fields?: string[];
  /** A GET of this path afterwards must be 404. */
  absent?: string;
  /** Upper bound on the reply time. */
  withinMs?: number;
}

/** Files in the data dir, minus the database's own (which SQLite may touch on any read). */
async function dataFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => !/^state\.db/.test(path.basename(entry))).sort();
}

async function counts(server: TestServer): Promise<number[]> {
  const result: number[] = [];
  for (const path of ['/api/v1/configmaps', '/apis/apps/v1/deployments', '/api/v1/pods', '/api/v1/namespaces']) {
    const list = (await server.request('GET', path)).json as { items: unknown[] };
    result.push(list.items.length);
  }
  return result;
}

async function expectRejected(t: Test, server: TestServer, what: string, send: () => Promise<ApiResponse>, expected: Expectation): Promise<void> {
  const revision = await server.running.engine.currentRevision();
  const before = await counts(server);
  const files = await dataFiles(server.dataDir);
  const started = performance.now();
  const response = await send();
  const elapsed = performance.now() - started;
  t.ok(elapsed < (expected.withinMs ?? 2000), `${what}: answered in ${elapsed.toFixed(0)} ms`);
  const status = assertStatus(t, response, expected.code, expected.reason, what);
  const fields = (status.details?.causes ?? []).map((cause) => cause.field);
  for (const field of expected.fields ?? []) t.ok(fields.includes(field), `${what}: causes name ${field} (got ${JSON.stringify(fields)})`);
  t.equal(await server.running.engine.currentRevision(), revision, `${what}: the store revision did not move`);
  t.same(await counts(server), before, `${what}: no object appeared`);
  t.same(await dataFiles(server.dataDir), files, `${what}: no file appeared in the data dir`);
  if (expected.absent) t.equal((await server.request('GET', expected.absent)).status, 404, `${what}: GET ${expected.absent} is 404`);
  const healthy = await server.request('GET', `${CM}?limit=1`);
  t.equal(healthy.status, 200, `${what}: the server still serves`);
}

/** The JSON text of a Deployment with one field replaced by raw JSON text (so `1e9` stays `1e9`). */
function deploymentText(name: string, replicasText: string): string {
  const manifest = deployment(name);
  return JSON.stringify(manifest).replace('"replicas":1', `"replicas":${replicasText}`);
}

function pod(name: string, change: (container: Record<string, unknown>, spec: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const container: Record<string, unknown> = { name: 'main', command: ['sleep', '60'] };
  const spec: Record<string, unknown> = { containers: [container] };
  change(container, spec);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec };
}

t.test('bad names: 422 naming metadata.name, nothing written, no file created', async (t) => {
  const server = await startTestServer(t);
  const names: Array<[string, string]> = [
    ['path traversal', '../../etc'],
    ['254 characters', 'a'.repeat(254)],
    ['uppercase', 'MyConfig'],
    ['underscore', 'my_config'],
    ['NUL byte', 'bad\u0000name'],
    ['URL-encoded traversal', '%2e%2e%2f'],
    ['Cyrillic homoglyph', 'c\u043enfig'],
    ['slash', 'a/b'],
    ['empty', ''],
  ];
  for (const [what, name] of names) {
    await expectRejected(t, server, `ConfigMap named ${what}`, () => server.request('POST', CM, { body: configMap(name) }), {
      code: 422,
      reason: 'Invalid',
      fields: ['metadata.name'],
    });
  }
  await expectRejected(t, server, 'Namespace named ../../etc', () => server.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: '../../etc' } } }), {
    code: 422,
    reason: 'Invalid',
    fields: ['metadata.name'],
  });
  await expectRejected(t, server, 'Deployment named ../../etc', () => server.request('POST', DEPLOY, { body: deployment('../../etc') }), {
    code: 422,
    reason: 'Invalid',
    fields: ['metadata.name'],
  });
  await expectRejected(t, server, 'generateName ../', () => server.request('POST', CM, { body: { ...configMap(''), metadata: { generateName: '../' } } }), {
    code: 422,
    reason: 'Invalid',
  });
  await expectRejected(t, server, 'label value of 64 characters', () => server.request('POST', CM, { body: configMap('labelled', {}, { labels: { app: 'v'.repeat(64) } }) }), {
    code: 422,
    reason: 'Invalid',
    fields: ['metadata.labels'],
    absent: `${CM}/labelled`,
  });
  const long = (await server.request('POST', CM, { body: configMap('a'.repeat(254)) })).json as { message: string };
  t.match(long.message, /must be no more than 253 characters/, 'the message says what the rule is');
  const upper = (await server.request('POST', CM, { body: configMap('MyConfig') })).json as { message: string };
  t.match(upper.message, /RFC 1123/, 'the message names the DNS-1123 rule');
});

t.test('traversal in the URL path: 404 or 400, never a write or a different object', async (t) => {
  const server = await startTestServer(t);
  t.equal((await server.request('POST', CM, { body: configMap('etc') })).status, 201);
  const secret = await server.request('POST', '/api/v1/namespaces/kube-system/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' }, stringData: { a: 'b' } } });
  t.equal(secret.status, 201);
  const attempts: Array<[string, string, unknown]> = [
    ['GET', `${CM}/%2e%2e%2fetc`, undefined],
    ['GET', `${CM}/%2e%2e%2f%2e%2e%2fkube-system%2fsecrets%2ftoken`, undefined],
    ['GET', '/api/v1/namespaces/default/configmaps/..%2F..%2Fnamespaces%2Fkube-system%2Fsecrets%2Ftoken', undefined],
    ['GET', '/api/v1/namespaces/%2e%2e%2fkube-system/secrets/token', undefined],
    ['GET', '/api/v1/namespaces/default%2f..%2fkube-system/secrets/token', undefined],
    ['PUT', `${CM}/%2e%2e%2fetc`, configMap('../etc')],
    ['DELETE', `${CM}/%2e%2e%2fetc`, undefined],
    ['POST', '/api/v1/namespaces/%2e%2e%2f/configmaps', configMap('escaped')],
    ['POST', `${CM}/%2e%2e%2f`, configMap('escaped')],
    ['GET', '/api/v1/namespaces/default/%2e%2e/secrets/token', undefined],
  ];
  for (const [method, url, body] of attempts) {
    const revision = await server.running.engine.currentRevision();
    const response = await server.request(method, url, body === undefined ? {} : { body });
    t.ok([400, 404, 405].includes(response.status), `${method} ${url}: refused with ${response.status}`);
    t.match(response.json, { kind: 'Status', status: 'Failure', code: response.status }, `${method} ${url}: a Status`);
    t.notOk(response.text.includes('"stringData"') || response.text.includes('"data"'), `${method} ${url}: no object content leaked`);
    t.equal(await server.running.engine.currentRevision(), revision, `${method} ${url}: nothing written`);
  }
  const namespaced = (await server.request('GET', '/api/v1/namespaces/%2e%2e%2fkube-system/secrets')).json as { items: unknown[] };
  t.same(namespaced.items, [], 'a list in a traversal namespace is empty, not another namespace');
  t.equal((await server.request('GET', `${CM}/etc`)).status, 200, 'the real object is untouched');
});

t.test('bad field values: 422 listing every field path, whole object rejected', async (t) => {
  const server = await startTestServer(t);
  const container = 'spec.containers[0]';
  const template = 'spec.template.spec.containers[0]';
  await expectRejected(t, server, 'replicas: -1', () => server.request('POST', DEPLOY, { body: deploymentText('minus', '-1') }), {
    code: 422,
    reason: 'Invalid',
    fields: ['spec.replicas'],
    absent: `${DEPLOY}/minus`,
  });
  await expectRejected(t, server, 'replicas: 1e10 (above int32)', () => server.request('POST', DEPLOY, { body: deploymentText('huge', '1e10') }), {
    code: 422,
    reason: 'Invalid',
    fields: ['spec.replicas'],
    absent: `${DEPLOY}/huge`,
  });
  await expectRejected(t, server, 'replicas: 1.5', () => server.request('POST', DEPLOY, { body: deploymentText('fraction', '1.5') }), {
    code: 422,
    reason: 'Invalid',
    fields: ['spec.replicas'],
    absent: `${DEPLOY}/fraction`,
  });
  await expectRejected(t, server, 'replicas: "3"', () => server.request('POST', DEPLOY, { body: deploymentText('string', '"3"') }), {
    code: 422,
    reason: 'Invalid',
    fields: ['spec.replicas'],
  });
  await expectRejected(t, server, 'memory: "-5Mi"', () => server.request('POST', PODS, { body: pod('negative-memory', (c) => (c.resources = { limits: { memory: '-5Mi' } })) }), {
    code: 422,
    reason: 'Invalid',
    fields: [`${container}.resources.limits[memory]`],
    absent: `${PODS}/negative-memory`,
  });
  await expectRejected(t, server, 'cpu: "abc"', () => server.request('POST', PODS, { body: pod('abc-cpu', (c) => (c.resources = { requests: { cpu: 'abc' } })) }), {
    code: 422,
    reason: 'Invalid',
    fields: [`${container}.resources.requests[cpu]`],
    absent: `${PODS}/abc-cpu`,
  });
  for (const port of [0, 65536, -1]) {
    await expectRejected(t, server, `containerPort ${port}`, () => server.request('POST', PODS, { body: pod(`port-${port + 1}`, (c) => (c.ports = [{ containerPort: port }])) }), {
      code: 422,
      reason: 'Invalid',
      fields: [`${container}.ports[0].containerPort`],
      absent: `${PODS}/port-${port + 1}`,
    });
  }
  await expectRejected(t, server, 'restartPolicy: "Sometimes"', () => server.request('POST', PODS, { body: pod('sometimes', (_c, spec) => (spec.restartPolicy = 'Sometimes')) }), {
    code: 422,
    reason: 'Invalid',
    fields: ['spec.restartPolicy'],
    absent: `${PODS}/sometimes`,
  });
  const everything = deployment('everything');
  everything.spec.replicas = -1;
  const podSpec = (everything.spec.template as { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } }).spec;
  podSpec.restartPolicy = 'Sometimes';
  podSpec.containers[0]!.ports = [{ containerPort: 0 }, { containerPort: 65536 }];
  podSpec.containers[0]!.resources = { limits: { memory: '-5Mi' }, requests: { cpu: 'abc' } };
  await expectRejected(t, server, 'all of them at once', () => server.request('POST', DEPLOY, { body: everything }), {
    code: 422,
    reason: 'Invalid',
    fields: [
      'spec.replicas',
      'spec.template.spec.restartPolicy',
      `${template}.ports[0].containerPort`,
      `${template}.ports[1].containerPort`,
      `${template}.resources.limits[memory]`,
      `${template}.resources.requests[cpu]`,
    ],
    absent: `${DEPLOY}/everything`,
  });

  // The same values on an update are refused too, and the stored object stays as it was.
  const created = (await server.request('POST', DEPLOY, { body: deployment('stable', 2) })).json as { metadata: { resourceVersion: string } };
  const update = deployment('stable', -1);
  update.metadata.resourceVersion = created.metadata.resourceVersion;
  await expectRejected(t, server, 'update to replicas -1', () => server.request('PUT', `${DEPLOY}/stable`, { body: update }), { code: 422, reason: 'Invalid', fields: ['spec.replicas'] });
  await expectRejected(
    t,
    server,
    'merge patch to replicas -1',
    () => server.request('PATCH', `${DEPLOY}/stable`, { body: { spec: { replicas: -1 } }, headers: { 'content-type': 'application/merge-patch+json' } }),
    { code: 422, reason: 'Invalid', fields: ['spec.replicas'] },
  );
  await expectRejected(t, server, 'scale to -1', () => server.request('PUT', `${DEPLOY}/stable/scale`, { body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'stable' }, spec: { replicas: -1 } } }), {
    code: 422,
    reason: 'Invalid',
    fields: ['spec.replicas'],
  });
  const stored = (await server.request('GET', `${DEPLOY}/stable`)).json as { spec: { replicas: number }; metadata: { resourceVersion: string } };
  t.equal(stored.spec.replicas, 2);
  t.equal(stored.metadata.resourceVersion, created.metadata.resourceVersion);
});

t.test('replicas: 1e9 is the int32 1000000000 (docs/api.md: accepted, as its value is in range)', async (t) => {
  // JSON.parse reads `1e9` as 1000000000. Kubernetes' Go decoder refuses the float literal form;
  // pm8s sees only the value, which is a valid int32, and 1e10 (out of range) is refused above.
  const server = await startTestServer(t);
  const response = await server.request('POST', DEPLOY, { body: deploymentText('billion', '1e9') });
  t.equal(response.status, 201);
  t.equal((response.json as { spec: { replicas: number } }).spec.replicas, 1_000_000_000);
  await server.request('DELETE', `${DEPLOY}/billion`);
});

t.test('oversized and deeply nested bodies: 413 / 400 quickly, bounded memory', async (t) => {
  const server = await startTestServer(t);
  const heapBefore = process.memoryUsage().heapUsed;
  const tenMiB = JSON.stringify(configMap('huge', { blob: 'x'.repeat(10 * 1024 * 1024) }));
  await expectRejected(t, server, '10 MiB body', () => server.request('POST', CM, { body: tenMiB }), { code: 413, reason: 'RequestEntityTooLarge', absent: `${CM}/huge` });
  const depth = 10_000;
  const deepArray = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
  await expectRejected(t, server, '10,000-deep arrays', () => server.request('POST', CM, { body: deepArray }), { code: 400, reason: 'BadRequest', absent: `${CM}/deep`, withinMs: 1000 });
  const deepObject = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","labels":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
  await expectRejected(t, server, '10,000-deep objects', () => server.request('POST', CM, { body: deepObject }), { code: 400, reason: 'BadRequest', absent: `${CM}/deep`, withinMs: 1000 });
  const unbalanced = `${']'.repeat(depth)}${'['.repeat(depth)}`;
  await expectRejected(t, server, 'closers before openers', () => server.request('POST', CM, { body: unbalanced }), { code: 400, reason: 'BadRequest', withinMs: 1000 });
  t.equal((await server.request('POST', CM, { body: configMap('target') })).status, 201);
  await expectRejected(
    t,
    server,
    '10,000-deep merge patch',
    () => server.request('PATCH', `${CM}/target`, { body: `{"data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`, headers: { 'content-type': 'application/merge-patch+json' } }),
    { code: 400, reason: 'BadRequest', withinMs: 1000 },
  );
  const grown = process.memoryUsage().heapUsed - heapBefore;
  t.ok(grown < 128 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB (bounded)`);
});

t.test('__proto__ anywhere is refused and pollutes nothing; constructor is plain data', async (t) => {
  const server = await startTestServer(t);
  const raw = (text: string) => () => server.request('POST', CM, { body: text });
  const prototypeBodies: Array<[string, string]> = [
    ['top level', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p1"},"__proto__":{"polluted":"yes"}}'],
    ['metadata', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p2","__proto__":{"polluted":"yes"}}}'],
    ['labels', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p3","labels":{"__proto__":{"polluted":"yes"}}}}'],
    ['data', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p4"},"data":{"__proto__":"yes"}}'],
    ['inside an array', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p5","ownerReferences":[{"__proto__":{"polluted":"yes"}}]}}'],
    ['escaped key', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p6"},"\\u005f_proto__":{"polluted":"yes"}}'],
  ];
  for (const [where, text] of prototypeBodies) {
    await expectRejected(t, server, `__proto__ in ${where}`, raw(text), { code: 400, reason: 'BadRequest' });
  }
  await expectRejected(
    t,
    server,
    '__proto__ in a deployment pod template',
    () => server.request('POST', DEPLOY, { body: JSON.stringify(deployment('proto')).replace('"containers":', '"__proto__":{"polluted":"yes"},"containers":') }),
    { code: 400, reason: 'BadRequest', absent: `${DEPLOY}/proto` },
  );

  t.equal((await server.request('POST', CM, { body: configMap('victim') })).status, 201);
  const victim = (await server.request('GET', `${CM}/victim`)).json as Record<string, unknown>;
  const patches: Array<[string, string, string]> = [
    ['merge patch', 'application/merge-patch+json', '{"__proto__":{"polluted":"yes"}}'],
    ['merge patch in data', 'application/merge-patch+json', '{"data":{"__proto__":{"polluted":"yes"}}}'],
    ['strategic merge patch', 'application/strategic-merge-patch+json', '{"metadata":{"__proto__":{"polluted":"yes"}}}'],
    ['JSON patch path', 'application/json-patch+json', '[{"op":"add","path":"/__proto__/polluted","value":"yes"}]'],
    ['JSON patch nested path', 'application/json-patch+json', '[{"op":"add","path":"/data/__proto__","value":{"polluted":"yes"}}]'],
    ['JSON patch value', 'application/json-patch+json', '[{"op":"add","path":"/data/x","value":{"__proto__":{"polluted":"yes"}}}]'],
    ['JSON patch copy from prototype', 'application/json-patch+json', '[{"op":"copy","from":"/constructor/prototype","path":"/data/x"}]'],
  ];
  for (const [what, type, body] of patches) {
    const revision = await server.running.engine.currentRevision();
    const response = await server.request('PATCH', `${CM}/victim`, { body, headers: { 'content-type': type } });
    t.ok(response.status >= 400 && response.status < 500, `${what}: refused with ${response.status} (${response.text.slice(0, 200)})`);
    t.match(response.json, { kind: 'Status', status: 'Failure' });
    t.equal(await server.running.engine.currentRevision(), revision, `${what}: nothing written`);
  }
  t.same((await server.request('GET', `${CM}/victim`)).json, victim, 'the victim object is unchanged');

  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was not polluted in the server process');
  t.notOk(Object.hasOwn(Object.prototype, 'polluted'));
  const constructorBody = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'ctor', labels: { constructor: 'x', prototype: 'y' }, annotations: { constructor: 'ok' } },
    data: { constructor: 'plain', prototype: 'data', toString: 'text', hasOwnProperty: 'still' },
  };
  const created = await server.request('POST', CM, { body: constructorBody });
  t.equal(created.status, 201, 'constructor / prototype keys are ordinary keys');
  const fetched = (await server.request('GET', `${CM}/ctor`)).json as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
  t.same(fetched.data, constructorBody.data, 'and round-trip as data');
  t.same(fetched.metadata.labels, constructorBody.metadata.labels);
  const listed = (await server.request('GET', `${CM}?labelSelector=constructor%3Dx`)).json as { items: unknown[] };
  t.equal(listed.items.length, 1, 'a label selector on such a key works');
  const later = (await server.request('POST', CM, { body: configMap('later') })).json as Record<string, unknown>;
  t.equal(later.polluted, undefined, 'a later object shows no injected field');
  t.equal((later.metadata as Record<string, unknown>).polluted, undefined);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(typeof ({} as { constructor: unknown }).constructor, 'function', 'Object.prototype.constructor intact');
});

t.test('duplicate keys: the last one wins, consistently everywhere (documented behaviour)', async (t) => {
  // JSON.parse keeps the last duplicate; every component parses with it, so no two parts of pm8s
  // disagree about an object (no parser differential). Kubernetes' default is the same: the last
  // value is used (with only a warning when fieldValidation=Warn).
  const server = await startTestServer(t);
  const text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"first","name":"dup"},"data":{"k":"first","k":"second"}}';
  const response = await server.request('POST', CM, { body: text });
  t.equal(response.status, 201);
  t.match(response.json, { metadata: { name: 'dup' }, data: { k: 'second' } });
  t.equal((await server.request('GET', `${CM}/first`)).status, 404, 'no object under the first name');
  t.match((await server.request('GET', `${CM}/dup`)).json, { data: { k: 'second' } });
  const badThenGood = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name","name":"fixed"}}';
  t.equal((await server.request('POST', CM, { body: badThenGood })).status, 201, 'validation sees the same (last) value that is stored');
  await expectRejected(t, server, 'good then bad duplicate name', () => server.request('POST', CM, { body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fine","name":"Bad_Name"}}' }), {
    code: 422,
    reason: 'Invalid',
    fields: ['metadata.name'],
    absent: `${CM}/fine`,
  });
});

t.test('garbage on the socket does not hurt the server', async (t) => {
  const server = await startTestServer(t);
  const tls = await import('node:tls');
  const url = new URL(server.connection.url);
  await new Promise<void>((resolve) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      socket.write('GARBAGE \u0000\u0001\u0002 / HTTP/9.9\r\n\r\n');
    });
    socket.on('data', () => undefined);
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(2000, () => socket.destroy());
  });
  t.equal((await server.request('GET', CM)).status, 200, 'still serving');
});
