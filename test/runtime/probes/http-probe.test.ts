import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import type { Probe } from '../../../src/api/kinds/container.js';
import { ensureServerCertificates } from '../../../src/daemon/server/api/tls.js';
import { PROBE_USER_AGENT } from '../../../src/runtime/probes/http-probe.js';
import { PROBE_OUTPUT_LIMIT } from '../../../src/runtime/probes/probe-result.js';
import { runProbe } from '../../../src/runtime/probes/run-probe.js';
import type { ProbeTarget } from '../../../src/runtime/probes/run-probe.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** A real server on 127.0.0.1:0, closed (connections included) when the test ends. */
async function serve(t: Test, handler: Handler, server: http.Server = http.createServer()): Promise<{ port: number; hits: string[]; headers: http.IncomingHttpHeaders[] }> {
  const hits: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    hits.push(request.url ?? '');
    headers.push(request.headers);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, hits, headers };
}

function target(overrides: Partial<ProbeTarget> = {}): ProbeTarget {
  return { host: '127.0.0.1', ports: {}, env: {}, signal: new AbortController().signal, ...overrides };
}

function httpProbe(port: number | string, path = '/healthz', extra: Partial<NonNullable<Probe['httpGet']>> = {}, timeoutSeconds = 1): Probe {
  return { httpGet: { port, path, ...extra }, timeoutSeconds };
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('200 is a success whose message is the body; the kubelet headers are sent', async (t) => {
  const server = await serve(t, (_request, response) => response.end('ok'));
  const result = await runProbe(httpProbe(server.port), target());
  t.same(result, { outcome: 'success', message: 'ok' });
  t.same(server.hits, ['/healthz']);
  t.equal(server.headers[0]?.['user-agent'], PROBE_USER_AGENT);
  t.equal(server.headers[0]?.accept, '*/*');
  t.equal(server.headers[0]?.connection, 'close', 'no keep-alive, as the kubelet');
  t.equal(server.headers[0]?.host, `127.0.0.1:${server.port}`);
});

t.test('every status from 200 to 399 that is not followed is healthy; 400 and up fail without the body', async (t) => {
  let status = 200;
  const server = await serve(t, (_request, response) => {
    response.statusCode = status;
    response.end('secret body');
  });
  for (const code of [200, 204, 299, 304]) {
    status = code;
    t.equal((await runProbe(httpProbe(server.port), target())).outcome, 'success', `${code}`);
  }
  for (const code of [400, 404, 500, 503]) {
    status = code;
    t.same(await runProbe(httpProbe(server.port), target()), { outcome: 'failure', message: `HTTP probe failed with statuscode: ${code}` });
  }
});

t.test('a slow server fails at the timeout with Go\'s deadline message', async (t) => {
  const server = await serve(t, () => undefined);
  const started = Date.now();
  const result = await runProbe(httpProbe(server.port), target(), { timeoutMs: 300 });
  const elapsed = Date.now() - started;
  t.same(result, {
    outcome: 'failure',
    message: `Get "http://127.0.0.1:${server.port}/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
  t.ok(elapsed >= 290 && elapsed < 2000, `took ${elapsed} ms`);
});

t.test('timeoutSeconds is the deadline when no override is given', async (t) => {
  const server = await serve(t, () => undefined);
  const started = Date.now();
  const result = await runProbe(httpProbe(server.port, '/slow', {}, 1), target());
  const elapsed = Date.now() - started;
  t.equal(result.outcome, 'failure');
  t.ok(elapsed >= 990 && elapsed < 3000, `took ${elapsed} ms`);
});

t.test('a body that never ends is a probe error (unknown), as in Kubernetes', async (t) => {
  const server = await serve(t, (_request, response) => {
    response.writeHead(200);
    response.write('partial');
  });
  const result = await runProbe(httpProbe(server.port), target(), { timeoutMs: 300 });
  t.same(result, {
    outcome: 'unknown',
    message: `Get "http://127.0.0.1:${server.port}/healthz": context deadline exceeded (Client.Timeout or context cancellation while reading body)`,
  });
});

t.test('connection refused', async (t) => {
  const port = await freePort();
  t.same(await runProbe(httpProbe(port, '/'), target()), {
    outcome: 'failure',
    message: `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
});

t.test('a server that closes without answering is EOF', async (t) => {
  const server = await serve(t, (request) => request.socket.destroy());
  t.same(await runProbe(httpProbe(server.port), target()), { outcome: 'failure', message: `Get "http://127.0.0.1:${server.port}/healthz": EOF` });
});

t.test('redirects to the same host are followed', async (t) => {
  let finalStatus = 200;
  const server = await serve(t, (request, response) => {
    if (request.url === '/healthz') {
      response.writeHead(302, { location: '/real' });
      response.end();
    } else if (request.url === '/real') {
      response.writeHead(301, { location: `http://127.0.0.1:${server.port}/final` });
      response.end();
    } else {
      response.statusCode = finalStatus;
      response.end('final');
    }
  });
  t.same(await runProbe(httpProbe(server.port), target()), { outcome: 'success', message: 'final' });
  t.same(server.hits, ['/healthz', '/real', '/final']);
  finalStatus = 500;
  t.same(await runProbe(httpProbe(server.port), target()), { outcome: 'failure', message: 'HTTP probe failed with statuscode: 500' });
});

t.test('a redirect to another host is a success with a warning, and is not followed', async (t) => {
  const other = await serve(t, (_request, response) => {
    response.statusCode = 500;
    response.end();
  });
  const server = await serve(t, (_request, response) => {
    response.writeHead(302, { location: `http://localhost:${other.port}/elsewhere` });
    response.end('moved');
  });
  t.same(await runProbe(httpProbe(server.port), target()), { outcome: 'success', warning: true, message: 'Probe terminated redirects, Response body: moved' });
  t.same(other.hits, [], 'the other host is never asked');
});

t.test('a redirect loop stops after 10 redirects', async (t) => {
  const server = await serve(t, (request, response) => {
    const step = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('n') ?? '0');
    response.writeHead(302, { location: `/loop?n=${step + 1}` });
    response.end();
  });
  const result = await runProbe(httpProbe(server.port, '/loop'), target());
  t.same(result, { outcome: 'failure', message: `Get "http://127.0.0.1:${server.port}/loop?n=10": stopped after 10 redirects` });
  t.equal(server.hits.length, 10);
});

t.test('custom headers, a Host header, and overriding the user agent', async (t) => {
  const server = await serve(t, (_request, response) => response.end());
  const headers = [
    { name: 'X-Custom', value: 'one' },
    { name: 'x-custom', value: 'two' },
    { name: 'Host', value: 'app.example' },
    { name: 'User-Agent', value: 'mine' },
  ];
  t.equal((await runProbe(httpProbe(server.port, '/h', { httpHeaders: headers }), target())).outcome, 'success');
  const received = server.headers[0];
  t.equal(received?.['x-custom'], 'one, two', 'repeated names are all sent');
  t.equal(received?.host, 'app.example');
  t.equal(received?.['user-agent'], 'mine');
});

t.test('the response body is read up to 10 KiB only', async (t) => {
  const server = await serve(t, (_request, response) => {
    response.writeHead(200);
    // Far more than the limit and never finished: the probe must stop reading on its own.
    response.write('a'.repeat(200 * 1024));
  });
  const result = await runProbe(httpProbe(server.port), target(), { timeoutMs: 5000 });
  t.equal(result.outcome, 'success');
  t.equal(result.message.length, PROBE_OUTPUT_LIMIT);
});

t.test('named ports resolve from the container; an unknown name is a probe error', async (t) => {
  const server = await serve(t, (_request, response) => response.end('named'));
  t.same(await runProbe(httpProbe('http'), target({ ports: { http: server.port } })), { outcome: 'success', message: 'named' });
  t.same(await runProbe(httpProbe('web'), target({ ports: { http: server.port } })), { outcome: 'unknown', message: 'port web not found' });
});

t.test('the probe host field wins over the target host', async (t) => {
  const server = await serve(t, (_request, response) => response.end('via host'));
  t.same(await runProbe(httpProbe(server.port, '/', { host: '127.0.0.1' }), target({ host: '192.0.2.1' })), { outcome: 'success', message: 'via host' });
});

t.test('HTTPS does not verify the certificate, as the kubelet', async (t) => {
  const certificates = await ensureServerCertificates(t.testdir());
  const server = await serve(t, (_request, response) => response.end('tls'), https.createServer({ cert: certificates.certPem, key: certificates.keyPem }));
  t.same(await runProbe(httpProbe(server.port, '/', { scheme: 'HTTPS' }), target()), { outcome: 'success', message: 'tls' });
});

t.test('an abort ends the request at once as a probe error', async (t) => {
  const server = await serve(t, () => undefined);
  const controller = new AbortController();
  const started = Date.now();
  const pending = runProbe(httpProbe(server.port, '/', {}, 30), target({ signal: controller.signal }));
  setTimeout(() => controller.abort(), 100);
  t.same(await pending, { outcome: 'unknown', message: 'probe aborted' });
  t.ok(Date.now() - started < 2000);
  t.same(await runProbe(httpProbe(server.port), target({ signal: controller.signal })), { outcome: 'unknown', message: 'probe aborted' }, 'already aborted');
});

t.test('a gRPC probe is reported as unsupported, not as a failure', async (t) => {
  const result = await runProbe({ grpc: { port: 9000 } }, target());
  t.equal(result.outcome, 'unknown');
  t.match(result.message, /grpc probes are not supported/);
});
