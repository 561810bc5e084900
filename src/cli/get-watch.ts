/**
 * `pm8s get -w`: the current table, then one row per change from the list's resourceVersion,
 * until SIGINT or --request-timeout. A stream the server ends is resumed from the last version seen.
 */
import { apiVersionOf } from '../api/resources.js';
import { ApiError, type Status } from '../api/errors.js';
import { printTable, type Table } from '../api/tables/index.js';
import type { KubeObject, WatchEvent } from '../api/types.js';
import { isRecord } from '../api/types.js';
import type { ListQuery, WatchHandle } from '../client/api-client.js';
import type { HttpClient } from '../client/http-client.js';
import type { CliContext } from './context.js';
import { formatError } from './errors.js';
import { noResourcesMessage, type GetFlags } from './get.js';
import { displayName, toJson, toYaml } from './printers.js';
import type { Target } from './targets.js';

const MAX_ALIGNED_ROWS = 200;

export interface WatchFlags extends GetFlags {
  format: string | undefined;
  /** 0: until interrupted. */
  timeoutMs: number;
}

export async function watchTarget(client: HttpClient, target: Target, namespace: string | undefined, query: ListQuery, flags: WatchFlags, context: CliContext): Promise<void> {
  const { info } = target;
  const { output } = context;
  const name = target.names[0];
  const fieldSelector = [name === undefined ? undefined : `metadata.name=${name}`, query.fieldSelector].filter(Boolean).join(',');
  const listQuery: ListQuery = { ...query, ...(fieldSelector ? { fieldSelector } : {}) };
  const tableMode = flags.format === undefined || flags.format === 'wide';
  const printOptions = {
    wide: flags.format === 'wide',
    withNamespace: info.namespaced && flags.allNamespaces === true,
    showLabels: flags.showLabels === true,
  };
  let headerShown = !flags.headers;
  // Rows printed so far: each new row is laid out together with them, so its columns line up.
  let printed: Table | undefined;
  const printRows = (table: Table) => {
    if (table.rows.length === 0) return;
    printed = printed ? { ...printed, rows: [...printed.rows, ...table.rows].slice(-MAX_ALIGNED_ROWS) } : table;
    const lines = printTable(printed, { ...printOptions, noHeaders: !flags.headers }).split('\n').slice(0, -1);
    const fresh = lines.slice(-Math.min(table.rows.length, printed.rows.length));
    const header = !headerShown && flags.headers ? [lines[0] ?? ''] : [];
    headerShown = true;
    output.out([...header, ...fresh].map((line) => `${line}\n`).join(''));
  };

  const initial = tableMode ? await client.requestTable(info, namespace, undefined, listQuery) : await client.list(info, namespace, listQuery);
  let resourceVersion = initial.metadata.resourceVersion ?? '';
  if (flags.watchOnly !== true) {
    if (tableMode) {
      const table = initial as Table;
      if (table.rows.length === 0) output.err(`${noResourcesMessage([target], flags, client.namespace)}\n`);
      else printRows(table);
    } else {
      for (const item of (initial as { items: KubeObject[] }).items) printObject(item);
    }
  }

  function printObject(object: KubeObject): void {
    const typed = { ...object, apiVersion: object.apiVersion || apiVersionOf(info), kind: object.kind || info.kind };
    if (flags.format === 'name') output.out(`${displayName(info, object.metadata.name ?? '')}\n`);
    else if (flags.format === 'json') output.out(toJson(typed));
    else output.out(`---\n${toYaml(typed)}`);
  }

  let stopped = false;
  let current: WatchHandle | undefined;
  const stop = () => {
    stopped = true;
    current?.stop();
  };
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  const timer = flags.timeoutMs > 0 ? setTimeout(stop, flags.timeoutMs) : undefined;
  let failure: unknown;
  const onEvent = (event: WatchEvent<Table | KubeObject>) => {
    if (stopped) return;
    if (event.type === 'ERROR') {
      failure = isRecord(event.object) && event.object.kind === 'Status' ? errorOf(event.object as unknown as Status) : new Error('the watch failed');
      stop();
      return;
    }
    const version = versionOf(event.object);
    if (version) resourceVersion = version;
    if (event.type === 'BOOKMARK') return;
    if (!tableMode) return printObject(event.object as KubeObject);
    const table = event.object as Table;
    if (!Array.isArray(table.rows)) return;
    printRows(table);
  };
  try {
    while (!stopped) {
      const watchQuery = { ...listQuery, resourceVersion, allowWatchBookmarks: true };
      current = tableMode ? await client.watchTable(info, namespace, watchQuery, onEvent) : await client.watch(info, namespace, watchQuery, onEvent);
      if (stopped) current.stop();
      await current.done;
    }
  } finally {
    process.off('SIGINT', onSignal);
    if (timer) clearTimeout(timer);
  }
  if (failure !== undefined) {
    output.err(`${formatError(failure)}\n`);
    context.exitCode = 1;
  }
}

function versionOf(object: unknown): string | undefined {
  if (!isRecord(object)) return undefined;
  if (object.kind === 'Table' && Array.isArray(object.rows)) {
    const row: unknown = object.rows[0];
    const fromRow = isRecord(row) && isRecord(row.object) && isRecord(row.object.metadata) ? row.object.metadata.resourceVersion : undefined;
    if (typeof fromRow === 'string') return fromRow;
  }
  const metadata = object.metadata;
  return isRecord(metadata) && typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
}

function errorOf(status: Status): ApiError {
  return new ApiError(status.code, status.reason || 'InternalError', status.message, status.details);
}
