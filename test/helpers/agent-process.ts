/**
 * A real `pm8s agent` process (the built binary) against an in-process server, for the tests that
 * SIGKILL the agent or measure its memory. `start()` resolves once the agent logged "agent
 * started"; `kill()` SIGKILLs it by PID. Teardown stops the agent and kills every pod process it
 * started (by the PIDs of their wrappers' process groups).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { Pod } from '../../src/api/kinds/pod.js';
import { InProcessClient } from '../../src/client/in-process-client.js';
import type { RunningServer } from '../../src/daemon/server/server.js';
import { killWrappers, pods, startAgentTestServer } from './agent-cluster.js';
export { wrappersByPod } from './agent-cluster.js';
import { scratchDir, testCgroupRoot } from './runner.js';
import { waitFor } from './wait.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pm8s.js');

export interface AgentProcess {
  server: RunningServer;
  client: InProcessClient;
  nodeName: string;
  dataDir: string;
  serverDataDir: string;
  /** The running agent's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** Everything the agent wrote to stdout/stderr since its last start. */
  readonly output: string;
  start(): Promise<number>;
  /** SIGKILL by PID; resolves when it is gone. */
  kill(): Promise<void>;
  /** SIGTERM by PID (agent shutdown, pods keep running). */
  stop(): Promise<void>;
  rssKiB(): number;
  createPod(name: string, spec: Record<string, unknown>): Promise<unknown>;
  getPod(name: string): Promise<Pod>;
}

let counter = 0;

export async function startAgentProcess(t: Test, extraArgs: string[] = []): Promise<AgentProcess> {
  const dir = scratchDir(t);
  // A long grace: the tests kill the agent on purpose and must not see its pods evicted meanwhile.
  const server = await startAgentTestServer(dir, 20_000);
  const client = new InProcessClient(server.api);
  const cgroupRoot = testCgroupRoot(t);
  const dataDir = path.join(dir, 'agent');
  const nodeName = `proc-node-${process.pid}-${++counter}`;
  let child: ChildProcess | undefined;
  let output = '';
  const exited = () =>
    new Promise<void>((resolve) => {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
    });
  const agent: AgentProcess = {
    server,
    client,
    nodeName,
    dataDir,
    serverDataDir: path.join(dir, 'server'),
    get pid() {
      return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    get output() {
      return output;
    },
    async start() {
      output = '';
      const started = spawn(
        process.execPath,
        [BIN, 'agent', '--kubeconfig', server.kubeconfigPath, '--node-name', nodeName, '--node-ip', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--cgroup-root', cgroupRoot, ...extraArgs],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = started;
      started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output.includes('"agent started"') || started.exitCode !== null, { what: 'the agent to start', timeout: 20_000 });
      if (started.exitCode !== null) throw new Error(`the agent exited with ${started.exitCode}: ${output}`);
      return started.pid!;
    },
    async kill() {
      if (agent.pid !== undefined) process.kill(agent.pid, 'SIGKILL');
      await exited();
    },
    async stop() {
      if (agent.pid !== undefined) process.kill(agent.pid, 'SIGTERM');
      await exited();
    },
    rssKiB() {
      const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    },
    createPod: (name, spec) =>
      client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, terminationGracePeriodSeconds: 1, ...spec } }),
    getPod: async (name) => (await client.get(pods, 'default', name)) as unknown as Pod,
  };
  t.teardown(async () => {
    await agent.kill();
    killWrappers(dataDir);
    await server.stop();
  });
  return agent;
}
