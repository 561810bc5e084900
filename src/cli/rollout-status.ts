/**
 * `pm8s rollout status`: watches a Deployment, StatefulSet or DaemonSet and prints kubectl's progress
 * messages until the rollout is done, fails (progress deadline) or --timeout passes.
 */
import { ApiError } from '../api/errors.js';
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject, WatchEvent } from '../api/types.js';
import { isRecord } from '../api/types.js';
import { at, int, rec, recs, str } from '../api/tables/fields.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError } from './errors.js';
import type { Output } from './output.js';
import { parseDuration } from './printers.js';
import { namespaceFor, parseNamedTargets } from './targets.js';

export interface RolloutStatusFlags {
  namespace?: string;
  watch: boolean;
  timeout: string;
  revision?: number;
}

export interface RolloutState {
  message: string;
  done: boolean;
}

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** kubectl's status viewers (polymorphichelpers/rollout_status.go), message for message. */
export function rolloutState(kind: string, object: KubeObject, revision = 0): RolloutState {
  const spec = rec(object.spec);
  const status = rec(object.status);
  const name = object.metadata.name ?? '';
  const generation = object.metadata.generation ?? 0;
  const observed = int(status.observedGeneration);
  switch (kind) {
    case 'Deployment': {
      if (revision > 0) {
        const running = Number(object.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
        if (running !== revision) throw new CliError('RolloutFailed', `desired revision (${revision}) is different from the running revision (${running})`);
      }
      if (generation > observed) return waiting('Waiting for deployment spec update to be observed...');
      const progressing = recs(status.conditions).find((condition) => condition.type === 'Progressing');
      if (progressing && progressing.reason === 'ProgressDeadlineExceeded') throw new CliError('RolloutFailed', `deployment "${name}" exceeded its progress deadline`);
      const replicas = int(spec.replicas, 1);
      const updated = int(status.updatedReplicas);
      if (updated < replicas) return waiting(`Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`);
      if (int(status.replicas) > updated) return waiting(`Waiting for deployment "${name}" rollout to finish: ${int(status.replicas) - updated} old replicas are pending termination...`);
      if (int(status.availableReplicas) < updated) return waiting(`Waiting for deployment "${name}" rollout to finish: ${int(status.availableReplicas)} of ${updated} updated replicas are available...`);
      return { message: `deployment "${name}" successfully rolled out`, done: true };
    }
    case 'DaemonSet': {
      if ((str(at(spec, 'updateStrategy', 'type')) || 'RollingUpdate') !== 'RollingUpdate') throw onlyRollingUpdate();
      if (generation > observed) return waiting('Waiting for daemon set spec update to be observed...');
      const desired = int(status.desiredNumberScheduled);
      const updated = int(status.updatedNumberScheduled);
      if (updated < desired) return waiting(`Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
      if (int(status.numberAvailable) < desired) return waiting(`Waiting for daemon set "${name}" rollout to finish: ${int(status.numberAvailable)} of ${desired} updated pods are available...`);
      return { message: `daemon set "${name}" successfully rolled out`, done: true };
    }
    case 'StatefulSet': {
      const strategy = rec(spec.updateStrategy);
      if ((str(strategy.type) || 'RollingUpdate') !== 'RollingUpdate') throw onlyRollingUpdate();
      if (observed === 0 || generation > observed) return waiting('Waiting for statefulset spec update to be observed...');
      const replicas = int(spec.replicas, 1);
      if (int(status.readyReplicas) < replicas) return waiting(`Waiting for ${replicas - int(status.readyReplicas)} pods to be ready...`);
      const updated = int(status.updatedReplicas);
      if (isRecord(strategy.rollingUpdate)) {
        const partition = strategy.rollingUpdate.partition;
        if (typeof partition === 'number' && updated < replicas - partition) {
          return waiting(`Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`);
        }
        return { message: `partitioned roll out complete: ${updated} new pods have been updated...`, done: true };
      }
      if (str(status.updateRevision) !== str(status.currentRevision)) {
        return waiting(`waiting for statefulset rolling update to complete ${updated} pods at revision ${str(status.updateRevision)}...`);
      }
      return { message: `statefulset rolling update complete ${int(status.currentReplicas)} pods at revision ${str(status.currentRevision)}...`, done: true };
    }
    default:
      throw new CliError('NotSupported', `no status viewer has been implemented for ${kind}`);
  }
}

const waiting = (message: string): RolloutState => ({ message, done: false });
const onlyRollingUpdate = (): CliError => new CliError('NotSupported', 'rollout status is only available for RollingUpdate strategy type');

/** On a terminal one line rewritten in place; otherwise each distinct message once. */
export class ProgressLine {
  readonly #output: Output;
  #last: string | undefined;
  #open = false;

  constructor(output: Output) {
    this.#output = output;
  }

  show(message: string): void {
    if (message === this.#last) return;
    this.#last = message;
    if (this.#output.interactive === true) {
      this.#output.out(`\r${message}\x1b[K`);
      this.#open = true;
    } else {
      this.#output.out(`${message}\n`);
    }
  }

  /** Ends the live line, with a final message or none (before an error is printed). */
  end(message?: string): void {
    if (message !== undefined) {
      this.#output.out(this.#output.interactive === true ? `\r${message}\x1b[K\n` : `${message}\n`);
    } else if (this.#open) {
      this.#output.out('\n');
    }
    this.#open = false;
  }
}

export async function runRolloutStatus(args: string[], flags: RolloutStatusFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const targets = parseNamedTargets(args, 'get the rollout status of');
  await withClient(globals, async (client) => {
    for (const { info, name } of targets) {
      await watchRollout(client, info, namespaceFor(info, flags, client.namespace), name, flags, timeoutMs, context.output);
    }
  });
}

async function watchRollout(
  client: HttpClient,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  flags: RolloutStatusFlags,
  timeoutMs: number,
  output: Output,
): Promise<void> {
  const progress = new ProgressLine(output);
  const abort = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => abort.abort(), timeoutMs) : undefined;
  try {
    const first = await client.get(info, namespace, name);
    if (report(first)) return;
    if (!flags.watch) return progress.end();
    for await (const object of objectVersions(client, info, namespace, first, abort.signal)) {
      if (report(object)) return;
    }
    throw new CliError('Timeout', 'timed out waiting for the condition');
  } catch (error) {
    progress.end();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  function report(object: KubeObject): boolean {
    const state = rolloutState(info.kind, object, flags.revision ?? 0);
    if (state.done) progress.end(state.message);
    else progress.show(state.message);
    return state.done;
  }
}

/**
 * Every new version of one object until `signal` aborts: a watch from the version read, resumed
 * (after a fresh read) whenever the server ends the stream. Deletion ends the wait with an error.
 */
async function* objectVersions(client: HttpClient, info: ResourceInfo, namespace: string | undefined, first: KubeObject, signal: AbortSignal): AsyncGenerator<KubeObject> {
  const name = first.metadata.name ?? '';
  let resourceVersion = first.metadata.resourceVersion ?? '';
  while (!signal.aborted) {
    const events: WatchEvent[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const handle = await client.watch(info, namespace, { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: true }, (event) => {
      events.push(event);
      wake?.();
    });
    const finish = () => {
      ended = true;
      wake?.();
    };
    handle.done.then(finish, finish);
    const onAbort = () => handle.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    let changes = 0;
    try {
      while (!signal.aborted) {
        const event = events.shift();
        if (event === undefined) {
          if (ended) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        // An ERROR (e.g. 410 Expired) is handled like the end of the stream: read afresh, watch again.
        if (event.type === 'ERROR') break;
        if (event.type === 'DELETED') throw new CliError('RolloutFailed', 'object has been deleted');
        resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
        if (event.type === 'BOOKMARK') continue;
        changes++;
        yield event.object;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      handle.stop();
    }
    if (signal.aborted) return;
    // A stream that ended without news is not retried in a tight loop.
    if (changes === 0) await sleep(1000, signal);
    let fresh: KubeObject;
    try {
      fresh = await client.get(info, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) throw new CliError('RolloutFailed', 'object has been deleted');
      throw error;
    }
    resourceVersion = fresh.metadata.resourceVersion ?? '';
    yield fresh;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
