import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { runProbe } from '../../../src/runtime/probes/run-probe.js';
import type { ProbeTarget } from '../../../src/runtime/probes/run-probe.js';
import { waitFor } from '../../helpers/wait.js';

const needsPython = spawnSync('python3', ['-c', 'pass']).status === 0 ? {} : { skip: 'python3 is needed to hold a full accept queue and is not installed' };

function target(overrides: Partial<ProbeTarget> = {}): ProbeTarget {
  return { host: '127.0.0.1', ports: {}, env: {}, signal: new AbortController().signal, ...overrides };
}

async function listen(t: Test): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

/**
 * A port whose accept queue is full, so new connections hang in SYN-SENT: the only reliable way
 * to make a loopback connect time out. A small Python process listens with backlog 0, never
 * accepts, and fills the queue itself.
 */
async function blackHolePort(t: Test): Promise<number> {
  const script = [
    'import socket, sys, time',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'port = s.getsockname()[1]; clients = []',
    'for _ in range(4):',
    '    c = socket.socket(); c.setblocking(False); c.connect_ex(("127.0.0.1", port)); clients.append(c)',
    'time.sleep(0.2); print(port, flush=True); time.sleep(60)',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
}

t.test('a listening port is healthy; the connection is opened and closed', async (t) => {
  const server = await listen(t);
  t.same(await runProbe({ tcpSocket: { port: server.port } }, target()), { outcome: 'success', message: '' });
  // The server counts the connection when it gets to it, which may be after the probe's connect.
  await waitFor(() => server.connections() === 1, { what: 'the server to see one connection' });
  t.equal(server.connections(), 1);
});

t.test('named ports resolve, and an unknown name is a probe error', async (t) => {
  const server = await listen(t);
  t.equal((await runProbe({ tcpSocket: { port: 'db' } }, target({ ports: { db: server.port } }))).outcome, 'success');
  t.same(await runProbe({ tcpSocket: { port: 'nope' } }, target()), { outcome: 'unknown', message: 'port nope not found' });
});

t.test('connection refused fails with the kubelet message', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  t.same(await runProbe({ tcpSocket: { port } }, target()), { outcome: 'failure', message: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
});

t.test('a connect that hangs fails at the timeout', needsPython, async (t) => {
  const port = await blackHolePort(t);
  const started = Date.now();
  const result = await runProbe({ tcpSocket: { port } }, target(), { timeoutMs: 300 });
  const elapsed = Date.now() - started;
  t.same(result, { outcome: 'failure', message: `dial tcp 127.0.0.1:${port}: i/o timeout` });
  t.ok(elapsed >= 290 && elapsed < 2000, `took ${elapsed} ms`);
});

t.test('an abort ends a hanging connect as a probe error', needsPython, async (t) => {
  const port = await blackHolePort(t);
  const controller = new AbortController();
  const pending = runProbe({ tcpSocket: { port }, timeoutSeconds: 30 }, target({ signal: controller.signal }));
  setTimeout(() => controller.abort(), 100);
  t.same(await pending, { outcome: 'unknown', message: 'probe aborted' });
});
