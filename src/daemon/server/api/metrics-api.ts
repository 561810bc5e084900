/**
 * `metrics.k8s.io/v1beta1` as metrics-server serves it (NodeMetrics, PodMetrics; read-only), for
 * `pm8s top`: each request asks the agents of the Ready nodes concerned for their
 * `/stats/summary` in parallel and answers from what they report. A node whose agent does not
 * answer is left out (and logged), as metrics-server leaves out nodes it could not scrape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, methodNotAllowed } from '../../../api/errors.js';
import { formatQuantity } from '../../../api/quantity.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import type { Logger } from '../../../lib/logger.js';
import type { NodeProxy } from './node-proxy.js';
import type { ObjectApi } from './object-api.js';
import { rfc3339 } from '../../../api/meta.js';

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const GROUP_VERSION = `${GROUP}/${VERSION}`;
const PREFIX = `/apis/${GROUP}`;

const podsInfo = resolveResource('pods')!;
const nodesInfo = resolveResource('nodes')!;

export interface MetricsApiOptions {
  api: ObjectApi;
  nodeProxy?: NodeProxy;
  logger: Logger;
}

export interface Usage {
  cpu: string;
  memory: string;
}

/** What the agents' Summary holds that we read (see src/daemon/agent/node-api-stats.ts). */
interface SummaryCpu {
  time?: string;
  usageNanoCores?: number;
  windowNanoSeconds?: number;
}
interface SummaryMemory {
  workingSetBytes?: number;
}
interface SummaryPod {
  podRef?: { name?: string; namespace?: string; uid?: string };
  cpu?: SummaryCpu;
  containers?: Array<{ name?: string; cpu?: SummaryCpu; memory?: SummaryMemory }>;
}
interface Summary {
  node?: { nodeName?: string; cpu?: SummaryCpu; memory?: SummaryMemory };
  pods?: SummaryPod[];
}

export function isMetricsPath(pathname: string): boolean {
  return pathname === PREFIX || pathname.startsWith(`${PREFIX}/`);
}

export async function serveMetrics(request: IncomingMessage, response: ServerResponse, url: URL, options: MetricsApiOptions): Promise<void> {
  if (request.method !== 'GET') throw methodNotAllowed(request.method ?? '');
  const parts = url.pathname.slice(PREFIX.length).split('/').filter((part) => part !== '').map((part) => decodeURIComponent(part));
  if (parts.length === 0) return send(response, apiGroup());
  if (parts[0] !== VERSION) throw notFound();
  const rest = parts.slice(1);
  const selectors = {
    ...(url.searchParams.get('labelSelector') ? { labelSelector: url.searchParams.get('labelSelector')! } : {}),
    ...(url.searchParams.get('fieldSelector') ? { fieldSelector: url.searchParams.get('fieldSelector')! } : {}),
  };
  if (rest.length === 0) return send(response, resourceList());
  if (rest[0] === 'nodes' && rest.length <= 2) return send(response, await nodeMetrics(options, rest[1], selectors));
  if (rest[0] === 'pods' && rest.length === 1) return send(response, await podMetrics(options, undefined, undefined, selectors));
  if (rest[0] === 'namespaces' && rest[1] !== undefined && rest[2] === 'pods' && rest.length <= 4) return send(response, await podMetrics(options, rest[1], rest[3], selectors));
  throw notFound();
}

type Selectors = { labelSelector?: string; fieldSelector?: string };

