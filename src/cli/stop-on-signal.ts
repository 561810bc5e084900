import type { Logger } from '../lib/logger.js';

/**
 * Resolves after SIGTERM or SIGINT has run `stop` (a daemon's foreground life); a failed stop is
 * logged and leaves exit code 1.
 */
export function stopOnSignal(logger: Logger, message: string, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info(message, { signal });
      stop().then(resolve, (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
