/** The meta.k8s.io/v1 Table shapes and the contract every kind's printer fulfils. */
import type { KubeObject } from '../types.js';

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export interface TableColumn {
  name: string;
  type: ColumnType;
  format?: string;
  description?: string;
  /** 0: always shown; > 0: only with `-o wide`. */
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/**
 * Columns and cells for one kind. Like the API server, a printer always returns every
 * cell including the wide ones; clients hide priority > 0 columns unless asked.
 */
export interface KindPrinter {
  columns: readonly TableColumn[];
  cells: (object: KubeObject, now: Date) => unknown[];
}

export const nameColumn: TableColumn = { name: 'Name', type: 'string', format: 'name', priority: 0 };
export const ageColumn: TableColumn = { name: 'Age', type: 'string', priority: 0 };

export const column = (name: string, type: ColumnType = 'string', priority = 0): TableColumn => ({ name, type, priority });
export const wideColumn = (name: string, type: ColumnType = 'string'): TableColumn => column(name, type, 1);
