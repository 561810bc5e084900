/**
 * Pod start benchmark: how long N copies of one tiny long-running command take from "start it" to
 * "it runs", for a bare `child_process.spawn` (the floor), PM2's programmatic `pm2.start`, and pm8s
 * (create a Pod through the API, a separate `pm8s agent` process runs it, the pod is seen Running
 * through a watch), measured in the same run, plus the memory of PM2's daemon and of the agent with
 * all N running. Every process is started with a marker in its environment, so whatever outlives a
 * phase is found in /proc and stopped by its PID.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants, accessSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { resolveResource } from '../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../src/api/types.js';
import { isRecord } from '../src/api/types.js';
import { HttpClient } from '../src/client/http-client.js';
import { killMarked, MARKER_VARIABLE, markedProcesses, memoryOf, stopChild, stopPid } from './marked-processes.js';
import { rssMiB } from './processes.js';
import type { Summary } from './stats.js';
import { ms, ratio, runConcurrent, summarize } from './stats.js';

export interface PodStartBenchOptions {
  /** How many copies each contender starts (100 in the design's target). */
  processes: number;
}

/** A mode's latencies (start call → observed running, ms) and the wall time for all of them. */
interface Phase {
  latency: Summary;
  seconds: number;
}

interface Measured {
  /** One at a time: the next start is issued once the previous one is running. */
  sequential: Phase;
  /** All at once: every start issued together. */
  burst: Phase;
  /** Stopping all N after the burst: the stop call(s) until every process is gone (s). */
  stopSeconds: number;
  /** The manager's memory with all N running, after the burst (current and peak, MiB). */
  managerRss?: { current: number; peak: number };
  /** The manager's RSS before the first start (MiB). */
  idleRss?: number;
  /** pm8s only: the API server's RSS at the same moment. */
  serverRss?: number;
  /** pm8s only: how long the POST alone took (ms), one at a time and all at once. */
  createLatency?: { sequential: Summary; burst: Summary };
  /** pm8s only: the cgroup driver the agent logged it uses. */
  cgroups?: string;
}

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/pm8s.js');
const NODE_NAME = 'bench-node';
const SLEEP_SECONDS = '3600';
const TIMEOUT_MS = 180_000;
const pods = resolveResource('pods')!;
const nodes = resolveResource('nodes')!;

export async function podStartBenchmark(options: PodStartBenchOptions): Promise<string> {
  const command = [findExecutable('sleep'), SLEEP_SECONDS];
  // One after the other, each on a quiet machine.
  const bare = await measureSpawn(command, options.processes);
  const pm2 = await measurePm2(command, options.processes);
  const ours = await measurePm8s(command, options.processes);
  return report(options, command, bare, pm2, ours);
}

async function measureSpawn(command: string[], count: number): Promise<Measured> {
  const marker = newMarker();
  const children: ChildProcess[] = [];
  const start = async () => {
    const child = spawn(command[0]!, command.slice(1), { detached: true, stdio: 'ignore', env: { ...process.env, [MARKER_VARIABLE]: marker } });
    children.push(child);
    await once(child, 'spawn');
  };
  const stopAll = async () => {
    await Promise.all(children.splice(0).map((child) => stopChild(child, 'SIGTERM')));
    await expectNoneLeft(marker, 'bare spawn');
  };
  try {
    const sequential = await runConcurrent(count, 1, start);
    await stopAll();
    const burst = await runConcurrent(count, count, start);
    const stopSeconds = await timed(stopAll);
    return { sequential: phase(sequential), burst: phase(burst), stopSeconds };
  } finally {
    killMarked(marker);
  }
}

/** PM2's default instance, as its typings describe it. */
type Pm2 = typeof import('pm2');

