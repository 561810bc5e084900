/**
 * The composition root of `pm8s agent`: local state and re-adoption, the cgroup driver, the node
 * API, registration and heartbeat, pod sync, status reporting, events and log rotation. `stop()`
 * is agent shutdown, not pod shutdown: every pod keeps running and the next agent adopts it.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '../../client/api-client.js';
import { sleep } from '../../lib/backoff.js';
import type { Logger } from '../../lib/logger.js';
import type { CgroupDriver } from '../../runtime/cgroups/cgroup-driver.js';
import { detectCgroupDriver } from '../../runtime/cgroups/detect-cgroup-driver.js';
import { podsLogRoot } from '../../runtime/logs/log-paths.js';
import { LogRotator } from '../../runtime/logs/log-rotator.js';
import type { RunnerTiming } from '../../runtime/runner/container-runner.js';
import { createEventRecorder } from '../server/controllers/event-recorder.js';
import { ensureServerCertificates } from '../server/api/tls.js';
import { adoptRunningContainers } from './adoption.js';
import { LocalState } from './local-state.js';
import type { NodeApiHandler } from './node-api.js';
import { startNodeApi } from './node-api.js';
import { serveExec } from './node-api-exec.js';
import { createStatsHandler } from './node-api-stats.js';
import { NodeHeartbeat } from './node-heartbeat.js';
import { nodeCapacity, type NodeDescription } from './node-status.js';
import { PodSync } from './pod-sync.js';
import { StatusReporter } from './status-reporter.js';

export interface AgentOptions {
  client: ApiClient;
  /** Checks a bearer token with the API server (node API authentication). */
  authenticate: (authorization: string | undefined) => Promise<boolean>;
  nodeName?: string;
  /** The node's address (default: the first non-internal IPv4 address, else 127.0.0.1). */
  nodeIp?: string;
  dataDir: string;
  /** The node API's port (default 10250; 0 picks one). */
  port?: number;
  /** Where the node API listens (default: nodeIp). */
  listenHost?: string;
  logger: Logger;
  version: string;
  /** pids.max per pod and per container (default 4096; 0 = no limit). */
  pidsLimit?: number;
  maxPods?: number;
  logMaxBytes?: number;
  logMaxFiles?: number;
  labels?: Record<string, string>;
  /** Overrides the cgroup driver (tests use a throwaway root). */
  driver?: CgroupDriver;
  /** Timers, tunable so tests run in seconds. */
  timing?: RunnerTiming & { leaseRenewMs?: number; statusReportMs?: number; logCheckMs?: number };
  handlers?: Record<string, NodeApiHandler>;
}

export interface RunningAgent {
  nodeName: string;
  nodeIp: string;
  port: number;
  driver: CgroupDriver;
  heartbeat: NodeHeartbeat;
  sync: PodSync;
  reporter: StatusReporter;
  state: LocalState;
  /** Agent shutdown: stops supervising and serving; every pod keeps running. */
  stop(): Promise<void>;
}

export const DEFAULT_PIDS_LIMIT = 4096;
/** How long a shutdown waits for work that needs the server (a heartbeat in flight, pending events). */
const SHUTDOWN_NETWORK_MS = 3000;

/** The Node's name: as given, else the host name; lower-cased, as Node names must be. */
export function resolveNodeName(name?: string): string {
  return (name ?? os.hostname()).toLowerCase();
}

