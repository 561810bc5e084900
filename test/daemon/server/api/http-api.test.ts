import t from 'tap';
import { apiRequest, assertStatus, configMap, deployment, openWatch, startTestServer } from '../../../helpers/api-request.js';
import { waitFor } from '../../../helpers/wait.js';

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';

t.test('400 BadRequest: bad JSON, invalid UTF-8, wrong apiVersion or kind for the URL', async (t) => {
  const server = await startTestServer(t);
  const before = await server.running.engine.currentRevision();

  assertStatus(t, await server.request('POST', CM, { body: '{"apiVersion": "v1", "kind": ' }), 400, 'BadRequest', 'truncated JSON');
  assertStatus(t, await server.request('POST', CM, { body: "{'single': 'quotes'}" }), 400, 'BadRequest', 'not JSON');
  const badUtf8 = Buffer.concat([Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"utf"},"data":{"k":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]);
  const utf8 = assertStatus(t, await server.request('POST', CM, { body: badUtf8 }), 400, 'BadRequest', 'invalid UTF-8');
  t.match(utf8.message, /UTF-8/);
  const wrongVersion = assertStatus(t, await server.request('POST', CM, { body: { ...configMap('wrong-version'), apiVersion: 'apps/v1' } }), 400, 'BadRequest', 'wrong apiVersion');
  t.match(wrongVersion.message, /apps\/v1/);
  assertStatus(t, await server.request('POST', CM, { body: { ...configMap('wrong-kind'), kind: 'Secret' } }), 400, 'BadRequest', 'wrong kind');
  assertStatus(t, await server.request('POST', DEPLOY, { body: configMap('cm-to-deployments') }), 400, 'BadRequest', 'a ConfigMap posted to deployments');
  assertStatus(t, await server.request('POST', CM, { body: '[1,2,3]' }), 400, 'BadRequest', 'a JSON array');
  assertStatus(t, await server.request('POST', CM, { body: { ...configMap('ns-mismatch'), metadata: { name: 'ns-mismatch', namespace: 'kube-system' } } }), 400, 'BadRequest', 'namespace differs from URL');
  assertStatus(t, await server.request('GET', `${CM}?labelSelector=${encodeURIComponent('a in (b')}`), 400, 'BadRequest', 'unparsable label selector');
  assertStatus(t, await server.request('GET', `${CM}?limit=-1`), 400, 'BadRequest', 'negative limit');
  assertStatus(t, await server.request('GET', `${CM}?limit=1&continue=garbage`), 400, 'BadRequest', 'forged continue token');
  const target = await server.request('POST', CM, { body: configMap('target') });
  t.equal(target.status, 201);
  const afterCreate = await server.running.engine.currentRevision();
  const numericVersion = { ...configMap('target', { changed: 'yes' }), metadata: { name: 'target', resourceVersion: Number((target.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion) } };
  assertStatus(t, await server.request('PUT', `${CM}/target`, { body: numericVersion }), 400, 'BadRequest', 'a resourceVersion that is a number, not a string');
  const precondition = { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: 1 } };
  const typed = assertStatus(t, await server.request('DELETE', `${CM}/target`, { body: precondition }), 400, 'BadRequest', 'a delete precondition of the wrong type');
  t.match(typed.details, { causes: [{ field: 'preconditions.resourceVersion' }] });
  assertStatus(t, await server.request('DELETE', `${CM}/target`, { body: { preconditions: 'x' } }), 400, 'BadRequest', 'preconditions not an object');
  assertStatus(t, await server.request('DELETE', `${CM}/target`, { body: { propagationPolicy: 'Sometimes' } }), 400, 'BadRequest', 'unknown propagationPolicy');
  assertStatus(t, await server.request('DELETE', `${CM}/target`, { body: '{"gracePeriodSeconds":' }), 400, 'BadRequest', 'a DeleteOptions body that is not JSON');
  t.equal((await server.request('GET', `${CM}/target`)).status, 200, 'none of the bad deletes deleted');
  t.equal(await server.running.engine.currentRevision(), afterCreate, 'and nothing else was written');
  t.equal(afterCreate, before + 1, 'only the one valid create was written');
});