async function measurePm2(command: string[], count: number): Promise<Measured> {
  const marker = newMarker();
  const home = await mkdtemp(path.join(os.tmpdir(), 'pm8s-bench-pm2-'));
  // PM2 reads its home from the environment when it is imported and when it spawns its daemon
  // (where the environment wins over its own option), so the private home must be set there.
  const saved = { ...process.env };
  Object.assign(process.env, { PM2_HOME: home, PM2_NO_INTERACTION: 'true', PM2_DISABLE_VERSION_CHECK: 'true', PM2_DISCRETE_MODE: 'true' });
  let daemonPid: number | undefined;
  let pm2: Pm2 | undefined;
  try {
    pm2 = ((await import('pm2')) as { default: Pm2 }).default;
    const api = pm2;
    await callback((done) => api.connect(done));
    daemonPid = Number((await readFile(path.join(home, 'pm2.pid'), 'utf8')).trim());
    const idleRss = rssMiB(daemonPid);
    let started = 0;
    const start = async () => {
      const name = `bench-${started++}`;
      await callback((done) =>
        api.start({ script: command[0]!, args: command.slice(1), name, interpreter: 'none', exec_mode: 'fork', autorestart: false, env: { [MARKER_VARIABLE]: marker } }, done),
      );
    };
    const expectAllOnline = async () => {
      const list = await callback<import('pm2').ProcessDescription[]>((done) => api.list(done));
      const online = list.filter((entry) => entry.pm2_env?.status === 'online').length;
      if (online !== count) throw new Error(`pm2: ${online} of ${count} processes online after every start returned`);
    };
    const deleteAll = async () => {
      await callback((done) => api.delete('all', done));
      await expectNoneLeft(marker, 'pm2 delete');
    };
    const sequential = await runConcurrent(count, 1, start);
    await expectAllOnline();
    await deleteAll();
    const burst = await runConcurrent(count, count, start);
    await expectAllOnline();
    const managerRss = memoryOf(daemonPid);
    const stopSeconds = await timed(deleteAll);
    return { sequential: phase(sequential), burst: phase(burst), stopSeconds, managerRss, idleRss };
  } finally {
    if (pm2 !== undefined) {
      const api = pm2;
      await callback((done) => api.killDaemon(done)).catch((error: unknown) => process.stderr.write(`pm2 killDaemon: ${String(error)}\n`));
      api.disconnect();
      closeLingeringSockets(api);
    }
    if (daemonPid !== undefined) await stopPid(daemonPid, 'SIGKILL', 5000);
    killMarked(marker);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * PM2's client reconnects forever when its daemon dies before the client closes the socket (which
 * `killDaemon` races), keeping this process alive; closing its sockets ends the retries.
 */
function closeLingeringSockets(api: Pm2): void {
  const client = (api as unknown as { Client?: Record<string, unknown> }).Client;
  for (const key of ['client_sock', 'sub_sock']) {
    const socket = client?.[key];
    if (isRecord(socket) && typeof socket.close === 'function' && socket.closing !== true) (socket.close as () => void).call(socket);
  }
}

async function measurePm8s(command: string[], count: number): Promise<Measured> {
  const marker = newMarker();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pm8s-bench-pod-start-'));
  const agentLog = path.join(dataDir, 'agent.log');
  let server: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  let client: HttpClient | undefined;
  try {
    server = spawn(process.execPath, [BIN, 'server', '--data-dir', path.join(dataDir, 'server'), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const kubeconfig = String((await readyLine(server, (line) => line.msg === 'pm8s server listening')).kubeconfig);
    const logFd = openSync(agentLog, 'a');
    try {
      agent = spawn(process.execPath, [BIN, 'agent', '--kubeconfig', kubeconfig, '--node-name', NODE_NAME, '--data-dir', path.join(dataDir, 'agent'), '--port', '0'], {
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    const agentExited: Promise<never> = once(agent, 'exit').then(([code, signal]) => {
      throw new Error(`pm8s agent exited (${String(code ?? signal)}) during the benchmark; its log: ${agentLog}`);
    });
    agentExited.catch(() => undefined);
    client = await HttpClient.fromKubeconfig({ kubeconfig });
    await Promise.race([waitForReadyNode(client), agentExited]);
    const cgroups = await agentCgroups(agentLog);
    const [agentPid, serverPid] = [agent.pid!, server.pid!];
    const idleRss = rssMiB(agentPid);
    let snapshot: Pick<Measured, 'managerRss' | 'serverRss'> = {};
    const measured = await runPods(client, command, count, marker, agentExited, () => {
      snapshot = { managerRss: memoryOf(agentPid), serverRss: rssMiB(serverPid) };
    });
    return { ...measured, ...snapshot, idleRss, ...(cgroups === undefined ? {} : { cgroups }) };
  } catch (error) {
    process.stderr.write(`pm8s agent log (${agentLog}), last lines:\n${(await readAgentLog(agentLog)).split('\n').slice(-30).join('\n')}\n`);
    throw error;
  } finally {
    await reportAgentWarnings(agentLog);
    client?.close();
    // The agent leaves its containers running when it stops (by design), so they are stopped here.
    if (agent !== undefined) await stopChild(agent, 'SIGTERM', 15_000);
    if (server !== undefined) await stopChild(server, 'SIGTERM', 15_000);
    killMarked(marker);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Both modes against a running server and agent; `allRunning` is called once the burst is all Running. */
async function runPods(
  api: HttpClient,
  command: string[],
  count: number,
  marker: string,
  agentExited: Promise<never>,
  allRunning: () => void,
): Promise<Pick<Measured, 'sequential' | 'burst' | 'stopSeconds' | 'createLatency'>> {
  const running = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const from = (await api.list(pods, 'default', { limit: 1 })).metadata.resourceVersion;
  const watch = await api.watch(pods, 'default', from === undefined ? {} : { resourceVersion: from }, (event: WatchEvent) => {
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
    const name = event.object.metadata.name ?? '';
    const waiter = running.get(name);
    const phase = isRecord(event.object.status) ? event.object.status.phase : undefined;
    if (waiter === undefined) return;
    if (phase === 'Running') waiter.resolve();
    else if (phase === 'Failed' || phase === 'Succeeded') waiter.reject(new Error(`pod ${name} ended (${String(phase)}) instead of running`));
    else return;
    running.delete(name);
  });
  const watchFailed = watch.done.then(() => {
    throw new Error('the pod watch ended during the benchmark');
  });
  watchFailed.catch(() => undefined);
  const created: Record<string, number[]> = { sequential: [], burst: [] };
  const startMode = (mode: string) => async (index: number) => {
    const name = `${mode}-${index}`;
    const isRunning = new Promise<void>((resolve, reject) => running.set(name, { resolve, reject }));
    const begin = performance.now();
    await api.create(pods, 'default', podObject(name, mode, command, marker));
    created[mode]!.push(performance.now() - begin);
    await Promise.race([isRunning, agentExited, watchFailed, rejectAfter(TIMEOUT_MS, `pod ${name} not Running within ${TIMEOUT_MS / 1000} s`)]);
  };
  try {
    const sequential = await runConcurrent(count, 1, startMode('sequential'));
    await deletePods(api, 'sequential', marker);
    // The N requests in flight go out on N connections: open them first, so TLS handshakes stay
    // out of the clock, as pm2's client is connected before its clock starts too.
    await runConcurrent(count, count, async () => {
      await api.list(pods, 'default', { limit: 1 });
    });
    const burst = await runConcurrent(count, count, startMode('burst'));
    allRunning();
    const stopSeconds = await timed(() => deletePods(api, 'burst', marker));
    return { sequential: phase(sequential), burst: phase(burst), stopSeconds, createLatency: { sequential: summarize(created.sequential!), burst: summarize(created.burst!) } };
  } finally {
    watch.stop();
  }
}

/** The first JSON line on the child's stdout that `ready` accepts; the rest is read and dropped so the pipe never fills. */
async function readyLine(child: ChildProcess, ready: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`${String(child.spawnargs.slice(1, 3).join(' '))} exited (${String(code ?? signal)}) before it was ready`);
  });
  const found = new Promise<Record<string, unknown>>((resolve) => {
    lines.on('line', (text) => {
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch (error) {
        if (error instanceof SyntaxError) return; // not a log line
        throw error;
      }
      if (isRecord(line) && ready(line)) resolve(line);
    });
  });
  try {
    return await Promise.race([found, exited, rejectAfter(TIMEOUT_MS, `${child.spawnargs.slice(1, 3).join(' ')} not ready within ${TIMEOUT_MS / 1000} s`)]);
  } finally {
    exited.catch(() => undefined);
  }
}

/** The agent's cgroup driver as it logged it at start, e.g. "hybrid: memory, cpu, pids". */
async function agentCgroups(file: string): Promise<string | undefined> {
  const text = await readAgentLog(file);
  for (const line of text.split('\n')) {
    if (!line.includes('"msg":"cgroup driver"') && !line.includes('"msg":"pod limits are NOT enforced on this node"')) continue;
    const entry = JSON.parse(line) as { driver?: string; controllers?: string[]; reason?: string };
    return entry.controllers === undefined ? `${String(entry.driver)}, limits not enforced: ${String(entry.reason)}` : `${String(entry.driver)}: ${entry.controllers.join(', ')}`;
  }
  return undefined;
}

/** Copies the agent's warnings and errors to stderr: a benchmark of a misbehaving agent is worth little. */
async function reportAgentWarnings(file: string): Promise<void> {
  const text = await readAgentLog(file);
  const lines = text.split('\n').filter((line) => line !== '' && !/^\{[^\n]*"level":"(?:debug|info)"/.test(line));
  if (lines.length > 0) process.stderr.write(`pod-start: the pm8s agent logged ${lines.length} warnings or errors:\n${lines.slice(0, 20).join('\n')}\n`);
}

const readAgentLog = (file: string): Promise<string> =>
  readFile(file, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  });

const podObject = (name: string, mode: string, command: string[], marker: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'pod-start-bench', mode } },
  spec: {
    nodeName: NODE_NAME,
    restartPolicy: 'Never',
    containers: [{ name: 'main', image: '', command, env: [{ name: MARKER_VARIABLE, value: marker }] }],
  },
});

async function waitForReadyNode(client: HttpClient): Promise<void> {
  await waitFor(async () => {
    const node = (await client.list(nodes, undefined)).items.find((item) => item.metadata.name === NODE_NAME);
    const conditions = node !== undefined && isRecord(node.status) && Array.isArray(node.status.conditions) ? node.status.conditions : [];
    return conditions.some((condition: unknown) => isRecord(condition) && condition.type === 'Ready' && condition.status === 'True');
  }, `node ${NODE_NAME} Ready`);
}

/** Deletes a mode's pods and waits until the objects and their processes are gone. */
async function deletePods(client: HttpClient, mode: string, marker: string): Promise<void> {
  const selector = { labelSelector: `app=pod-start-bench,mode=${mode}` };
  const names = (await client.list(pods, 'default', selector)).items.map((pod) => pod.metadata.name ?? '');
  await runConcurrent(names.length, 16, async (index) => {
    await client.delete(pods, 'default', names[index]!);
  });
  await waitFor(async () => (await client.list(pods, 'default', selector)).items.length === 0, `${mode} pods deleted`);
  await expectNoneLeft(marker, `pm8s delete of ${mode} pods`);
}

/** Fails (after killing them by PID) when marked processes outlive `what` by more than the timeout. */
async function expectNoneLeft(marker: string, what: string): Promise<void> {
  try {
    await waitFor(() => markedProcesses(marker).length === 0, `every process gone after ${what}`);
  } catch (error) {
    const left = killMarked(marker);
    throw new Error(`${left.length} processes still ran after ${what} (killed: ${left.join(', ')})`, { cause: error });
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function phase(run: { latencies: number[]; seconds: number }): Phase {
  return { latency: summarize(run.latencies), seconds: run.seconds };
}

function callback<T = unknown>(call: (done: (error: Error | null | undefined, result?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((error, result) => (error ? reject(error) : resolve(result as T))));
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await delay(20);
  }
}

const delay = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function rejectAfter(milliseconds: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), milliseconds).unref());
}

const newMarker = () => `${process.pid}-${Math.random().toString(36).slice(2)}`;

function findExecutable(name: string): string {
  for (const directory of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const file = path.join(directory, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      continue; // not in this directory
    }
  }
  throw new Error(`${name} is not in PATH`);
}

function report(options: PodStartBenchOptions, command: string[], bare: Measured, pm2: Measured, ours: Measured): string {
  const n = options.processes;
  const latencies = (pick: (m: Measured) => Phase) => [bare, pm2, ours].map((m) => `${ms(pick(m).latency.p50)} / ${ms(pick(m).latency.p99)}`);
  const latencyRow = (name: string, pick: (m: Measured) => Phase) =>
    `| ${name} | ${latencies(pick).join(' | ')} | ${ratio(pick(ours).latency.p50, pick(bare).latency.p50)} / ${ratio(pick(ours).latency.p99, pick(bare).latency.p99)} | ${ratio(pick(ours).latency.p50, pick(pm2).latency.p50)} / ${ratio(pick(ours).latency.p99, pick(pm2).latency.p99)} |`;
  const wallRow = (name: string, pick: (m: Measured) => Phase) =>
    `| ${name} | ${[bare, pm2, ours].map((m) => pick(m).seconds.toFixed(2)).join(' | ')} | ${ratio(pick(ours).seconds, pick(bare).seconds)} | ${ratio(pick(ours).seconds, pick(pm2).seconds)} |`;
  const memoryRow = (name: string, pick: (rss: { current: number; peak: number }, idle: number) => number) => {
    const value = (m: Measured) => (m.managerRss === undefined || m.idleRss === undefined ? Number.NaN : pick(m.managerRss, m.idleRss));
    const a = value(ours);
    const b = value(pm2);
    return `| ${name} | — | ${b.toFixed(0)} | ${a.toFixed(0)} | — | ${ratio(a, b)} |`;
  };
  return [
    '## Pod start',
    '',
    `${n} copies of \`${command.join(' ')}\` started by each contender, first **one at a time** (the next start is issued once the previous copy is running), then **all at once** (all ${n} starts issued together: ${n} concurrent \`pm2.start\` calls over PM2's one socket, ${n} concurrent POSTs over ${n} HTTPS connections opened before the clock starts). Latency is per process, from the start call to the moment the caller can observe that the copy runs; "total" is the wall time from the first start to the last copy running. The copies are stopped between the two modes and at the end. What each latency measures:`,
    '',
    "- **bare spawn**: `child_process.spawn(…, {detached: true})` in the benchmark process, until the child's `spawn` event (libuv's spawn returns once the `exec` of `sleep` succeeded; the event follows on the next tick, so all at once it comes after every spawn call has returned). No log files, no bookkeeping: the floor.",
    `- **pm2** ${pm2Version()}: \`pm2.start({script, args, interpreter: 'none', exec_mode: 'fork', autorestart: false})\` from the benchmark process (RPC over PM2's unix socket to its daemon, under a private PM2_HOME), until the start callback — by then \`pm2.list\` shows the process \`online\` (checked). PM2 marks a fork-mode process online as soon as its own \`spawn()\` call returns (after opening the process's log files), so its online is the bare spawn's moment plus the two hops over its socket and its bookkeeping.`,
    `- **pm8s**: \`POST\` of a Pod (with \`spec.nodeName\` set, so no scheduling) over HTTPS to a \`pm8s server\` child process, until the benchmark's watch on pods delivers that pod with \`status.phase: Running\`. In between: the server validates the pod, commits it to SQLite (synchronous=FULL) and streams it to a separate \`pm8s agent\` process, which records the pod in its local state (fsynced), creates the pod's and the container's cgroups (driver ${ours.cgroups ?? 'unknown'}), opens the container's log file, spawns the status-recording \`sh\` wrapper that starts the command, records the container (fsynced again), and patches the pod's status through the API (a second commit; a Started Event is a third, written beside it), which the server streams to the benchmark. The agent reports Running once the wrapper has spawned, a moment before the wrapper's own child has exec'd the command. pm2's "online" is its daemon's in-memory view; pm8s's Running is durable and visible to every API client.`,
    '',
    `**Stop all** is timed after the all-at-once run, until no process of the copies is left in /proc: bare, a SIGTERM to each PID; pm2, \`pm2.delete('all')\`; pm8s, a DELETE of each pod (16 in flight, default grace period) until the pods are gone from the API, which the agent confirms once their processes have ended.`,
    '',
    '| metric | bare spawn | pm2 | pm8s | pm8s ÷ spawn | pm8s ÷ pm2 |',
    '| --- | --- | --- | --- | --- | --- |',
    latencyRow('one at a time: start → running p50 / p99 (ms)', (m) => m.sequential),
    wallRow(`one at a time: total for ${n} (s)`, (m) => m.sequential),
    latencyRow('all at once: start → running p50 / p99 (ms)', (m) => m.burst),
    wallRow(`all at once: total for ${n} (s)`, (m) => m.burst),
    `| stop all ${n}: stop call → every process gone (ms) | ${[bare, pm2, ours].map((m) => ms(m.stopSeconds * 1000)).join(' | ')} | ${ratio(ours.stopSeconds, bare.stopSeconds)} | ${ratio(ours.stopSeconds, pm2.stopSeconds)} |`,
    memoryRow('agent RSS vs PM2 daemon RSS, none running yet (MiB)', (_rss, idle) => idle),
    memoryRow(`agent RSS vs PM2 daemon RSS, ${n} running (MiB)`, (rss) => rss.current),
    memoryRow('agent vs PM2 daemon peak RSS, VmHWM (MiB)', (rss) => rss.peak),
    '',
    ...(ours.createLatency === undefined
      ? []
      : [
          `Of pm8s's latency, the POST alone (validation and the SQLite commit, until the server answers) took p50 / p99 ${ms(ours.createLatency.sequential.p50)} / ${ms(ours.createLatency.sequential.p99)} ms one at a time and ${ms(ours.createLatency.burst.p50)} / ${ms(ours.createLatency.burst.p99)} ms all at once; the rest is the agent starting the copy and its status coming back through the API.`,
          '',
        ]),
    `RSS is read from /proc/<pid>/status once the daemon is up or the node is Ready (none running yet), and again right after the all-at-once copies are all running: PM2's God daemon against the pm8s agent (the per-machine process; the control plane, \`pm8s server\`, held ${ours.serverRss?.toFixed(0) ?? '—'} MiB at the same moment, and runs once per cluster). The commands themselves are not counted: with pm8s each copy also has a small \`sh\` wrapper process that records how it ends.`,
    '',
  ].join('\n');
}

function pm2Version(): string {
  const manifest = JSON.parse(readFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/pm2/package.json'), 'utf8')) as { version?: string };
  return manifest.version === undefined ? '' : `(${manifest.version})`;
}
