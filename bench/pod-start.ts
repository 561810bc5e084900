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
import { constants, accessSync, openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveResource } from '../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../src/api/types.js';
import { isRecord } from '../src/api/types.js';
import { HttpClient } from '../src/client/http-client.js';
import { rssMiB, startProcess } from './processes.js';
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
  /** All at once: every start issued together, as `apply` of a file of N pods does. */
  burst: Phase;
  /** The manager's memory with all N running, after the burst (current and peak, MiB). */
  managerRss?: { current: number; peak: number };
  /** pm8s only: the API server's RSS at the same moment. */
  serverRss?: number;
}

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/pm8s.js');
const MARKER_VARIABLE = 'PM8S_BENCH_POD_START';
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
    await stopAll();
    return { sequential: phase(sequential), burst: phase(burst) };
  } finally {
    killMarked(marker);
  }
}

/** The subset of PM2's programmatic API used here; its own typings describe the default instance. */
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
    await deleteAll();
    return { sequential: phase(sequential), burst: phase(burst), managerRss };
  } finally {
    if (pm2 !== undefined) {
      const api = pm2;
      await callback((done) => api.killDaemon(done)).catch((error: unknown) => process.stderr.write(`pm2 killDaemon: ${String(error)}\n`));
      api.disconnect();
    }
    if (daemonPid !== undefined) await stopPid(daemonPid, 'SIGKILL', 5000);
    killMarked(marker);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await rm(home, { recursive: true, force: true });
  }
}

