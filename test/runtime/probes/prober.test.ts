import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { Probe } from '../../../src/api/kinds/container.js';
import type { ProbeResult } from '../../../src/runtime/probes/probe-result.js';
import { Prober, probeEvent, probeTimings } from '../../../src/runtime/probes/prober.js';
import type { ProbeKind, ProberOptions } from '../../../src/runtime/probes/prober.js';
import { waitFor } from '../../helpers/wait.js';

/** 10 s periods become 50 ms; a timeoutSeconds of 20 becomes 1 s. */
const SCALE = 0.005;
const TARGET = { host: '127.0.0.1', ports: {}, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };

interface Switchable {
  port: number;
  /** The status after `script` runs out. */
  status: { value: number };
  hits: { at: number; status: number }[];
}

/** Answers with the statuses of `script` in order, then with `status.value`. */
async function switchableServer(t: Test, initial = 200, script: number[] = []): Promise<Switchable> {
  const status = { value: initial };
  const hits: { at: number; status: number }[] = [];
  const server = http.createServer((_request, response) => {
    const code = script.shift() ?? status.value;
    hits.push({ at: Date.now(), status: code });
    response.statusCode = code;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, status, hits };
}

interface Transition {
  kind: ProbeKind;
  healthy: boolean;
  message: string;
  /** The statuses the server had answered when the transition was reported. */
  statuses: number[];
}

function startProber(t: Test, kind: ProbeKind, probe: Probe, server: Switchable | undefined, extra: Partial<ProberOptions> = {}) {
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const transitions: Transition[] = [];
  const attempts: ProbeResult[] = [];
  const prober = new Prober({
    kind,
    probe,
    target: TARGET,
    signal: controller.signal,
    timeScale: SCALE,
    onResult: (resultKind, healthy, message) => transitions.push({ kind: resultKind, healthy, message, statuses: server?.hits.map((hit) => hit.status) ?? [] }),
    onAttempt: (_kind, result) => attempts.push(result),
    ...extra,
  });
  let ended = false;
  const done = prober.run().then(() => {
    ended = true;
  });
  return { prober, controller, transitions, attempts, done, ended: () => ended };
}

const httpProbe = (port: number, extra: Partial<Probe> = {}): Probe => ({ httpGet: { port, path: '/' }, periodSeconds: 10, timeoutSeconds: 200, ...extra });

t.test('Kubernetes defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay', async (t) => {
  t.same(probeTimings({ exec: { command: ['true'] } }), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  t.same(probeTimings({ exec: { command: ['true'] }, initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 1 }, 0.5), {
    initialDelayMs: 2500, periodMs: 1000, timeoutMs: 1500, successThreshold: 2, failureThreshold: 1,
  });
});

t.test('liveness: healthy once, then unhealthy once after exactly 3 failures, then it stops probing', async (t) => {
  const server = await switchableServer(t);
  const run = startProber(t, 'liveness', httpProbe(server.port), server);
  await waitFor(() => server.hits.length >= 4, { what: 'four healthy probes' });
  t.same(run.transitions.map((transition) => transition.healthy), [true], 'liveness is unknown until its first result, then reported once');
  server.status.value = 500;
  await waitFor(() => run.ended(), { what: 'the liveness prober to stop after the failure' });
  const [, unhealthy, ...rest] = run.transitions;
  t.same(rest, [], 'reported once');
  t.match(unhealthy, { kind: 'liveness', healthy: false, message: 'HTTP probe failed with statuscode: 500' });
  t.same(unhealthy?.statuses.filter((status) => status === 500), [500, 500, 500], 'after exactly three failures');
  const hits = server.hits.length;
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(server.hits.length, hits, 'no probing after the failure that restarts the container');
  t.same(probeEvent('liveness', run.attempts.at(-1)!), { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500' });
});

t.test('failures below the threshold do not flip the state', async (t) => {
  const server = await switchableServer(t, 200, [200, 500, 500, 200, 500, 500, 200, 500, 200]);
  const run = startProber(t, 'liveness', httpProbe(server.port), server);
  await waitFor(() => server.hits.length >= 12, { what: 'the scripted answers and a few more' });
  t.same(run.transitions.map((transition) => transition.healthy), [true], 'two failures at a time are never three in a row');
  t.equal(run.ended(), false);
});

t.test('readiness starts not ready, flips after the thresholds, recovers, and keeps probing', async (t) => {
  const server = await switchableServer(t, 503);
  const run = startProber(t, 'readiness', httpProbe(server.port, { successThreshold: 2 }), server);
  t.equal(run.prober.healthy, false, 'not ready before the first probe');
  await waitFor(() => server.hits.length >= 5, { what: 'failing readiness probes' });
  t.same(run.transitions, [], 'failing while already not ready reports nothing');
  t.same(probeEvent('readiness', run.attempts[0]!), { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' });

  server.status.value = 200;
  await waitFor(() => run.transitions.length === 1, { what: 'ready' });
  t.same(run.transitions[0]?.statuses.filter((status) => status === 200), [200, 200], 'ready after successThreshold (2) successes, not before');
  server.status.value = 500;
  await waitFor(() => run.transitions.length === 2, { what: 'not ready' });
  t.same(run.transitions[1]?.statuses.filter((status) => status === 500), [500, 500, 500], 'not ready after three failures');
  server.status.value = 200;
  await waitFor(() => run.transitions.length === 3, { what: 'ready again' });
  t.same(run.transitions.map(({ healthy, message }) => ({ healthy, message })), [
    { healthy: true, message: '' },
    { healthy: false, message: 'HTTP probe failed with statuscode: 500' },
    { healthy: true, message: '' },
  ]);
  t.equal(run.ended(), false, 'readiness never stops on its own');
  run.controller.abort();
  await run.done;
  t.equal(run.prober.healthy, true);
});

t.test('probe errors (unknown) are reported per attempt but never counted', async (t) => {
  const run = startProber(t, 'liveness', { tcpSocket: { port: 'missing' }, periodSeconds: 10 }, undefined);
  await waitFor(() => run.attempts.length >= 5, { what: 'several errored attempts' });
  t.same(run.transitions, []);
  t.equal(run.prober.healthy, undefined);
  t.same(probeEvent('liveness', run.attempts[0]!), { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe errored: port missing not found' });
});

t.test('the initial delay counts from the container start', async (t) => {
  const server = await switchableServer(t);
  const startedAt = Date.now();
  // 100 s × 0.005 = 500 ms.
  const run = startProber(t, 'readiness', httpProbe(server.port, { initialDelaySeconds: 100 }), server, { startedAt });
  await waitFor(() => run.transitions.length === 1, { what: 'ready' });
  t.ok(server.hits[0]!.at - startedAt >= 490, `first probe ${server.hits[0]!.at - startedAt} ms after the start`);

  const late = await switchableServer(t);
  const adopted = Date.now();
  const again = startProber(t, 'readiness', httpProbe(late.port, { initialDelaySeconds: 100 }), late, { startedAt: adopted - 10_000 });
  await waitFor(() => again.transitions.length === 1, { what: 'ready' });
  t.ok(late.hits[0]!.at - adopted < 400, 'a container that started long ago (adopted after an agent restart) is probed at once');
});

t.test('an abort during an exec probe stops everything: no process, no timer', async (t) => {
  const dir = t.testdir();
  const pidFile = path.join(dir, 'pid');
  const timersBefore = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
  const run = startProber(t, 'liveness', { exec: { command: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`] }, timeoutSeconds: 10_000 }, undefined);
  const pid = await waitFor(() => {
    try {
      return Number(readFileSync(pidFile, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  }, { what: 'the probe process to start' });
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  });
  const aborted = Date.now();
  run.controller.abort();
  await run.done;
  t.ok(Date.now() - aborted < 500, 'run() returns promptly');
  await waitFor(() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw error;
    }
  }, { timeout: 5000, what: `probe process ${pid} to be gone` });
  t.pass('the probe process is gone');
  const timersAfter = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
  t.ok(timersAfter <= timersBefore, `no timer left behind (${timersBefore} before, ${timersAfter} after)`);
  t.same(run.transitions, [], 'an aborted attempt reports nothing');
});

t.test('probeEvent: warnings and silent successes', async (t) => {
  t.same(probeEvent('startup', { outcome: 'success', warning: true, message: 'Probe terminated redirects, Response body: x' }), {
    type: 'Warning', reason: 'ProbeWarning', message: 'Startup probe warning: Probe terminated redirects, Response body: x',
  });
  t.equal(probeEvent('readiness', { outcome: 'success', message: 'ok' }), undefined);
  t.same(probeEvent('readiness', { outcome: 'failure', message: 'dial tcp 127.0.0.1:8080: connect: connection refused' }), {
    type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: dial tcp 127.0.0.1:8080: connect: connection refused',
  });
});
