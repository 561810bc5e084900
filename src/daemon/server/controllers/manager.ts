/** Starts the scheduler and controllers inside `pm8s server`: shared informers first, workers after they sync. */
import { setMaxListeners } from 'node:events';
import type { ApiClient } from '../../../client/api-client.js';
import type { Logger } from '../../../lib/logger.js';
import type { Controller, ControllerConfig, ControllerContext } from './controller.js';
import { newQueue, runController } from './controller.js';
import { createEventRecorder } from './event-recorder.js';
import { InformerFactory } from './informer-factory.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerManager {
  /** Resolves once every informer has synced and every controller runs. */
  readonly started: Promise<void>;
  /** Stops workers and informers; resolves when all have returned. */
  stop(): Promise<void>;
}

export function startControllers(options: {
  client: ApiClient;
  controllers: readonly Controller[];
  config: ControllerConfig;
  logger: Logger;
  storeHealthy: () => boolean;
  now?: () => Date;
}): ControllerManager {
  const abort = new AbortController();
  // Every informer and controller listens on this one signal; more than the default 10 is expected.
  setMaxListeners(1000, abort.signal);
  const logger = options.logger.child({ component: 'controller-manager' });
  const informers = new InformerFactory(options.client, logger);
  const context: ControllerContext = {
    client: options.client,
    informers,
    recorder: createEventRecorder(options.client, 'pm8s-controller-manager', logger),
    logger,
    config: options.config,
    now: options.now ?? (() => new Date()),
    storeHealthy: options.storeHealthy,
  };
  const runs: Promise<void>[] = [];
  const started = (async () => {
    const queues = options.controllers.map((controller) => {
      const queue = controller.queueOptions ? new WorkQueue({ ...options.config.queue, ...controller.queueOptions(options.config) }) : newQueue(options.config);
      controller.setup(context, queue);
      return queue;
    });
    await informers.start(abort.signal);
    options.controllers.forEach((controller, index) => runs.push(runController(controller, context, queues[index]!, abort.signal)));
    logger.info('controllers running', { controllers: options.controllers.map((controller) => controller.name) });
  })();
  // A start that fails because we stopped first is not an error worth reporting.
  started.catch((error: unknown) => {
    if (!abort.signal.aborted) logger.error('controllers failed to start', { error });
  });
  return {
    started,
    async stop() {
      abort.abort();
      await Promise.allSettled([started, ...runs]);
      // Events still waiting are best effort: give them a moment, never hold up shutdown for long.
      await Promise.race([context.recorder.flush(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}
