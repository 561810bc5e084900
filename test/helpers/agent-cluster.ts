/**
 * A real one-node cluster under test: an in-process `pm8s server` (HTTPS on 127.0.0.1:0, with
 * its controllers) and an in-process agent running real processes in a throwaway cgroup root,
 * with test-scaled timers. `restartAgent()` stops the agent (pods keep running) and starts a new
 * one on the same data dir, as after an upgrade or crash. At teardown the agent stops, every pod
 * process it ran is killed by PID (their wrappers' process groups), and the server stops.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import type { Pod } from '../../src/api/kinds/pod.js';
import { resolveResource } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import { startAgent, type AgentOptions, type RunningAgent } from '../../src/daemon/agent/agent.js';
import type { RunningServer } from '../../src/daemon/server/server.js';
import { startServer } from '../../src/daemon/server/server.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { CgroupDriver } from '../../src/runtime/cgroups/cgroup-driver.js';
import { scratchDir, testDriver, TIMING } from './runner.js';
import { waitFor } from './wait.js';

export const pods = resolveResource('pods')!;

export interface AgentCluster {
  server: RunningServer;
  client: InProcessClient;
  agent: RunningAgent;
  driver: CgroupDriver;
  dataDir: string;
  nodeName: string;
  /** Agent shutdown (pods keep running), then a fresh agent on the same data dir. */
  restartAgent(options?: { beforeStart?: () => void | Promise<void> }): Promise<RunningAgent>;
  /** Creates a pod bound to the node. */
  createPod(name: string, spec: Record<string, unknown>, namespace?: string): Promise<KubeObject>;
  getPod(name: string, namespace?: string): Promise<Pod>;
  /** Waits until `check` holds for the pod's latest state; returns it. */
  waitForPod(name: string, check: (pod: Pod) => boolean, what: string, timeout?: number, namespace?: string): Promise<Pod>;
}

let counter = 0;

/** The server an agent under test talks to: HTTPS on a free loopback port, controllers on, in `<dir>/server`. */
export function startAgentTestServer(dir: string, nodeMonitorGracePeriodMs: number): Promise<RunningServer> {
  return startServer({
    dataDir: path.join(dir, 'server'),
    listen: '127.0.0.1:0',
    logger: silentLogger,
    version: 'test',
    controllers: { nodeMonitorGracePeriodMs, nodeMonitorPeriodMs: 200, queue: { baseDelayMs: 5, maxDelayMs: 1000 } },
  });
}

export async function startAgentCluster(t: Test, options: { agent?: Partial<AgentOptions> } = {}): Promise<AgentCluster> {
  const dir = scratchDir(t);
  const server = await startAgentTestServer(dir, 4000);
  const client = new InProcessClient(server.api);
  const driver = await testDriver(t);
  const dataDir = path.join(dir, 'agent');
  const nodeName = `node-${process.pid}-${++counter}`;
  const start = () =>
    startAgent({
      client,
      authenticate: async (header) => server.authenticate(header),
      nodeName,
      nodeIp: '127.0.0.1',
      port: 0,
      dataDir,
      logger: silentLogger,
      version: 'test',
      driver,
      timing: { ...TIMING, leaseRenewMs: 500, statusReportMs: 5000, logCheckMs: 100 },
      ...options.agent,
    });
  let agent = await start();
  const cluster: AgentCluster = {
    server,
    client,
    get agent() {
      return agent;
    },
    driver,
    dataDir,
    nodeName,
    async restartAgent(restart = {}) {
      await agent.stop();
      await restart.beforeStart?.();
      agent = await start();
      return agent;
    },
    createPod: (name, spec, namespace = 'default') =>
      client.create(pods, namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec } }),
    getPod: async (name, namespace = 'default') => (await client.get(pods, namespace, name)) as unknown as Pod,
    waitForPod: async (name, check, what, timeout = 20_000, namespace = 'default') => {
      let last: Pod | undefined;
      try {
        return await waitFor(
          async () => {
            last = (await client.get(pods, namespace, name).catch(() => undefined)) as unknown as Pod | undefined;
            return last !== undefined && check(last) ? last : undefined;
          },
          { what: `${name}: ${what}`, timeout },
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`);
      }
    },
  };
  t.teardown(async () => {
    await agent.stop().catch(() => undefined);
    killWrappers(dataDir);
    await server.stop();
  });
  await agent.heartbeat.registered;
  return cluster;
}

/** Kills (by PID) the process group of every live wrapper of an agent whose data dir is `dataDir`. */
export function killWrappers(dataDir: string): void {
  for (const pid of [...wrappersByPod(dataDir).values()].flat()) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Live wrappers per pod UID: a wrapper's argv names its status file under <dataDir>/containers/<uid>/. */
export function wrappersByPod(dataDir: string): Map<string, number[]> {
  const root = path.join(dataDir, 'containers');
  const found = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const statusFile = argv[4];
    if (argv[1] !== '-c' || statusFile === undefined || path.dirname(path.dirname(statusFile)) !== root) continue;
    const uid = path.basename(path.dirname(statusFile));
    found.set(uid, [...(found.get(uid) ?? []), Number(entry)]);
  }
  return found;
}

/** The container's status in a pod. */
export function containerStatus(pod: Pod, name?: string): Record<string, any> | undefined {
  const statuses = ((pod.status as Record<string, unknown> | undefined)?.containerStatuses ?? []) as Array<Record<string, any>>;
  return name === undefined ? statuses[0] : statuses.find((status) => status.name === name);
}

export function phaseOf(pod: Pod): string | undefined {
  return (pod.status as { phase?: string } | undefined)?.phase;
}

export function conditionOf(pod: Pod, type: string): string | undefined {
  const conditions = ((pod.status as Record<string, unknown> | undefined)?.conditions ?? []) as Array<{ type: string; status: string }>;
  return conditions.find((condition) => condition.type === type)?.status;
}

/** The wrapper's pid from a containerID `pm8s://<pid>-<startTime>`. */
export function wrapperPid(containerID: string | undefined): number {
  const match = /^pm8s:\/\/(\d+)-/.exec(containerID ?? '');
  if (match === null) throw new Error(`no pid in containerID ${containerID}`);
  return Number(match[1]);
}

/** The container command's pid: the wrapper's only child. */
export function commandPid(containerID: string | undefined): number {
  const pid = wrapperPid(containerID);
  return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
}