t.test('401 Unauthorized: the same Status for every kind of bad credential', async (t) => {
  const server = await startTestServer(t);
  const { token } = server.connection;
  const cases: Array<[string, string | null]> = [
    ['no header', null],
    ['wrong token', `Bearer ${token.slice(0, 7)}${'A'.repeat(token.length - 7)}`],
    ['"Bearer" with two spaces', `Bearer  ${token}`],
    ['other scheme', `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`],
    ['scheme only', 'Bearer'],
    ['token without scheme', token],
  ];
  const bodies = new Set<string>();
  for (const [what, authorization] of cases) {
    for (const [method, path] of [['GET', CM], ['POST', CM], ['DELETE', `${CM}/x`], ['GET', '/api'], ['GET', `${CM}?watch=true`]] as const) {
      const response = await server.request(method, path, { authorization, ...(method === 'POST' ? { body: configMap('sneaky') } : {}) });
      assertStatus(t, response, 401, 'Unauthorized', `${what}: ${method} ${path}`);
      t.match(response.headers['www-authenticate'], /^Bearer/, `${what}: asks for a bearer token`);
      t.notOk(response.text.includes(token), 'the token is never echoed');
      bodies.add(response.text);
    }
  }
  t.equal(bodies.size, 1, 'every 401 has the same body');
  t.equal((await server.request('GET', `${CM}/sneaky`)).status, 404, 'the unauthenticated create wrote nothing');
  t.equal((await server.request('GET', '/version', { authorization: null })).status, 200, '/version stays public');
  t.equal((await server.request('GET', CM)).status, 200, 'the real token works');
});

t.test('404 NotFound: missing object, missing namespace, unknown paths', async (t) => {
  const server = await startTestServer(t);
  const missing = assertStatus(t, await server.request('GET', `${CM}/nope`), 404, 'NotFound', 'missing ConfigMap');
  t.equal(missing.message, 'configmaps "nope" not found');
  t.match(missing.details, { name: 'nope', kind: 'configmaps' });
  const missingDeployment = assertStatus(t, await server.request('GET', `${DEPLOY}/nope`), 404, 'NotFound', 'missing Deployment');
  t.equal(missingDeployment.message, 'deployments.apps "nope" not found');
  t.match(missingDeployment.details, { name: 'nope', kind: 'deployments', group: 'apps' });
  assertStatus(t, await server.request('DELETE', `${CM}/nope`), 404, 'NotFound', 'delete of a missing object');
  assertStatus(t, await server.request('PUT', `${CM}/nope`, { body: configMap('nope') }), 404, 'NotFound', 'update of a missing object');
  assertStatus(t, await server.request('PATCH', `${CM}/nope`, { body: { data: { a: 'b' } }, headers: { 'content-type': 'application/merge-patch+json' } }), 404, 'NotFound', 'patch of a missing object');

  const before = await server.running.engine.currentRevision();
  const noNamespace = assertStatus(t, await server.request('POST', '/api/v1/namespaces/nope/configmaps', { body: configMap('orphan') }), 404, 'NotFound', 'create in a missing namespace');
  t.equal(noNamespace.message, 'namespaces "nope" not found');
  t.match(noNamespace.details, { name: 'nope', kind: 'namespaces' });
  t.equal(await server.running.engine.currentRevision(), before, 'nothing was written');

  for (const path of ['/api/v1/namespaces/default/widgets', '/api/v1/widgets', '/apis/example.com/v1/things', '/apis/apps/v2/namespaces/default/deployments', '/nothing-here', `${CM}/a/b/c`]) {
    assertStatus(t, await server.request('GET', path), 404, 'NotFound', `unknown path ${path}`);
  }
  assertStatus(t, await server.request('GET', `${CM}/exists/status`), 404, 'NotFound', 'a subresource ConfigMaps do not have');
});

t.test('403 Forbidden and 405 MethodNotAllowed are Status objects too', async (t) => {
  const server = await startTestServer(t);
  const forbidden = assertStatus(t, await server.request('DELETE', '/api/v1/namespaces/default'), 403, 'Forbidden', 'delete namespace default');
  t.match(forbidden.message, /default/);
  t.equal((await server.request('GET', '/api/v1/namespaces/default')).status, 200, 'default is still there');
  assertStatus(t, await server.request('POST', `${CM}/x`, { body: configMap('x') }), 405, 'MethodNotAllowed', 'POST to an object');
});

