import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import type { Probe } from '../../../src/api/kinds/container.js';
import { startContainerProbes } from '../../../src/runtime/probes/container-probes.js';
import type { ProbeKind } from '../../../src/runtime/probes/prober.js';
import { waitFor } from '../../helpers/wait.js';

/** 10 s periods become 50 ms; a timeoutSeconds of 200 becomes 1 s. */
const SCALE = 0.005;
const TARGET = { host: '127.0.0.1', ports: {}, env: {} };

/** One server with a status per path (/startup, /live, /ready) and a hit count per path. */
async function pathServer(t: Test, statuses: Record<string, number>): Promise<{ port: number; statuses: Record<string, number>; hits: Record<string, number> }> {
  const hits: Record<string, number> = {};
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    hits[url] = (hits[url] ?? 0) + 1;
    response.statusCode = statuses[url] ?? 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, statuses, hits };
}

const probeAt = (port: number, path: string, extra: Partial<Probe> = {}): Probe => ({ httpGet: { port, path }, periodSeconds: 10, timeoutSeconds: 200, ...extra });

function start(t: Test, probes: { startup?: Probe; liveness?: Probe; readiness?: Probe }) {
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const results: { kind: ProbeKind; healthy: boolean; message: string }[] = [];
  let ended = false;
  const probers = startContainerProbes({
    probes,
    target: TARGET,
    signal: controller.signal,
    timeScale: SCALE,
    onResult: (kind, healthy, message) => results.push({ kind, healthy, message }),
  });
  void probers.done.then(() => (ended = true));
  return { controller, results, probers, ended: () => ended };
}

t.test('liveness and readiness wait for the startup probe to succeed', async (t) => {
  const server = await pathServer(t, { '/startup': 503, '/live': 200, '/ready': 200 });
  const run = start(t, {
    startup: probeAt(server.port, '/startup', { failureThreshold: 100 }),
    liveness: probeAt(server.port, '/live'),
    readiness: probeAt(server.port, '/ready'),
  });
  await waitFor(() => (server.hits['/startup'] ?? 0) >= 5, { what: 'failing startup probes' });
  t.same(run.results, [], 'startup failures below its threshold report nothing');
  t.equal(server.hits['/live'], undefined, 'no liveness probe before startup succeeded');
  t.equal(server.hits['/ready'], undefined, 'no readiness probe before startup succeeded');
  t.same(run.probers.probers().map((prober) => prober.kind), ['startup']);

  server.statuses['/startup'] = 200;
  await waitFor(() => run.results.length === 3, { what: 'startup, liveness and readiness results' });
  t.same(run.results[0], { kind: 'startup', healthy: true, message: '' });
  t.same(new Set(run.results.slice(1).map((result) => `${result.kind}=${result.healthy}`)), new Set(['liveness=true', 'readiness=true']));
  const startupHits = server.hits['/startup'];
  await waitFor(() => (server.hits['/ready'] ?? 0) >= 4, { what: 'readiness to keep probing' });
  t.equal(server.hits['/startup'], startupHits, 'startup stops probing once it succeeded');
  t.same(run.probers.probers().map((prober) => prober.kind).sort(), ['liveness', 'readiness']);
  t.equal(run.ended(), false);
  run.controller.abort();
  await run.probers.done;
});

t.test('a startup probe that fails failureThreshold times asks for a restart and ends probing', async (t) => {
  const server = await pathServer(t, { '/startup': 500, '/live': 200, '/ready': 200 });
  const run = start(t, {
    startup: probeAt(server.port, '/startup', { failureThreshold: 4 }),
    liveness: probeAt(server.port, '/live'),
    readiness: probeAt(server.port, '/ready'),
  });
  await run.probers.done;
  t.same(run.results, [{ kind: 'startup', healthy: false, message: 'HTTP probe failed with statuscode: 500' }]);
  t.equal(server.hits['/startup'], 4);
  t.equal(server.hits['/live'], undefined);
  t.equal(server.hits['/ready'], undefined);
});

t.test('without a startup probe, liveness and readiness start at once', async (t) => {
  const server = await pathServer(t, { '/live': 200, '/ready': 200 });
  const run = start(t, { liveness: probeAt(server.port, '/live'), readiness: probeAt(server.port, '/ready') });
  await waitFor(() => run.results.length === 2, { what: 'liveness and readiness results' });
  t.same(run.results.map((result) => result.kind).sort(), ['liveness', 'readiness']);
});

t.test('no probes at all: nothing runs and done resolves', async (t) => {
  const run = start(t, {});
  await run.probers.done;
  t.same(run.probers.probers(), []);
});

t.test('an abort while startup runs ends everything', async (t) => {
  const server = await pathServer(t, { '/startup': 500, '/live': 200 });
  const run = start(t, { startup: probeAt(server.port, '/startup', { failureThreshold: 1000 }), liveness: probeAt(server.port, '/live') });
  await waitFor(() => (server.hits['/startup'] ?? 0) >= 2, { what: 'startup probes' });
  run.controller.abort();
  await run.probers.done;
  const hits = server.hits['/startup'];
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(server.hits['/startup'], hits, 'no probe after the abort');
  t.equal(server.hits['/live'], undefined);
});