async function nodeMetrics(options: MetricsApiOptions, name: string | undefined, selectors: Selectors): Promise<unknown> {
  const nodes = name === undefined ? (await options.api.list(nodesInfo, undefined, selectors)).items : [await getOr404(options, nodesInfo, undefined, name, 'nodemetrics')];
  const summaries = await scrape(options, nodes.filter(isReady).map((node) => node.metadata.name ?? ''));
  const now = rfc3339();
  const items = nodes.flatMap((node) => {
    const stats = summaries.get(node.metadata.name ?? '')?.node;
    if (stats?.cpu === undefined || stats.memory === undefined) return [];
    return [
      {
        metadata: { name: node.metadata.name, creationTimestamp: now, ...(node.metadata.labels === undefined ? {} : { labels: node.metadata.labels }) },
        timestamp: stats.cpu.time ?? now,
        window: duration(stats.cpu.windowNanoSeconds),
        usage: usage(stats.cpu, stats.memory),
      },
    ];
  });
  if (name !== undefined) {
    if (items[0] === undefined) throw new ApiError(404, 'NotFound', `nodemetrics.metrics.k8s.io "${name}" not found`, { name, group: GROUP, kind: 'nodemetrics' });
    return { kind: 'NodeMetrics', apiVersion: GROUP_VERSION, ...items[0] };
  }
  return { kind: 'NodeMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items };
}

async function podMetrics(options: MetricsApiOptions, namespace: string | undefined, name: string | undefined, selectors: Selectors): Promise<unknown> {
  const pods = name === undefined ? (await options.api.list(podsInfo, namespace, selectors)).items : [await getOr404(options, podsInfo, namespace, name, 'podmetrics')];
  const wanted = new Set(pods.map(nodeOf).filter((node): node is string => node !== undefined));
  const nodes = (await options.api.list(nodesInfo, undefined)).items.filter((node) => isReady(node) && wanted.has(node.metadata.name ?? ''));
  const summaries = await scrape(options, nodes.map((node) => node.metadata.name ?? ''));
  const byUid = new Map<string, SummaryPod>();
  for (const summary of summaries.values()) for (const pod of summary.pods ?? []) if (pod.podRef?.uid) byUid.set(pod.podRef.uid, pod);
  const now = rfc3339();
  const items = pods.flatMap((pod) => {
    const stats = byUid.get(pod.metadata.uid ?? '');
    if (stats === undefined) return [];
    const containers = (stats.containers ?? []).map((container) => ({ name: container.name ?? '', usage: usage(container.cpu, container.memory) }));
    return [
      {
        metadata: {
          name: pod.metadata.name,
          namespace: pod.metadata.namespace,
          creationTimestamp: now,
          ...(pod.metadata.labels === undefined ? {} : { labels: pod.metadata.labels }),
        },
        timestamp: stats.cpu?.time ?? now,
        window: duration(stats.cpu?.windowNanoSeconds),
        containers,
      },
    ];
  });
  if (name !== undefined) {
    if (items[0] === undefined) throw new ApiError(404, 'NotFound', `podmetrics.metrics.k8s.io "${namespace}/${name}" not found`, { name, group: GROUP, kind: 'podmetrics' });
    return { kind: 'PodMetrics', apiVersion: GROUP_VERSION, ...items[0] };
  }
  return { kind: 'PodMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items };
}

/** Each node's Summary, asked in parallel; a node that does not answer is skipped and logged. */
async function scrape(options: MetricsApiOptions, nodeNames: string[]): Promise<Map<string, Summary>> {
  const proxy = options.nodeProxy;
  if (proxy === undefined) throw new ApiError(503, 'ServiceUnavailable', 'metrics need the node proxy, which this server does not run');
  const results = await Promise.allSettled(nodeNames.map(async (node) => [node, (await proxy.getJson(node, '/stats/summary')) as Summary] as const));
  const summaries = new Map<string, Summary>();
  results.forEach((result, index) => {
    if (result.status === 'fulfilled' && isRecord(result.value[1])) summaries.set(result.value[0], result.value[1]);
    else options.logger.warn('node metrics unavailable; node skipped', { node: nodeNames[index], error: result.status === 'rejected' ? (result.reason as Error).message : 'not a Summary' });
  });
  return summaries;
}

async function getOr404(options: MetricsApiOptions, info: typeof podsInfo, namespace: string | undefined, name: string, kind: string): Promise<KubeObject> {
  try {
    return await options.api.get(info, namespace, name);
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) {
      throw new ApiError(404, 'NotFound', `${kind}.metrics.k8s.io "${namespace === undefined ? name : `${namespace}/${name}`}" not found`, { name, group: GROUP, kind });
    }
    throw error;
  }
}

function isReady(node: KubeObject): boolean {
  const conditions = isRecord(node.status) && Array.isArray(node.status.conditions) ? (node.status.conditions as Array<{ type?: string; status?: string }>) : [];
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

function nodeOf(pod: KubeObject): string | undefined {
  return isRecord(pod.spec) && typeof pod.spec.nodeName === 'string' && pod.spec.nodeName !== '' ? pod.spec.nodeName : undefined;
}

/** metrics-server's quantities: CPU scaled from nanocores ("12m", "123456n"), memory BinarySI ("34Ki"). */
export function usage(cpu: SummaryCpu | undefined, memory: SummaryMemory | undefined): Usage {
  return { cpu: formatQuantity(`${Math.max(0, Math.round(cpu?.usageNanoCores ?? 0))}n`), memory: binaryQuantity(Math.max(0, Math.round(memory?.workingSetBytes ?? 0))) };
}

function binaryQuantity(bytes: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let value = BigInt(bytes);
  let power = 0;
  while (value !== 0n && value % 1024n === 0n && power < suffixes.length - 1) {
    value /= 1024n;
    power += 1;
  }
  return `${value}${suffixes[power]}`;
}

/** A Go duration string ("100ms", "10.5s"), as metrics-server writes `window`. */
function duration(nanoseconds: number | undefined): string {
  const ms = Math.round((nanoseconds ?? 0) / 1e6);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function apiGroup() {
  const version = { groupVersion: GROUP_VERSION, version: VERSION };
  return { kind: 'APIGroup', apiVersion: 'v1', name: GROUP, versions: [version], preferredVersion: version };
}

function resourceList() {
  const verbs = ['get', 'list'];
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs },
    ],
  };
}

function notFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

function send(response: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
