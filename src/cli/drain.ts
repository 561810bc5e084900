/**
 * `pm8s drain NODE`: cordon, then evict every pod on the node except DaemonSet-managed and mirror
 * pods, and wait until they are gone (kubectl's drain, without PodDisruptionBudgets).
 */
import { ApiError } from '../api/errors.js';
import { resolveResource } from '../api/resources.js';
import { rec, recs, str } from '../api/tables/fields.js';
import type { KubeObject } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { setUnschedulable } from './cordon.js';
import { CliError } from './errors.js';
import type { Output } from './output.js';
import { parseDuration } from './printers.js';

const nodes = resolveResource('nodes')!;
const pods = resolveResource('pods')!;

export interface DrainFlags {
  ignoreDaemonsets: boolean;
  deleteEmptydirData?: boolean;
  force?: boolean;
  gracePeriod: number;
  timeout: string;
  disableEviction?: boolean;
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const POLL_MS = 500;
/** kubectl retries an eviction refused with 429 (a disruption budget elsewhere) after 5 s. */
const TOO_MANY_REQUESTS_RETRY_MS = 5000;

/** Pods to evict, and kubectl's grouped warnings and refusals (`message: ns/a, ns/b`). */
interface Plan {
  evict: KubeObject[];
  warnings: Map<string, string[]>;
  refusals: Map<string, string[]>;
}

export async function runDrain(nodeName: string, flags: DrainFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  const { output } = context;
  await withClient(globals, async (client) => {
    await setUnschedulable(client, await client.get(nodes, undefined, nodeName), true, output);
    const plan = planDrain((await client.list(pods, undefined, { fieldSelector: `spec.nodeName=${nodeName}` })).items, flags);
    if (plan.refusals.size > 0) fail(nodeName, grouped(plan.refusals), output);
    // kubectl joins warnings with "; " but aggregates errors as "[a, b]".
    if (plan.warnings.size > 0) output.err(`Warning: ${[...plan.warnings].map(([message, names]) => `${message}: ${names.join(', ')}`).join('; ')}\n`);
    const failures = await evictAll(client, plan.evict, flags, deadline, timeoutMs, output);
    if (failures.length > 0) fail(nodeName, failures.length === 1 ? failures[0]! : `[${failures.join(', ')}]`, output);
    output.out(`node/${nodeName} drained\n`);
  });
}

function fail(nodeName: string, message: string, output: Output): never {
  output.err(`error: unable to drain node "${nodeName}" due to error: ${message}, continuing command...\nThere are pending nodes to be drained:\n ${nodeName}\n`);
  throw new CliError('DrainFailed', message);
}

/** kubectl's pod filters: DaemonSet, mirror, local storage, unreplicated. */
export function planDrain(items: KubeObject[], flags: DrainFlags): Plan {
  const plan: Plan = { evict: [], warnings: new Map(), refusals: new Map() };
  const add = (map: Map<string, string[]>, message: string, pod: KubeObject) => {
    const list = map.get(message) ?? [];
    list.push(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
    map.set(message, list);
  };
  for (const pod of items) {
    if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) continue;
    const controller = (pod.metadata.ownerReferences ?? []).find((owner) => owner.controller === true);
    if (controller?.kind === 'DaemonSet') {
      // A DaemonSet would put the pod straight back (its pods tolerate unschedulable nodes).
      if (flags.ignoreDaemonsets) add(plan.warnings, 'ignoring DaemonSet-managed Pods', pod);
      else add(plan.refusals, 'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)', pod);
      continue;
    }
    const phase = str(rec(pod.status).phase);
    const finished = phase === 'Succeeded' || phase === 'Failed';
    let refused = false;
    if (!finished && flags.deleteEmptydirData !== true && recs(rec(pod.spec).volumes).some((volume) => volume.emptyDir !== undefined)) {
      add(plan.refusals, 'cannot delete Pods with local storage (use --delete-emptydir-data to override)', pod);
      refused = true;
    }
    if (!finished && controller === undefined) {
      if (flags.force === true) add(plan.warnings, 'deleting Pods that declare no controller', pod);
      else {
        add(plan.refusals, 'cannot delete Pods that declare no controller (use --force to override)', pod);
        refused = true;
      }
    }
    if (!refused) plan.evict.push(pod);
  }
  return plan;
}

function grouped(map: Map<string, string[]>): string {
  const parts = [...map].map(([message, names]) => `${message}: ${names.join(', ')}`);
  return parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
}

/** Evicts (or deletes) every pod, then waits until each is gone; returns kubectl-worded failures. */
async function evictAll(client: HttpClient, items: KubeObject[], flags: DrainFlags, deadline: number, timeoutMs: number, output: Output): Promise<string[]> {
  const failures: string[] = [];
  const pending = new Map<string, { pod: KubeObject; verb: string }>();
  await Promise.all(
    items.map(async (pod) => {
      try {
        const verb = await evictOne(client, pod, flags, deadline, output);
        pending.set(pod.metadata.uid ?? '', { pod, verb });
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) return;
        const detail = error instanceof Error ? error.message : String(error);
        failures.push(`error when evicting pods/"${pod.metadata.name ?? ''}" -n "${pod.metadata.namespace ?? ''}": ${detail}`);
      }
    }),
  );
  // One list per poll, whatever the number of pods: a pod is gone when its uid no longer is on the node.
  const nodeName = str(rec(items[0]?.spec).nodeName);
  while (pending.size > 0) {
    const present = new Set((await client.list(pods, undefined, { fieldSelector: `spec.nodeName=${nodeName}` })).items.map((pod) => pod.metadata.uid));
    for (const [uid, { pod, verb }] of pending) {
      if (present.has(uid)) continue;
      pending.delete(uid);
      output.out(`pod/${pod.metadata.name ?? ''} ${verb}\n`);
    }
    if (pending.size === 0) break;
    if (Date.now() + POLL_MS > deadline) {
      for (const { pod } of pending.values()) {
        failures.push(`error when waiting for pod "${pod.metadata.name ?? ''}" in namespace "${pod.metadata.namespace ?? ''}" to terminate: global timeout reached: ${timeoutMs / 1000}s`);
      }
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return failures;
}

/** Returns how the pod went: `evicted`, or `deleted` where eviction is disabled or not served (404/405, as kubectl falls back). */
async function evictOne(client: HttpClient, pod: KubeObject, flags: DrainFlags, deadline: number, output: Output): Promise<string> {
  const namespace = pod.metadata.namespace;
  const name = pod.metadata.name ?? '';
  const grace = flags.gracePeriod >= 0 ? { gracePeriodSeconds: flags.gracePeriod } : {};
  const precondition = { preconditions: { uid: pod.metadata.uid ?? '' } };
  if (flags.disableEviction === true) {
    await client.delete(pods, namespace, name, { ...grace, ...precondition });
    return 'deleted';
  }
  output.out(`evicting pod ${namespace ?? ''}/${name}\n`);
  for (;;) {
    try {
      await client.evict(pods, namespace, name, grace);
      return 'evicted';
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === 429 && Date.now() + TOO_MANY_REQUESTS_RETRY_MS < deadline) {
        output.err(`error when evicting pods/"${name}" -n "${namespace ?? ''}" (will retry after 5s): ${error.message}\n`);
        await new Promise((resolve) => setTimeout(resolve, TOO_MANY_REQUESTS_RETRY_MS));
        continue;
      }
      if (error.code !== 404 && error.code !== 405) throw error;
      // 404 is either "no such pod" (gone already: get says 404 too) or "no eviction subresource here".
      await client.get(pods, namespace, name);
      await client.delete(pods, namespace, name, { ...grace, ...precondition });
      return 'deleted';
    }
  }
}