t.test('409 AlreadyExists and Conflict; two concurrent updates from one base: exactly one wins', async (t) => {
  const server = await startTestServer(t);
  const created = await server.request('POST', CM, { body: configMap('one', { v: '0' }) });
  t.equal(created.status, 201);
  const exists = assertStatus(t, await server.request('POST', CM, { body: configMap('one', { v: 'again' }) }), 409, 'AlreadyExists', 'second create');
  t.equal(exists.message, 'configmaps "one" already exists');
  t.match(exists.details, { name: 'one', kind: 'configmaps' });

  const base = created.json as { metadata: { resourceVersion: string } };
  const first = await server.request('PUT', `${CM}/one`, { body: { ...configMap('one', { v: '1' }), metadata: { name: 'one', resourceVersion: base.metadata.resourceVersion } } });
  t.equal(first.status, 200);
  const stale = assertStatus(
    t,
    await server.request('PUT', `${CM}/one`, { body: { ...configMap('one', { v: 'stale' }), metadata: { name: 'one', resourceVersion: base.metadata.resourceVersion } } }),
    409,
    'Conflict',
    'PUT with a stale resourceVersion',
  );
  t.match(stale.message, /^Operation cannot be fulfilled on configmaps "one": the object has been modified/);
  const stored = (await server.request('GET', `${CM}/one`)).json as { data: Record<string, string>; metadata: { resourceVersion: string } };
  t.same(stored.data, { v: '1' }, 'the stale update changed nothing');
  t.equal(stored.metadata.resourceVersion, (first.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
  assertStatus(
    t,
    await server.request('PATCH', `${CM}/one`, { body: { metadata: { resourceVersion: base.metadata.resourceVersion }, data: { v: 'p' } }, headers: { 'content-type': 'application/merge-patch+json' } }),
    409,
    'Conflict',
    'a patch naming a stale resourceVersion',
  );

  for (let round = 0; round < 10; round++) {
    const current = (await server.request('GET', `${CM}/one`)).json as { metadata: { resourceVersion: string } };
    const put = (value: string) =>
      server.request('PUT', `${CM}/one`, { body: { ...configMap('one', { v: value }), metadata: { name: 'one', resourceVersion: current.metadata.resourceVersion } } });
    const results = await Promise.all([put(`a${round}`), put(`b${round}`)]);
    const codes = results.map((result) => result.status).sort();
    t.same(codes, [200, 409], `round ${round}: one update wins, one conflicts`);
    const winner = results.find((result) => result.status === 200)!.json as { data: { v: string } };
    const after = (await server.request('GET', `${CM}/one`)).json as { data: { v: string } };
    t.equal(after.data.v, winner.data.v, `round ${round}: the stored value is the winner's`);
  }
});

t.test('410 Gone: watch and list from a compacted resourceVersion', async (t) => {
  const server = await startTestServer(t, { compactRetainRevisions: 2, compactIntervalMs: 3_600_000 });
  const created = (await server.request('POST', CM, { body: configMap('churn', { n: '0' }) })).json as { metadata: { resourceVersion: string } };
  const oldRevision = Number(created.metadata.resourceVersion);
  let listed = (await server.request('GET', `${CM}?limit=1`)).json as { metadata: { continue?: string } };
  await server.request('POST', CM, { body: configMap('churn-2') });
  listed = (await server.request('GET', `${CM}?limit=1`)).json as { metadata: { continue?: string } };
  const continueToken = listed.metadata.continue;
  t.ok(continueToken, 'a paged list has a continue token');
  for (let n = 1; n <= 30; n++) {
    const response = await server.request('PATCH', `${CM}/churn`, { body: { data: { n: String(n) } }, headers: { 'content-type': 'application/merge-patch+json' } });
    t.equal(response.status, 200);
  }
  const current = await server.running.engine.currentRevision();
  await server.running.engine.compact(current - 2);
  t.ok((await server.running.engine.compactedRevision()) > oldRevision + 1, 'history before the old revision is gone');

  const watch = await openWatch(server.connection, `${CM}?watch=true&resourceVersion=${oldRevision}`);
  t.equal(watch.status, 200, 'a watch answers 200 and reports the error in the stream');
  await waitFor(() => watch.events.length > 0, { what: 'the watch error event' });
  await watch.ended;
  t.match(watch.events, [{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired' } }]);
  t.equal(watch.events.length, 1, 'nothing but the error');

  const list = assertStatus(t, await server.request('GET', `${CM}?resourceVersion=${oldRevision}&resourceVersionMatch=Exact`), 410, 'Expired', 'exact list at a compacted revision');
  t.match(list.message, /too old resource version/);
  const expired = assertStatus(t, await server.request('GET', `${CM}?limit=1&continue=${continueToken}`), 410, 'Expired', 'continue token from before compaction');
  t.match(expired.message, /^The provided continue parameter is too old/, 'worded as Kubernetes words it');

  const fresh = await openWatch(server.connection, `${CM}?watch=true&resourceVersion=${current}`);
  t.equal(fresh.status, 200);
  await server.request('PATCH', `${CM}/churn`, { body: { data: { n: 'after' } }, headers: { 'content-type': 'application/merge-patch+json' } });
  await waitFor(() => fresh.events.find((event) => event.type === 'MODIFIED'), { what: 'a MODIFIED event on a recent watch' });
  fresh.close();
});

t.test('413 RequestEntityTooLarge: over 3 MiB, 10 MiB, and chunked without a length', async (t) => {
  const server = await startTestServer(t);
  const before = await server.running.engine.currentRevision();
  const body = (bytes: number) => JSON.stringify(configMap('big', { blob: 'x'.repeat(bytes) }));
  assertStatus(t, await server.request('POST', CM, { body: body(3 * 1024 * 1024 + 10) }), 413, 'RequestEntityTooLarge', 'just over 3 MiB');
  assertStatus(t, await server.request('POST', CM, { body: body(10 * 1024 * 1024) }), 413, 'RequestEntityTooLarge', '10 MiB');
  assertStatus(t, await server.request('PUT', `${CM}/big`, { body: body(10 * 1024 * 1024) }), 413, 'RequestEntityTooLarge', '10 MiB PUT');

  // No Content-Length: the server must count as it reads.
  const https = await import('node:https');
  const chunked = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = https.request(
      new URL(CM, server.connection.url),
      { method: 'POST', ca: server.connection.caPem, agent: false, headers: { authorization: `Bearer ${server.connection.token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    const piece = 'x'.repeat(256 * 1024);
    request.write('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"blob":"');
    for (let index = 0; index < 40; index++) request.write(piece);
    request.end('"}}');
  });
  t.equal(chunked.status, 413, 'chunked 10 MiB body');
  t.match(JSON.parse(chunked.text), { kind: 'Status', code: 413, reason: 'RequestEntityTooLarge' });

  t.equal((await server.request('POST', CM, { body: body(900 * 1024) })).status, 201, 'a 900 KiB object is fine');
  t.equal(await server.running.engine.currentRevision(), before + 1, 'only the valid create was written');
});

t.test('415 UnsupportedMediaType: protobuf, YAML, unknown patch types', async (t) => {
  const server = await startTestServer(t);
  await server.request('POST', CM, { body: configMap('target') });
  const before = await server.running.engine.currentRevision();
  const protobuf = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f]);
  const status = assertStatus(t, await server.request('POST', CM, { body: protobuf, headers: { 'content-type': 'application/vnd.kubernetes.protobuf' } }), 415, 'UnsupportedMediaType', 'protobuf create');
  t.match(status.message, /application\/vnd\.kubernetes\.protobuf/);
  assertStatus(t, await server.request('PUT', `${CM}/target`, { body: protobuf, headers: { 'content-type': 'application/vnd.kubernetes.protobuf' } }), 415, 'UnsupportedMediaType', 'protobuf update');
  assertStatus(t, await server.request('POST', CM, { body: 'kind: ConfigMap', headers: { 'content-type': 'application/yaml' } }), 415, 'UnsupportedMediaType', 'YAML');
  assertStatus(t, await server.request('PATCH', `${CM}/target`, { body: 'data: {}', headers: { 'content-type': 'application/apply-patch+yaml' } }), 415, 'UnsupportedMediaType', 'server-side apply');
  assertStatus(t, await server.request('PATCH', `${CM}/target`, { body: '{}', headers: { 'content-type': 'text/plain' } }), 415, 'UnsupportedMediaType', 'text/plain patch');
  t.equal(await server.running.engine.currentRevision(), before, 'nothing was written');
});

t.test('422 Invalid: every bad field is listed in details.causes', async (t) => {
  const server = await startTestServer(t);
  const before = await server.running.engine.currentRevision();
  const badConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'Bad_Name', labels: { 'bad key!': 'ok', good: 'v'.repeat(64) } },
    data: { 'bad/key': 'x' },
  };
  const cm = assertStatus(t, await server.request('POST', CM, { body: badConfigMap }), 422, 'Invalid', 'ConfigMap with four bad fields');
  t.match(cm.message, /^ConfigMap "Bad_Name" is invalid: /);
  t.match(cm.details, { name: 'Bad_Name', kind: 'ConfigMap' });
  const cmFields = (cm.details?.causes ?? []).map((cause) => cause.field);
  for (const field of ['metadata.name', 'metadata.labels', 'data']) {
    t.ok(cmFields.some((reported) => reported === field || reported?.startsWith(`${field}[`)), `causes name ${field} (got ${JSON.stringify(cmFields)})`);
  }
  t.ok(cmFields.length >= 4, 'one cause per problem (two labels are bad)');
  for (const cause of cm.details?.causes ?? []) {
    t.type(cause.field, 'string');
    t.type(cause.reason, 'string');
    t.type(cause.message, 'string');
  }

  const bad = deployment('web');
  bad.spec.replicas = -1;
  const pod = (bad.spec.template as { spec: { restartPolicy?: string; containers: Array<Record<string, unknown>> } }).spec;
  pod.restartPolicy = 'Sometimes';
  pod.containers[0]!.ports = [{ containerPort: 0 }, { containerPort: 65536 }];
  pod.containers[0]!.resources = { limits: { memory: '-5Mi', cpu: 'abc' } };
  const invalid = assertStatus(t, await server.request('POST', DEPLOY, { body: bad }), 422, 'Invalid', 'Deployment with many bad fields');
  t.match(invalid.details, { name: 'web', kind: 'Deployment', group: 'apps' });
  const fields = (invalid.details?.causes ?? []).map((cause) => cause.field);
  const container = 'spec.template.spec.containers[0]';
  for (const field of [
    'spec.replicas',
    'spec.template.spec.restartPolicy',
    `${container}.ports[0].containerPort`,
    `${container}.ports[1].containerPort`,
    `${container}.resources.limits[memory]`,
    `${container}.resources.limits[cpu]`,
  ]) {
    t.ok(fields.includes(field), `causes name ${field} (got ${JSON.stringify(fields)})`);
  }
  t.equal(await server.running.engine.currentRevision(), before, 'nothing was written');
  t.equal((await server.request('GET', `${DEPLOY}/web`)).status, 404);
});

t.test('a request that fails mid-way leaves the server serving', async (t) => {
  const server = await startTestServer(t);
  const results = await Promise.all([
    server.request('POST', CM, { body: '{' }),
    server.request('GET', `${CM}/nope`),
    server.request('POST', CM, { body: configMap('ok') }),
    apiRequest(server.connection, 'GET', CM, { authorization: null }),
  ]);
  t.same(results.map((result) => result.status), [400, 404, 201, 401]);
  t.equal((await server.request('GET', `${CM}/ok`)).status, 200);
});

t.test('pods/eviction: a policy/v1 Eviction is a graceful delete honouring its deleteOptions', async (t) => {
  const server = await startTestServer(t);
  const PODS = '/api/v1/namespaces/default/pods';
  const pod = (name: string, nodeName?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'main', command: ['sleep', '100'] }] },
  });
  const eviction = (name: string, deleteOptions: Record<string, unknown> = {}) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, deleteOptions });
  t.equal((await server.request('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } })).status, 201);
  t.equal((await server.request('POST', PODS, { body: pod('pending') })).status, 201);
  t.equal((await server.request('POST', PODS, { body: pod('running', 'n1') })).status, 201);

  const dryRun = await server.request('POST', `${PODS}/pending/eviction?dryRun=All`, { body: eviction('pending') });
  t.equal(dryRun.status, 201, 'a dry-run eviction succeeds');
  t.equal((await server.request('GET', `${PODS}/pending`)).status, 200, 'and leaves the pod');

  const evicted = await server.request('POST', `${PODS}/pending/eviction`, { body: eviction('pending') });
  t.equal(evicted.status, 201);
  t.match(evicted.json, { kind: 'Status', status: 'Success' });
  assertStatus(t, await server.request('GET', `${PODS}/pending`), 404, 'NotFound', 'an unbound pod goes at once');

  const asked = Date.now();
  t.equal((await server.request('POST', `${PODS}/running/eviction`, { body: eviction('running', { gracePeriodSeconds: 7 }) })).status, 201);
  const terminating = (await server.request('GET', `${PODS}/running`)).json as { metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } };
  t.ok(terminating.metadata.deletionTimestamp, 'a pod on a node is deleted gracefully: its agent confirms');
  // As Kubernetes: the moment the pod should be gone, the request plus its grace period (to the second).
  const due = Date.parse(terminating.metadata.deletionTimestamp!);
  t.ok(due >= Math.floor(asked / 1000) * 1000 + 7000 && due <= Date.now() + 7000, `deletionTimestamp is the request + 7 s (${terminating.metadata.deletionTimestamp})`);
  t.equal(terminating.metadata.deletionGracePeriodSeconds, 7, 'with the grace period of the Eviction\'s deleteOptions');
  type Meta = { metadata: { deletionTimestamp: string; deletionGracePeriodSeconds: number; resourceVersion: string } };
  const longer = (await server.request('DELETE', `${PODS}/running`, { body: { gracePeriodSeconds: 20 } })).json as Meta;
  t.same([longer.metadata.deletionTimestamp, longer.metadata.deletionGracePeriodSeconds], [terminating.metadata.deletionTimestamp, 7], 'a longer grace period changes nothing');
  const shorter = (await server.request('DELETE', `${PODS}/running`, { body: { gracePeriodSeconds: 2 } })).json as Meta;
  t.equal(shorter.metadata.deletionGracePeriodSeconds, 2, 'a shorter one is taken');
  t.equal(Date.parse(shorter.metadata.deletionTimestamp), due - 5000, 'and moves deletionTimestamp 5 s earlier');

  assertStatus(t, await server.request('POST', `${PODS}/nobody/eviction`, { body: eviction('nobody') }), 404, 'NotFound', 'evicting a missing pod');
  assertStatus(t, await server.request('POST', `${PODS}/running/eviction`, { body: eviction('other') }), 400, 'BadRequest', 'the Eviction names another pod');
  assertStatus(t, await server.request('POST', `${PODS}/running/eviction`, { body: { kind: 'Binding' } }), 400, 'BadRequest', 'not an Eviction');
  assertStatus(t, await server.request('POST', `${PODS}/running/eviction`, { body: eviction('running', { gracePeriodSeconds: -3 }) }), 400, 'BadRequest', 'bad deleteOptions');
  assertStatus(t, await server.request('GET', `${PODS}/running/eviction`), 405, 'MethodNotAllowed', 'GET of an eviction');
});

t.test('Table lists carry `continue`, so kubectl pages past its limit of 500', async (t) => {
  const server = await startTestServer(t);
  for (const name of ['a', 'b', 'c']) await server.request('POST', CM, { body: configMap(name) });
  const table = (await server.request('GET', `${CM}?limit=2`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } })).json as {
    kind: string;
    rows: unknown[];
    metadata: { continue?: string };
  };
  t.equal(table.kind, 'Table');
  t.equal(table.rows.length, 2);
  t.ok(table.metadata.continue, 'the Table names where to continue');
  const rest = (await server.request('GET', `${CM}?limit=2&continue=${encodeURIComponent(table.metadata.continue!)}`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })).json as { rows: unknown[]; metadata: { continue?: string } };
  t.equal(rest.rows.length, 1);
  t.notOk(rest.metadata.continue);
});

t.test('the all-namespaces path of a namespaced kind is read-only (405)', async (t) => {
  const server = await startTestServer(t);
  await server.request('POST', CM, { body: configMap('keep') });
  assertStatus(t, await server.request('POST', '/api/v1/configmaps', { body: configMap('nowhere') }), 405, 'MethodNotAllowed');
  assertStatus(t, await server.request('DELETE', '/api/v1/configmaps'), 405, 'MethodNotAllowed');
  t.equal((await server.request('GET', `${CM}/keep`)).status, 200, 'nothing was deleted');
});
