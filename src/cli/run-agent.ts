import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { quantityValue } from '../api/quantity.js';
import { HttpClient, type HttpClientOptions } from '../client/http-client.js';
import { defaultKubeconfigPath, loadKubeconfig, resolveContextWithFiles } from '../client/kubeconfig.js';
import { resolveNodeName, startAgent } from '../daemon/agent/agent.js';
import { defaultDataDir } from '../lib/data-dir.js';
import { createTokenVerifier } from '../daemon/agent/token-verifier.js';
import { createLogger } from '../lib/logger.js';
import { detectCgroupDriver } from '../runtime/cgroups/detect-cgroup-driver.js';
import type { AgentFlags } from './commands/agent.js';
import { PM8S_VERSION } from './main.js';
import { stopOnSignal } from './stop-on-signal.js';

/** Runs `pm8s agent` until SIGTERM/SIGINT, which stop the agent and leave every pod running. */
export async function runAgent(flags: AgentFlags, globals: { kubeconfig?: string; context?: string }): Promise<void> {
  const logger = createLogger({ level: flags.logLevel });
  let running;
  let client: HttpClient | undefined;
  try {
    const connection = await connectionFrom(flags, globals);
    client = new HttpClient(connection);
    const { token: _token, ...withoutToken } = connection;
    const nodeName = resolveNodeName(flags.nodeName);
    running = await startAgent({
      client,
      authenticate: createTokenVerifier(withoutToken, nodeName),
      nodeName,
      ...(flags.nodeIp === undefined ? {} : { nodeIp: flags.nodeIp }),
      dataDir: path.resolve(flags.dataDir ?? defaultDataDir('agent')),
      port: flags.port,
      logger,
      version: PM8S_VERSION,
      pidsLimit: flags.pidsLimit,
      maxPods: flags.maxPods,
      logMaxBytes: Number(quantityValue(flags.logMaxSize)),
      logMaxFiles: flags.logMaxFiles,
      labels: parseLabels(flags.nodeLabel),
      driver: await detectCgroupDriver({ root: flags.cgroupRoot }),
    });
  } catch (error) {
    logger.error('pm8s agent failed to start', { error: (error as Error).message });
    client?.close();
    process.exitCode = 1;
    return;
  }
  const agent = running;
  await stopOnSignal(logger, 'shutting down the agent; pods keep running', () => agent.stop());
  client.close();
}

async function connectionFrom(flags: AgentFlags, globals: { kubeconfig?: string; context?: string }): Promise<HttpClientOptions> {
  if (flags.server !== undefined) {
    const token = flags.token ?? process.env.PM8S_TOKEN;
    if (token === undefined || token === '') throw new Error('--server needs --token (or $PM8S_TOKEN)');
    return {
      server: flags.server,
      token,
      ...(flags.caFile === undefined ? {} : { caPem: await readFile(flags.caFile, 'utf8') }),
      ...(flags.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    };
  }
  const file = globals.kubeconfig ?? defaultKubeconfigPath();
  const context = await resolveContextWithFiles(await loadKubeconfig(file), globals.context, file);
  const token = flags.token ?? context.token;
  if (token === undefined) throw new Error(`no token: pass --token or use a kubeconfig with one (${file})`);
  return {
    server: context.server,
    token,
    ...(context.caPem === undefined ? {} : { caPem: context.caPem }),
    insecureSkipTlsVerify: flags.insecureSkipTlsVerify === true || context.insecureSkipTlsVerify,
  };
}

function parseLabels(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--node-label ${JSON.stringify(pair)} must be key=value`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}
