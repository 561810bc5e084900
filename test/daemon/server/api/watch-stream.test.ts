import https from 'node:https';
import t from 'tap';
import type { Connection } from '../../../helpers/api-request.js';
import { configMap, openWatch, startTestServer } from '../../../helpers/api-request.js';
import { waitFor } from '../../../helpers/wait.js';

const CM = '/api/v1/namespaces/default/configmaps';

/** A watch read as raw text, so blank keep-alive lines are visible too. */
function rawWatch(connection: Connection, path: string, headers: Record<string, string> = {}) {
  let text = '';
  let ended = false;
  let statusCode = 0;
  let contentType = '';
  const request = https.request(
    new URL(path, connection.url),
    { headers: { authorization: `Bearer ${connection.token}`, ...headers }, agent: false, ca: connection.caPem },
    (response) => {
      statusCode = response.statusCode ?? 0;
      contentType = String(response.headers['content-type']);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => (ended = true));
    },
  );
  request.on('error', () => (ended = true));
  request.end();
  return {
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    get status() {
      return statusCode;
    },
    get contentType() {
      return contentType;
    },
    close: () => request.destroy(),
  };
}

t.test('headers arrive at once; an idle watch gets blank keep-alive lines', async (t) => {
  const server = await startTestServer(t, { watchHeartbeatMs: 100 });
  const watch = rawWatch(server.connection, `${CM}?watch=true&resourceVersion=1`);
  t.teardown(watch.close);
  await waitFor(() => watch.status === 200, { what: 'the response headers' });
  t.match(watch.contentType, /^application\/json/);
  await waitFor(() => watch.text.split('\n').length > 3, { what: 'three heartbeats' });
  t.equal(watch.text.trim(), '', 'nothing but newlines while idle');
});

t.test('with allowWatchBookmarks the heartbeat is a BOOKMARK carrying the latest revision', async (t) => {
  const server = await startTestServer(t, { watchHeartbeatMs: 100 });
  const created = (await server.request('POST', CM, { body: configMap('marked') })).json as { metadata: { resourceVersion: string } };
  const watch = rawWatch(server.connection, `${CM}?watch=true&allowWatchBookmarks=true&resourceVersion=${created.metadata.resourceVersion}`);
  t.teardown(watch.close);
  const updated = (await server.request('PUT', `${CM}/marked`, { body: configMap('marked', { key: 'changed' }) })).json as { metadata: { resourceVersion: string } };
  const events = () => watch.text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as { type: string; object: { kind: string; metadata: { resourceVersion: string } } });
  // A bookmark sent before the update committed carries the earlier revision; wait for one after it.
  const bookmark = await waitFor(() => events().find((event) => event.type === 'BOOKMARK' && event.object.metadata.resourceVersion === updated.metadata.resourceVersion), { what: 'a bookmark at the update' });
  t.equal(events().find((event) => event.type !== 'BOOKMARK')?.type, 'MODIFIED');
  t.same(bookmark.object, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: updated.metadata.resourceVersion } });
  t.ok(events().filter((event) => event.type === 'BOOKMARK').every((event) => Number(event.object.metadata.resourceVersion) <= Number(updated.metadata.resourceVersion)), 'no bookmark runs ahead of the store');
});

t.test('timeoutSeconds ends the stream; stopping the server ends open watches cleanly', async (t) => {
  const server = await startTestServer(t);
  const timed = rawWatch(server.connection, `${CM}?watch=true&timeoutSeconds=1`);
  t.teardown(timed.close);
  await waitFor(() => timed.ended, { timeout: 5000, what: 'the watch to end after timeoutSeconds' });
  const open = await openWatch(server.connection, `${CM}?watch=true`);
  t.teardown(open.close);
  t.equal(open.status, 200);
  const started = Date.now();
  await server.running.stop();
  await open.ended;
  t.ok(Date.now() - started < 5000, 'the server stopped without waiting for the watch');
});

t.test('a watch asking for a Table gets one-row Tables, as kubectl get -w expects', async (t) => {
  const server = await startTestServer(t);
  const watch = rawWatch(server.connection, `${CM}?watch=true&resourceVersion=1`, {
    accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
  });
  t.teardown(watch.close);
  await waitFor(() => watch.status === 200, { what: 'the response headers' });
  await server.request('POST', CM, { body: configMap('tabled', { a: '1', b: '2' }) });
  await waitFor(() => watch.text.includes('tabled'), { what: 'the ADDED row' });
  const event = JSON.parse(watch.text.trim().split('\n')[0]!) as { type: string; object: { kind: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[]; object: { kind: string } }> } };
  t.equal(event.type, 'ADDED');
  t.equal(event.object.kind, 'Table');
  t.same(event.object.columnDefinitions.map((column) => column.name).slice(0, 2), ['Name', 'Data']);
  t.equal(event.object.rows.length, 1);
  t.same(event.object.rows[0]!.cells.slice(0, 2), ['tabled', 2]);
  t.equal(event.object.rows[0]!.object.kind, 'PartialObjectMetadata');
});

t.test('health endpoints answer without a token', async (t) => {
  const server = await startTestServer(t);
  for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
    const response = await server.request('GET', path, { authorization: null });
    t.equal(response.status, 200, path);
  }
  const protectedPath = await server.request('GET', '/api/v1/namespaces', { authorization: null });
  t.equal(protectedPath.status, 401);
});

t.test('bookmarks advance with writes to other kinds, so a quiet watcher keeps up with compaction', async (t) => {
  const server = await startTestServer(t, { watchHeartbeatMs: 100 });
  const start = (await server.request('GET', CM)).json as { metadata: { resourceVersion: string } };
  const watch = rawWatch(server.connection, `${CM}?watch=true&allowWatchBookmarks=true&resourceVersion=${start.metadata.resourceVersion}`);
  t.teardown(watch.close);
  const secret = (await server.request('POST', '/api/v1/namespaces/default/secrets', {
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'elsewhere' }, data: { a: 'Yg==' } },
  })).json as { metadata: { resourceVersion: string } };
  await waitFor(() => watch.text.includes(`"resourceVersion":"${secret.metadata.resourceVersion}"`), { what: 'a bookmark at the secret write' });
  t.notOk(watch.text.includes('"ADDED"'), 'the secret itself is not sent to a configmap watch');
});
