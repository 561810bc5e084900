/** Renders a Table the way kubectl's human-readable printer does. */
import { isRecord } from '../types.js';
import { formatLabels, rec, str } from './fields.js';
import type { Table, TableRow } from './table.js';

export interface PrintTableOptions {
  /** Show priority > 0 columns (`-o wide`). */
  wide?: boolean;
  /** Prepend NAMESPACE (`-A`), read from each row's object. */
  withNamespace?: boolean;
  /** Append LABELS (`--show-labels`), read from each row's object. */
  showLabels?: boolean;
  noHeaders?: boolean;
}

// kubectl's tabwriter settings: cells padded by 3 spaces, each column at least 6 wide.
const PADDING = 3;
const MIN_WIDTH = 6;

/** Like kubectl: only the first line of multi-line text, marked with "...". */
function formatCell(cell: unknown): string {
  if (cell === undefined || cell === null) return '';
  if (typeof cell === 'string') {
    const breakAt = cell.search(/[\f\n\r]/);
    return breakAt < 0 ? cell : `${cell.slice(0, breakAt)}...`;
  }
  if (typeof cell === 'number' || typeof cell === 'boolean' || typeof cell === 'bigint') return String(cell);
  return JSON.stringify(cell) ?? '';
}

/** Metadata of a row's object; undefined when the server sent none (includeObject=None). */
function rowMetadata(row: TableRow): Record<string, unknown> | undefined {
  return isRecord(row.object) ? rec(row.object.metadata) : undefined;
}

/** Width as tabwriter counts it: in code points. */
const widthOf = (text: string): number => [...text].length;

/**
 * Aligns cells like Go's text/tabwriter with kubectl's settings. Every cell but a line's
 * last is padded to its column's width; the last is written as is, then trailing spaces go.
 */
function alignColumns(lines: string[][]): string {
  const widths: number[] = [];
  for (const line of lines) {
    for (let index = 0; index < line.length - 1; index++) {
      widths[index] = Math.max(widths[index] ?? MIN_WIDTH, widthOf(line[index] ?? '') + PADDING);
    }
  }
  return lines
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : cell + ' '.repeat((widths[index] ?? 0) - widthOf(cell))))
        .join('')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** The text `kubectl get` prints for this table; empty when there are no rows. */
export function printTable(table: Table, options: PrintTableOptions = {}): string {
  if (table.rows.length === 0) return '';
  const shown = table.columnDefinitions
    .map((column, index) => ({ column, index }))
    .filter(({ column }) => options.wide === true || (column.priority ?? 0) === 0);

  const lines: string[][] = [];
  if (options.noHeaders !== true) {
    lines.push([
      ...(options.withNamespace === true ? ['NAMESPACE'] : []),
      ...shown.map(({ column }) => column.name.toUpperCase()),
      ...(options.showLabels === true ? ['LABELS'] : []),
    ]);
  }
  for (const row of table.rows) {
    const metadata = rowMetadata(row);
    lines.push([
      ...(options.withNamespace === true ? [str(metadata?.namespace)] : []),
      ...shown.map(({ index }) => formatCell(row.cells[index])),
      ...(options.showLabels === true ? [metadata === undefined ? '' : formatLabels(metadata.labels)] : []),
    ]);
  }
  return alignColumns(lines);
}
