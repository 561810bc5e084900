import path from 'node:path';
import { quantityValue } from '../api/quantity.js';
import { InProcessClient } from '../client/in-process-client.js';
import { defaultKubeconfigPath, loadKubeconfig, writeKubeconfig } from '../client/kubeconfig.js';
import { startAgent, type RunningAgent } from '../daemon/agent/agent.js';
import { startServer, type RunningServer } from '../daemon/server/server.js';
import { defaultDataDir } from '../lib/data-dir.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { detectCgroupDriver } from '../runtime/cgroups/detect-cgroup-driver.js';
import type { UpFlags } from './commands/up.js';
import type { CliContext } from './context.js';
import { PM8S_VERSION } from './main.js';
import { stopOnSignal } from './stop-on-signal.js';

/** Runs `pm8s up` until SIGTERM/SIGINT: server + agent in one process; pods outlive it and are re-adopted. */
export async function runUp(flags: UpFlags, context: CliContext): Promise<void> {
  const logger = createLogger({ level: flags.logLevel });
  const dataDir = path.resolve(flags.dataDir ?? defaultDataDir());
  let server: RunningServer | undefined;
  let agent: RunningAgent | undefined;
  try {
    server = await startServer({ dataDir: path.join(dataDir, 'server'), listen: flags.listen, logger, version: PM8S_VERSION });
    const running = server;
    agent = await startAgent({
      client: new InProcessClient(server.api),
      authenticate: async (header) => running.authenticate(header),
      ...(flags.nodeName === undefined ? {} : { nodeName: flags.nodeName }),
      nodeIp: flags.nodeIp,
      listenHost: flags.nodeIp,
      // Only this process calls the node API here, so any free port does.
      port: 0,
      dataDir: path.join(dataDir, 'agent'),
      logger,
      version: PM8S_VERSION,
      pidsLimit: flags.pidsLimit,
      logMaxBytes: Number(quantityValue(flags.logMaxSize)),
      logMaxFiles: flags.logMaxFiles,
      driver: await detectCgroupDriver({ root: flags.cgroupRoot }),
    });
    await agent.heartbeat.registered;
    const config = await publishKubeconfig(server.kubeconfigPath, logger);
    if (flags.filename.length > 0) {
      const { runApply } = await import('./apply.js');
      await runApply({ filename: flags.filename, ...(flags.recursive ? { recursive: true } : {}), dryRun: 'none' }, { kubeconfig: server.kubeconfigPath }, context);
      if (context.exitCode !== 0) throw new Error('applying the manifests failed (see above); the cluster keeps running');
    }
    context.output.out(`pm8s is up: node ${agent.nodeName} is Ready, API at ${server.url}\n`);
    context.output.out(config === defaultKubeconfigPath() ? `try: pm8s get pods -A\n` : `try: PM8S_CONFIG=${config} pm8s get pods -A\n`);
  } catch (error) {
    logger.error('pm8s up failed', { error: (error as Error).message });
    if (agent === undefined) {
      // Half a cluster is no use: stop what started and fail.
      await server?.stop().catch(() => undefined);
      process.exitCode = 1;
      return;
    }
    if (context.exitCode === 0) process.exitCode = 1;
  }
  const [runningServer, runningAgent] = [server, agent];
  await stopOnSignal(logger, 'shutting down; pods keep running', async () => {
    await runningAgent?.stop();
    await runningServer?.stop();
  });
}

/**
 * Makes the admin config the default one ($PM8S_CONFIG or ~/.pm8s/config) unless that file belongs
 * to another cluster; returns the path the CLI should use.
 */
async function publishKubeconfig(ownPath: string, logger: Logger): Promise<string> {
  const target = defaultKubeconfigPath();
  const own = await loadKubeconfig(ownPath);
  try {
    const existing = await loadKubeconfig(target);
    const same = existing.clusters.some((entry) => entry.cluster.server === own.clusters[0]?.cluster.server);
    if (!same) {
      logger.info('the default client config belongs to another cluster; leaving it alone', { config: target, ours: ownPath });
      return ownPath;
    }
  } catch (error) {
    if ((error as { code?: string }).code !== 'KubeconfigNotFound') {
      logger.warn('cannot read the default client config; leaving it alone', { config: target, error: (error as Error).message });
      return ownPath;
    }
  }
  await writeKubeconfig(target, own);
  return target;
}