async function measurePm8s(command: string[], count: number): Promise<Measured> {
  const marker = newMarker();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pm8s-bench-pod-start-'));
  const agentLog = path.join(dataDir, 'agent.log');
  const server = await startProcess(process.execPath, [BIN, 'server', '--data-dir', path.join(dataDir, 'server'), '--listen', '127.0.0.1:0'], (line) => line.msg === 'pm8s server listening');
  let agent: ChildProcess | undefined;
  let client: HttpClient | undefined;
  try {
    const kubeconfig = String(server.ready.kubeconfig);
    const logFd = openSync(agentLog, 'a');
    try {
      agent = spawn(process.execPath, [BIN, 'agent', '--kubeconfig', kubeconfig, '--node-name', NODE_NAME, '--data-dir', path.join(dataDir, 'agent'), '--port', '0'], {
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    const agentExited = once(agent, 'exit').then(([code, signal]) => {
      throw new Error(`pm8s agent exited (${String(code ?? signal)}) during the benchmark; its log: ${agentLog}`);
    });
    agentExited.catch(() => undefined);
    client = await HttpClient.fromKubeconfig({ kubeconfig });
    await Promise.race([waitForReadyNode(client), agentExited]);

    const api = client;
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
    try {
      const startMode = (mode: string) => async (index: number) => {
        const name = `${mode}-${index}`;
        const isRunning = new Promise<void>((resolve, reject) => running.set(name, { resolve, reject }));
        await api.create(pods, 'default', podObject(name, mode, command, marker));
        await Promise.race([isRunning, agentExited, watchFailed, rejectAfter(TIMEOUT_MS, `pod ${name} not Running within ${TIMEOUT_MS / 1000} s`)]);
      };
      const sequential = await runConcurrent(count, 1, startMode('sequential'));
      await deletePods(api, 'sequential', marker);
      const burst = await runConcurrent(count, count, startMode('burst'));
      const managerRss = memoryOf(agent.pid!);
      const serverRss = rssMiB(server.child.pid!);
      await deletePods(api, 'burst', marker);
      return { sequential: phase(sequential), burst: phase(burst), managerRss, serverRss };
    } finally {
      watch.stop();
    }
  } catch (error) {
    process.stderr.write(`pm8s agent log (${agentLog}), last lines:\n${(await readFile(agentLog, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n')}\n`);
    throw error;
  } finally {
    client?.close();
    // The agent leaves its containers running when it stops (by design), so they are stopped here.
    if (agent !== undefined) await stopChild(agent, 'SIGTERM', 15_000);
    await server.stop();
    killMarked(marker);
    await rm(dataDir, { recursive: true, force: true });
  }
}

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

/** PIDs of live processes whose environment carries the marker (the wrappers and commands we caused). */
function markedProcesses(marker: string): number[] {
  const needle = `\0${MARKER_VARIABLE}=${marker}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    let stat: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch (error) {
      // Ended between readdir and read, or not ours to read (so not one we started).
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') continue;
      throw error;
    }
    // A zombie has ended; its parent has yet to reap it.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== 'Z' && `\0${environ}`.includes(needle)) found.push(Number(entry));
  }
  return found;
}

function killMarked(marker: string): number[] {
  const pids = markedProcesses(marker);
  for (const pid of pids) signal(pid, 'SIGKILL');
  return pids;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Signals a child by PID and waits for its exit, escalating to SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, first: NodeJS.Signals, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  signal(child.pid, first);
  const timer = setTimeout(() => signal(child.pid!, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Waits for a process that is not our child to end, killing it with `name` after `graceMs`. */
async function stopPid(pid: number, name: NodeJS.Signals, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH' || code === 'ENOENT') return false;
      throw error;
    }
  };
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await delay(20);
  if (alive()) signal(pid, name);
}

function memoryOf(pid: number): { current: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peak = /VmHWM:\s+(\d+) kB/.exec(status);
  return { current: rssMiB(pid), peak: peak ? Number(peak[1]) / 1024 : Number.NaN };
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
  const memoryRow = (name: string, pick: (rss: { current: number; peak: number }) => number) => {
    const a = ours.managerRss === undefined ? Number.NaN : pick(ours.managerRss);
    const b = pm2.managerRss === undefined ? Number.NaN : pick(pm2.managerRss);
    return `| ${name} | — | ${b.toFixed(0)} | ${a.toFixed(0)} | — | ${ratio(a, b)} |`;
  };
  return [
    '## Pod start',
    '',
    `${n} copies of \`${command.join(' ')}\` started by each contender, first **one at a time** (the next start is issued once the previous copy is running), then **all at once** (all ${n} starts issued together, as \`apply\` of a file of ${n} pods does). Latency is per process, from the start call to the moment the caller can observe that the copy runs; "total" is the wall time from the first start to the last copy running. The copies are stopped between the two modes and at the end. What each latency measures:`,
    '',
    '- **bare spawn**: `child_process.spawn(…, {detached: true})` in the benchmark process, until the child\'s `spawn` event (libuv has forked and the `exec` of `sleep` succeeded). No log files, no bookkeeping: the floor.',
    `- **pm2** ${pm2Version()}: \`pm2.start({script, args, interpreter: 'none', exec_mode: 'fork', autorestart: false})\` from the benchmark process (RPC over PM2's unix socket to its daemon, under a private PM2_HOME), until the start callback — by then \`pm2.list\` shows the process \`online\` (checked). PM2 marks a fork-mode process online as soon as its own \`spawn()\` call returns, without waiting for the \`spawn\` event, after opening the process's log files. All-at-once means ${n} concurrent \`pm2.start\` calls.`,
    '- **pm8s**: `POST` of a Pod (with `spec.nodeName` set, so no scheduling) over HTTPS to a `pm8s server` child process, until the benchmark\'s watch on pods delivers that pod with `status.phase: Running`. In between: the server validates and commits the pod to SQLite (synchronous=FULL) and streams it to a separate `pm8s agent` process, which opens the container\'s log file, starts it under its status-recording `sh` wrapper, records the container in its fsynced local state, and writes the pod\'s status back through the API (a second commit), which the server streams to the benchmark. pm2\'s "online" is its daemon\'s own in-memory view; pm8s\'s "Running" is what any API client can see.',
    '',
    '| metric | bare spawn | pm2 | pm8s | pm8s ÷ spawn | pm8s ÷ pm2 |',
    '| --- | --- | --- | --- | --- | --- |',
    latencyRow('one at a time: start → running p50 / p99 (ms)', (m) => m.sequential),
    wallRow(`one at a time: total for ${n} (s)`, (m) => m.sequential),
    latencyRow('all at once: start → running p50 / p99 (ms)', (m) => m.burst),
    wallRow(`all at once: total for ${n} (s)`, (m) => m.burst),
    memoryRow(`agent RSS vs PM2 daemon RSS, ${n} running (MiB)`, (rss) => rss.current),
    memoryRow('agent vs PM2 daemon peak RSS, VmHWM (MiB)', (rss) => rss.peak),
    '',
    `RSS is read from /proc/<pid>/status right after the all-at-once copies are all running: PM2's God daemon against the pm8s agent (the per-machine process; the control plane, \`pm8s server\`, held ${ours.serverRss?.toFixed(0) ?? '—'} MiB at the same moment, and runs once per cluster). The commands themselves are not counted: with pm8s each copy also has a small \`sh\` wrapper process that records how it ends.`,
    '',
  ].join('\n');
}

function pm2Version(): string {
  const manifest = JSON.parse(readFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/pm2/package.json'), 'utf8')) as { version?: string };
  return manifest.version === undefined ? '' : `(${manifest.version})`;
}
