/**
 * Server-side Table printing (`kubectl get` without -o json|yaml|name): the API server
 * answers `Accept: ...;as=Table` with toTable, and our CLI prints with printTable.
 */
import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';
import { PRINTERS } from './kinds.js';
import { ageSince } from './format-age.js';
import { creationOf, nameOf, rec } from './fields.js';
import { ageColumn, nameColumn, type IncludeObject, type KindPrinter, type Table, type TableRow } from './table.js';

export type { ColumnType, IncludeObject, KindPrinter, Table, TableColumn, TableRow } from './table.js';
export { formatAge } from './format-age.js';
export { printTable, type PrintTableOptions } from './print-table.js';

export interface ToTableOptions {
  /** What rows[].object holds; kubectl sends nothing, meaning 'Metadata'. */
  includeObject?: IncludeObject;
  /** The moment AGE columns are measured from. */
  now?: Date;
  /** Without it, `kubectl get -w` prints every row twice. */
  resourceVersion?: string;
}

/** Kinds we have no printer for show what kubectl shows for any object: NAME and AGE. */
const fallbackPrinter: KindPrinter = {
  columns: [nameColumn, ageColumn],
  cells: (object, now) => [nameOf(object), ageSince(creationOf(object), now)],
};

export const printerFor = (info: ResourceInfo): KindPrinter => PRINTERS.get(info.kind) ?? fallbackPrinter;

function rowObject(object: KubeObject, include: IncludeObject): unknown {
  switch (include) {
    case 'None':
      return undefined;
    case 'Object':
      return object;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { ...rec(object.metadata) } };
  }
}

export function toTable(info: ResourceInfo, objects: KubeObject[], options: ToTableOptions = {}): Table {
  const printer = printerFor(info);
  const now = options.now ?? new Date();
  const include = options.includeObject ?? 'Metadata';
  const rows = objects.map((object): TableRow => {
    const row: TableRow = { cells: printer.cells(object, now) };
    const attached = rowObject(object, include);
    if (attached !== undefined) row.object = attached;
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.resourceVersion === undefined ? {} : { resourceVersion: options.resourceVersion },
    columnDefinitions: printer.columns.map((column) => ({ ...column })),
    rows,
  };
}
