/**
 * `pm8s top pods|nodes`: reads `metrics.k8s.io/v1beta1` (served by the API server from the agents'
 * usage stats) and prints kubectl top's columns: CPU in millicores (rounded up), memory in MiB
 * (rounded down), and for nodes their share of the node's allocatable (or capacity).
 */
import { parseQuantity } from '../api/quantity.js';
import { resolveResource } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError } from './errors.js';

export interface TopPodFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  containers?: boolean;
  sortBy?: 'cpu' | 'memory';
  headers?: boolean;
}

export interface TopNodeFlags {
  selector?: string;
  sortBy?: 'cpu' | 'memory';
  showCapacity?: boolean;
  headers?: boolean;
}

interface Usage {
  cpu?: string;
  memory?: string;
}

interface PodMetrics {
  metadata: { name: string; namespace: string };
  containers: Array<{ name: string; usage: Usage }>;
}

interface NodeMetrics {
  metadata: { name: string };
  usage: Usage;
}

const METRICS = '/apis/metrics.k8s.io/v1beta1';
const nodes = resolveResource('nodes')!;
const MI = 1024n * 1024n;

export async function runTopPods(name: string | undefined, flags: TopPodFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  if (name !== undefined && flags.allNamespaces === true) throw new CliError('Usage', 'a pod name cannot be combined with --all-namespaces');
  await withClient(globals, async (client) => {
    const namespace = flags.namespace ?? client.namespace;
    const path = flags.allNamespaces === true ? `${METRICS}/pods` : `${METRICS}/namespaces/${encodeURIComponent(namespace)}/pods${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
    const answer = await getJson(client, path, flags.selector === undefined ? {} : { labelSelector: flags.selector });
    const items = (name === undefined ? (answer.items as PodMetrics[] | undefined) ?? [] : [answer as unknown as PodMetrics]).filter((item) => isRecord(item));
    if (items.length === 0) {
      context.output.err(flags.allNamespaces === true ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
      return;
    }
    const withNamespace = flags.allNamespaces === true;
    const rows = items.flatMap((pod) => {
      const prefix = withNamespace ? [pod.metadata.namespace] : [];
      if (flags.containers === true) {
        return pod.containers.map((container) => ({ cells: [...prefix, pod.metadata.name, container.name], cpu: nanoCores(container.usage.cpu), memory: bytes(container.usage.memory) }));
      }
      const cpu = pod.containers.reduce((sum, container) => sum + nanoCores(container.usage.cpu), 0n);
      const memory = pod.containers.reduce((sum, container) => sum + bytes(container.usage.memory), 0n);
      return [{ cells: [...prefix, pod.metadata.name], cpu, memory }];
    });
    sortRows(rows, flags.sortBy);
    const header = [...(withNamespace ? ['NAMESPACE'] : []), ...(flags.containers === true ? ['POD', 'NAME'] : ['NAME']), 'CPU(cores)', 'MEMORY(bytes)'];
    const lines = rows.map((row) => [...row.cells, millicores(row.cpu), mebibytes(row.memory)]);
    context.output.out(align(flags.headers === false ? lines : [header, ...lines]));
  });
}

export async function runTopNodes(name: string | undefined, flags: TopNodeFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  await withClient(globals, async (client) => {
    const selector: { labelSelector?: string } = flags.selector === undefined ? {} : { labelSelector: flags.selector };
    const nodeList = name === undefined ? (await client.list(nodes, undefined, selector)).items : [await client.get(nodes, undefined, name)];
    const answer = await getJson(client, `${METRICS}/nodes${name === undefined ? '' : `/${encodeURIComponent(name)}`}`, selector);
    const metrics = new Map<string, NodeMetrics>();
    for (const item of name === undefined ? ((answer.items as NodeMetrics[] | undefined) ?? []) : [answer as unknown as NodeMetrics]) metrics.set(item.metadata.name, item);
    if (nodeList.length === 0) {
      context.output.err('No resources found\n');
      return;
    }
    const rows = nodeList.map((node) => {
      const usage = metrics.get(node.metadata.name ?? '')?.usage;
      const available = resources(node, flags.showCapacity === true ? 'capacity' : 'allocatable');
      return { node: node.metadata.name ?? '', usage, available, cpu: usage === undefined ? -1n : nanoCores(usage.cpu), memory: usage === undefined ? -1n : bytes(usage.memory) };
    });
    sortRows(rows, flags.sortBy);
    const lines = rows.map((row) => {
      if (row.usage === undefined) return [row.node, '<unknown>', '<unknown>', '<unknown>', '<unknown>'];
      return [row.node, millicores(row.cpu), percent(row.cpu, row.available.cpuNanos), mebibytes(row.memory), percent(row.memory, row.available.memoryBytes)];
    });
    const header = ['NAME', 'CPU(cores)', 'CPU%', 'MEMORY(bytes)', 'MEMORY%'];
    context.output.out(align(flags.headers === false ? lines : [header, ...lines]));
  });
}

async function getJson(client: HttpClient, path: string, query: { labelSelector?: string }): Promise<Record<string, unknown>> {
  const { response, cancel } = await client.stream('GET', path, query);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } finally {
    cancel();
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  return isRecord(parsed) ? parsed : {};
}

function nanoCores(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  const quantity = parseQuantity(text);
  return (quantity.numerator * 1_000_000_000n) / quantity.denominator;
}

function bytes(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  const quantity = parseQuantity(text);
  return quantity.numerator / quantity.denominator;
}

/** kubectl's `MilliValue()`: rounded up. */
function millicores(nanos: bigint): string {
  return `${(nanos + 999_999n) / 1_000_000n}m`;
}

function mebibytes(value: bigint): string {
  return `${value / MI}Mi`;
}

function percent(used: bigint, available: bigint): string {
  if (available <= 0n) return '<unknown>';
  return `${(used * 100n) / available}%`;
}

function resources(node: KubeObject, which: 'allocatable' | 'capacity'): { cpuNanos: bigint; memoryBytes: bigint } {
  const status = isRecord(node.status) ? node.status : {};
  const list = isRecord(status[which]) ? (status[which] as Record<string, unknown>) : {};
  return {
    cpuNanos: typeof list.cpu === 'string' || typeof list.cpu === 'number' ? nanoCores(String(list.cpu)) : 0n,
    memoryBytes: typeof list.memory === 'string' || typeof list.memory === 'number' ? bytes(String(list.memory)) : 0n,
  };
}

function sortRows<T extends { cpu: bigint; memory: bigint }>(rows: T[], by: 'cpu' | 'memory' | undefined): void {
  if (by === undefined) return;
  rows.sort((a, b) => (a[by] === b[by] ? 0 : a[by] > b[by] ? -1 : 1));
}

/** Columns padded as kubectl's tabwriter does (3 spaces between columns). */
function align(lines: string[][]): string {
  const widths: number[] = [];
  for (const line of lines) line.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return lines.map((line) => line.map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd((widths[index] ?? 0) + 3))).join('') + '\n').join('');
}
