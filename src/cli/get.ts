/** `pm8s get`: server-side Tables printed like kubectl, or objects as YAML/JSON/names; `-w` streams changes. */
import type { ResourceInfo } from '../api/resources.js';
import { apiVersionOf } from '../api/resources.js';
import { printTable, type Table } from '../api/tables/index.js';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';
import type { ListQuery } from '../client/api-client.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError, formatError } from './errors.js';
import { displayName, formatObjects, kindPrefix, parseDuration, parseOutputFormat } from './printers.js';
import { namespaceFor, parseTargets, type Target } from './targets.js';
import { watchTarget } from './get-watch.js';

export interface GetFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  output?: string;
  showLabels?: boolean;
  headers: boolean;
  watch?: boolean;
  watchOnly?: boolean;
  requestTimeout?: string;
}

export async function runGet(args: string[], flags: GetFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const targets = parseTargets(args, 'get');
  const format = parseOutputFormat(flags.output, ['wide', 'yaml', 'json', 'name']);
  const query: ListQuery = {
    ...(flags.selector ? { labelSelector: flags.selector } : {}),
    ...(flags.fieldSelector ? { fieldSelector: flags.fieldSelector } : {}),
  };
  await withClient(globals, async (client) => {
    if (flags.watch === true || flags.watchOnly === true) {
      const [target, ...others] = targets;
      if (!target || others.length > 0 || target.names.length > 1) throw new CliError('Usage', 'watch is only supported on individual resources and resource collections, but more were given');
      const timeoutMs = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : 0;
      await watchTarget(client, target, namespaceFor(target.info, flags, client.namespace), query, { ...flags, format, timeoutMs }, context);
      return;
    }
    if (format === 'yaml' || format === 'json' || format === 'name') return printObjects(client, targets, flags, query, format, context);
    return printTables(client, targets, flags, query, format === 'wide', context);
  });
}

async function printTables(client: HttpClient, targets: Target[], flags: GetFlags, query: ListQuery, wide: boolean, context: CliContext): Promise<void> {
  const { output } = context;
  const prefixNames = targets.length > 1;
  let printedAny = false;
  let rowsSeen = 0;
  const errors: string[] = [];
  for (const { info, names } of targets) {
    const namespace = namespaceFor(info, flags, client.namespace);
    let table: Table | undefined;
    if (names.length === 0) {
      table = await client.requestTable(info, namespace, undefined, query);
    } else {
      for (const name of names) {
        try {
          const one = await client.requestTable(info, namespace, name);
          if (table) table.rows.push(...one.rows);
          else table = one;
        } catch (error) {
          errors.push(formatError(error));
        }
      }
    }
    if (!table || table.rows.length === 0) continue;
    if (info.kind === 'Event') table = chronological(table);
    rowsSeen += table.rows.length;
    const text = printTable(prefixNames ? withKindPrefix(table, info) : table, {
      wide,
      withNamespace: info.namespaced && flags.allNamespaces === true,
      showLabels: flags.showLabels === true,
      noHeaders: !flags.headers,
    });
    // kubectl separates the tables of several kinds by a blank line.
    output.out(`${printedAny ? '\n' : ''}${text}`);
    printedAny = true;
  }
  for (const line of errors) output.err(`${line}\n`);
  if (errors.length > 0) context.exitCode = 1;
  else if (rowsSeen === 0) output.err(`${noResourcesMessage(targets, flags, client.namespace)}\n`);
}

export function noResourcesMessage(targets: Target[], flags: GetFlags, contextNamespace: string): string {
  const namespaced = targets.some((target) => target.info.namespaced);
  if (!namespaced || flags.allNamespaces === true) return 'No resources found';
  return `No resources found in ${flags.namespace ?? contextNamespace} namespace.`;
}

/**
 * Events oldest first, newest last (as `kubectl events` shows them; `kubectl get events` leaves them in
 * name order). Every occurrence of an event rewrites it, so resourceVersion order is last-seen order.
 */
export function chronological(table: Table): Table {
  const version = (row: Table['rows'][number]): number => {
    const object: unknown = row.object;
    const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
    return Number(metadata.resourceVersion ?? 0);
  };
  return { ...table, rows: [...table.rows].sort((a, b) => version(a) - version(b)) };
}

/** NAME cells as `deployment.apps/web`, as kubectl prints them when several kinds are listed. */
export function withKindPrefix(table: Table, info: ResourceInfo): Table {
  const nameIndex = Math.max(0, table.columnDefinitions.findIndex((column) => column.format === 'name'));
  return {
    ...table,
    rows: table.rows.map((row) => ({ ...row, cells: row.cells.map((cell, index) => (index === nameIndex ? `${kindPrefix(info)}/${String(cell)}` : cell)) })),
  };
}

async function printObjects(client: HttpClient, targets: Target[], flags: GetFlags, query: ListQuery, format: 'yaml' | 'json' | 'name', context: CliContext): Promise<void> {
  const { output } = context;
  const objects: Array<{ info: ResourceInfo; object: KubeObject }> = [];
  const errors: string[] = [];
  for (const { info, names } of targets) {
    const namespace = namespaceFor(info, flags, client.namespace);
    if (names.length === 0) {
      const list = await client.list(info, namespace, query);
      for (const item of list.items) objects.push({ info, object: withType(info, item) });
      continue;
    }
    for (const name of names) {
      try {
        objects.push({ info, object: withType(info, await client.get(info, namespace, name)) });
      } catch (error) {
        errors.push(formatError(error));
      }
    }
  }
  const single = targets.length === 1 && targets[0]?.names.length === 1;
  if (format === 'name') {
    for (const { info, object } of objects) output.out(`${displayName(info, object.metadata.name ?? '')}\n`);
  } else if (objects.length > 0 || !single) {
    output.out(formatObjects(objects.map((entry) => entry.object), format, single));
  }
  for (const line of errors) output.err(`${line}\n`);
  if (errors.length > 0) context.exitCode = 1;
}

/** List items may come without apiVersion/kind; kubectl fills them in. */
export function withType(info: ResourceInfo, object: KubeObject): KubeObject {
  return { ...object, apiVersion: object.apiVersion || apiVersionOf(info), kind: object.kind || info.kind };
}
