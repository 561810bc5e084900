/**
 * A control plane under test: an in-process `pm8s server` with its scheduler and controllers
 * (test-scaled timers), an in-process client, and simulated nodes. Everything stops at teardown.
 */
import type { Test } from 'tap';
import { InProcessClient } from '../../src/client/in-process-client.js';
import type { ControllerConfig } from '../../src/daemon/server/controllers/controller.js';
import type { RunningServer, ServerOptions } from '../../src/daemon/server/server.js';
import { startServer } from '../../src/daemon/server/server.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { SimulatedClusterOptions, SimulatedNodeSpec } from '../../src/testing/simulated-nodes.js';
import { SimulatedCluster } from '../../src/testing/simulated-nodes.js';

export interface TestCluster {
  server: RunningServer;
  client: InProcessClient;
  nodes: SimulatedCluster;
}

export async function startTestCluster(
  t: Test,
  options: {
    nodes?: Record<string, SimulatedNodeSpec>;
    controllers?: Partial<ControllerConfig>;
    simulated?: SimulatedClusterOptions;
    server?: Partial<ServerOptions>;
  } = {},
): Promise<TestCluster> {
  const server = await startServer({
    dataDir: t.testdir(),
    listen: '127.0.0.1:0',
    logger: silentLogger,
    version: 'test',
    controllers: { nodeMonitorGracePeriodMs: 2000, nodeMonitorPeriodMs: 200, queue: { baseDelayMs: 5, maxDelayMs: 1000 }, ...options.controllers },
    ...options.server,
  });
  const client = new InProcessClient(server.api);
  const nodes = new SimulatedCluster(client, { leaseRenewMs: 200, ...options.simulated });
  t.teardown(async () => {
    nodes.stop();
    await server.stop();
  });
  await server.controllersStarted;
  await nodes.start();
  for (const [name, spec] of Object.entries(options.nodes ?? {})) await nodes.addNode(name, spec);
  return { server, client, nodes };
}
