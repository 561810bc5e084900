import path from 'node:path';
import { startServer } from '../daemon/server/server.js';
import { defaultDataDir } from '../lib/data-dir.js';
import { createLogger } from '../lib/logger.js';
import type { ServerFlags } from './commands/server.js';
import { PM8S_VERSION } from './main.js';
import { stopOnSignal } from './stop-on-signal.js';

/** Runs `pm8s server` until SIGTERM/SIGINT; a failed start exits 1 with the reason in the log. */
export async function runServer(flags: ServerFlags): Promise<void> {
  const logger = createLogger({ level: flags.logLevel });
  let running;
  try {
    running = await startServer({
      dataDir: path.resolve(flags.dataDir ?? defaultDataDir('server')),
      listen: flags.listen,
      datastore: flags.datastore,
      tlsSans: flags.tlsSan,
      insecureHttp: flags.insecureHttp === true,
      logger,
      version: PM8S_VERSION,
      compactIntervalMs: flags.compactInterval * 1000,
      compactRetainRevisions: flags.compactRetain,
      eventTtlSeconds: flags.eventTtl,
      expireIntervalMs: flags.expireInterval * 1000,
      controllers: flags.controllers && {
        nodeMonitorPeriodMs: flags.nodeMonitorPeriod * 1000,
        nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod * 1000,
        defaultTolerationSeconds: flags.defaultTolerationSeconds,
        schedulerRetryMs: flags.schedulerRetryPeriod * 1000,
      },
    });
  } catch (error) {
    logger.error('pm8s server failed to start', { error: (error as Error).message });
    process.exitCode = 1;
    return;
  }
  const server = running;
  await stopOnSignal(logger, 'shutting down', () => server.stop());
}