/** The first non-internal IPv4 address, as the kubelet picks its node IP; 127.0.0.1 when none. */
export function defaultNodeIp(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { logger, client } = options;
  const nodeName = resolveNodeName(options.nodeName);
  const nodeIp = options.nodeIp ?? defaultNodeIp();
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const abort = new AbortController();
  const signal = abort.signal;

  const driver = options.driver ?? (await detectCgroupDriver());
  if (driver.enforced) logger.info('cgroup driver', { driver: driver.kind, controllers: driver.controllers });
  else logger.warn('pod limits are NOT enforced on this node', { driver: driver.kind, reason: driver.reason });

  const state = await LocalState.open(options.dataDir);
  if (state.startedEmpty !== undefined) {
    // A first start has no state; a lost or corrupt one deserves attention.
    (state.startedEmpty.reason === 'missing' ? logger.info : logger.warn).call(logger, 'agent state started empty', { reason: state.startedEmpty.reason, message: state.startedEmpty.message });
  }
  const plan = await adoptRunningContainers({ state, driver });
  const counts: Record<string, number> = {};
  for (const entry of plan.entries) counts[entry.outcome] = (counts[entry.outcome] ?? 0) + 1;
  if (plan.entries.length > 0) logger.info('re-adoption plan', counts);
  if (plan.scanError !== undefined) logger.warn('cgroup scan failed; adopting from records only', { error: plan.scanError });

  const tls = await ensureServerCertificates(path.join(options.dataDir, 'tls'), { hostname: nodeName, addresses: [nodeIp] });
  const reporter = new StatusReporter(client, logger, signal);
  const events = createEventRecorder(client, 'kubelet', logger);
  const rotator = new LogRotator({
    root: podsLogRoot(options.dataDir),
    ...(options.logMaxBytes === undefined ? {} : { maxBytes: options.logMaxBytes }),
    ...(options.logMaxFiles === undefined ? {} : { maxFiles: options.logMaxFiles }),
    ...(options.timing?.logCheckMs === undefined ? {} : { intervalMs: options.timing.logCheckMs }),
    logger,
  });
  const pidsLimit = options.pidsLimit ?? DEFAULT_PIDS_LIMIT;
  const description: Omit<NodeDescription, 'port'> = {
    name: nodeName,
    nodeIp,
    caPem: tls.caCertPem,
    maxPods: options.maxPods ?? 110,
    version: options.version,
    driver,
    ...(options.labels === undefined ? {} : { labels: options.labels }),
  };
  const allocatable = nodeCapacity(description.maxPods);
  const sync = new PodSync({
    client,
    nodeName,
    nodeIp,
    dataDir: options.dataDir,
    state,
    driver,
    plan,
    reporter,
    events,
    rotator,
    node: { allocatable, hostIP: nodeIp },
    ...(pidsLimit > 0 ? { pidsLimit } : {}),
    ...(options.timing === undefined ? {} : { timing: options.timing }),
    logger,
  });
  const nodeApi = await startNodeApi({
    host: options.listenHost ?? nodeIp,
    port: options.port ?? 10250,
    certPem: tls.certPem,
    keyPem: tls.keyPem,
    authenticate: options.authenticate,
    context: { sync, dataDir: options.dataDir, driver, nodeName, logger },
    handlers: { exec: serveExec, stats: createStatsHandler(), ...options.handlers },
  });
  const heartbeat = new NodeHeartbeat({
    client,
    description: { ...description, port: nodeApi.port },
    logger,
    ...(options.timing?.leaseRenewMs === undefined ? {} : { leaseRenewMs: options.timing.leaseRenewMs }),
    ...(options.timing?.statusReportMs === undefined ? {} : { statusReportMs: options.timing.statusReportMs }),
  });
  const beating = heartbeat.run(signal);
  const rotating = rotator.run(signal);
  await sync.start(signal);
  logger.info('agent started', { node: nodeName, nodeIp, nodeApiPort: nodeApi.port, driver: driver.kind, pods: sync.list().length });

  let stopped: Promise<void> | undefined;
  return {
    nodeName,
    nodeIp,
    port: nodeApi.port,
    driver,
    heartbeat,
    sync,
    reporter,
    state,
    stop: () =>
      (stopped ??= (async () => {
        await sync.detach();
        abort.abort();
        // What waits on the server (a heartbeat in flight, events not yet written) gets a few
        // seconds: an unreachable server must not hold a shutdown (the caller closes the client).
        const bounded = new AbortController();
        const network = Promise.race([Promise.all([beating, events.flush()]), sleep(SHUTDOWN_NETWORK_MS, bounded.signal)]).finally(() => bounded.abort());
        await Promise.all([rotating, nodeApi.close(), network]);
        state.close();
        logger.info('agent stopped; pods keep running', { node: nodeName });
      })()),
  };
}
