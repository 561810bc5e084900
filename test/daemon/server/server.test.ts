import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { resolveResource } from '../../../src/api/resources.js';
import { InProcessClient } from '../../../src/client/in-process-client.js';
import { parseListen, startServer } from '../../../src/daemon/server/server.js';
import { createLogger, silentLogger } from '../../../src/lib/logger.js';
import { waitFor } from '../../helpers/wait.js';

const configMaps = resolveResource('configmaps')!;
const events = resolveResource('events')!;

t.test('first start: HTTPS, an admin token kept only as a hash, a 0600 client config with the CA', async (t) => {
  const dataDir = t.testdir();
  const running = await startServer({ dataDir, listen: '127.0.0.1:0', logger: silentLogger, version: 'test' });
  t.teardown(() => running.stop());
  t.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const kubeconfigText = await readFile(running.kubeconfigPath, 'utf8');
  t.equal((await stat(running.kubeconfigPath)).mode & 0o777, 0o600, 'kubeconfig mode 0600');
  const kubeconfig = parse(kubeconfigText) as { clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ user: { token: string } }> };
  t.equal(kubeconfig.clusters[0]!.cluster.server, running.url);
  t.match(Buffer.from(kubeconfig.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString(), /BEGIN CERTIFICATE/);
  const token = kubeconfig.users[0]!.user.token;
  const tokens = await readFile(path.join(dataDir, 'tokens.json'), 'utf8');
  t.equal((await stat(path.join(dataDir, 'tokens.json'))).mode & 0o777, 0o600, 'tokens.json mode 0600');
  t.notOk(tokens.includes(token), 'the token file holds no plaintext token');
  t.notOk(tokens.includes(token.split('.')[1]!), 'nor its secret part');
});

t.test('--insecure-http serves plain HTTP and says so loudly', async (t) => {
  const lines: string[] = [];
  const running = await startServer({
    dataDir: t.testdir(),
    listen: '127.0.0.1:0',
    logger: createLogger({ write: (line) => void lines.push(line) }),
    version: 'test',
    insecureHttp: true,
  });
  t.teardown(() => running.stop());
  t.match(running.url, /^http:\/\//);
  const warning = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).find((entry) => entry.level === 'warn');
  t.match(warning?.msg, /plain HTTP/);
  const config = parse(await readFile(running.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: Record<string, unknown> }> };
  t.equal(config.clusters[0]!.cluster['insecure-skip-tls-verify'], true);
});

t.test('Events expire after --event-ttl; the compaction timer keeps history to --compact-retain', async (t) => {
  const running = await startServer({
    dataDir: t.testdir(),
    listen: '127.0.0.1:0',
    logger: silentLogger,
    version: 'test',
    eventTtlSeconds: 1,
    expireIntervalMs: 100,
    compactIntervalMs: 100,
    compactRetainRevisions: 10,
  });
  t.teardown(() => running.stop());
  const client = new InProcessClient(running.api);
  await client.create(events, 'default', {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'short-lived' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Testing',
    message: 'gone within seconds',
    type: 'Normal',
  });
  await client.create(configMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' }, data: { a: '1' } });
  await waitFor(async () => (await client.list(events, 'default')).items.length === 0, { timeout: 5000, what: 'the Event to expire' });
  t.equal((await client.list(configMaps, 'default')).items.length, 1, 'other kinds never expire');

  for (let index = 0; index < 30; index++) {
    await client.patch(configMaps, 'default', 'kept', 'application/merge-patch+json', { data: { a: String(index) } });
  }
  const current = await running.engine.currentRevision();
  await waitFor(async () => (await running.engine.compactedRevision()) >= current - 10, { timeout: 5000, what: 'compaction' });
  t.same((await client.get(configMaps, 'default', 'kept')).data, { a: '29' }, 'the latest version survives compaction');
});

t.test('--listen takes HOST:PORT, [IPv6]:PORT and :PORT', async (t) => {
  t.same(parseListen('0.0.0.0:6443'), { host: '0.0.0.0', port: 6443 });
  t.same(parseListen('[::1]:8443'), { host: '::1', port: 8443 });
  t.same(parseListen(':6443'), { host: '', port: 6443 });
  t.throws(() => parseListen('6443'), /HOST:PORT/);
  t.throws(() => parseListen('a:70000'), /out of range/);
});

t.test('a stop does not wait on a connection the HTTP layer cannot see (a TLS handshake never finished)', async (t) => {
  const running = await startServer({ dataDir: t.testdir(), listen: '127.0.0.1:0', logger: silentLogger, version: 'test' });
  // Connected, silent: no ClientHello, so HTTPS never hands it to the HTTP server (its handshake
  // timeout is 120 s), yet the listener's close waits for every TCP connection.
  const silent = net.connect(running.port, '127.0.0.1');
  silent.on('error', () => undefined);
  await new Promise((resolve) => silent.once('connect', resolve));
  const ended = new Promise((resolve) => silent.once('close', resolve));
  const began = Date.now();
  await running.stop();
  t.ok(Date.now() - began < 5_000, `stopped in ${Date.now() - began} ms`);
  await ended;
  t.ok(silent.destroyed, 'the silent connection was closed by the server');
});
