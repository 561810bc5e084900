/** kubectl describe's layout: indented `Label:\tvalue` lines aligned like Go's text/tabwriter (padding 2). */

const PADDING = 2;

export class DescribeWriter {
  readonly #lines: string[] = [];

  /** One line at `level` (2 spaces each); cells are tab-separated and aligned with their neighbours. */
  line(level: number, ...cells: string[]): void {
    this.#lines.push(`${'  '.repeat(level)}${cells.join('\t')}`);
  }

  /** `Label:  value`, multi-line values continuing in the value column. */
  field(level: number, label: string, value: string | number | boolean | undefined): void {
    const text = value === undefined || value === '' ? '<none>' : String(value);
    const [first, ...rest] = text.split('\n');
    this.line(level, `${label}:`, first ?? '');
    for (const more of rest) this.line(level, '', more);
  }

  /** `Label:` followed by one `key=value` per line (Labels, Annotations, Selector maps). */
  map(level: number, label: string, values: Record<string, string> | undefined, join = '='): void {
    const entries = Object.entries(values ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return this.line(level, `${label}:`, '<none>');
    entries.forEach(([key, value], index) => this.line(level, index === 0 ? `${label}:` : '', `${key}${join}${value}`));
  }

  /** A table under a heading, kubectl's `Conditions:`/`Events:` style, or `<none>`. */
  table(level: number, label: string, header: string[], rows: string[][]): void {
    if (rows.length === 0) return this.line(level, `${label}:`, '<none>');
    this.line(level, `${label}:`);
    this.line(level + 1, ...header);
    this.line(level + 1, ...header.map((name) => '-'.repeat(name.length)));
    for (const row of rows) this.line(level + 1, ...row);
  }

  toString(): string {
    return tabwrite(this.#lines);
  }
}

/**
 * Go's tabwriter: a column's width is set by each block of consecutive lines that have a
 * tab-terminated cell in that column; a line's last cell is never padded.
 */
export function tabwrite(lines: readonly string[]): string {
  const cells = lines.map((line) => line.split('\t'));
  const widths = cells.map((row) => new Array<number>(row.length).fill(0));
  format(cells, widths, 0, cells.length, 0);
  return cells
    .map((row, index) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[index]![column]!))).join('').trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}

function format(cells: string[][], widths: number[][], start: number, end: number, column: number): void {
  let line = start;
  while (line < end) {
    if (column >= cells[line]!.length - 1) {
      line++;
      continue;
    }
    const blockStart = line;
    let width = 0;
    while (line < end && column < cells[line]!.length - 1) {
      width = Math.max(width, [...cells[line]![column]!].length + PADDING);
      line++;
    }
    for (let index = blockStart; index < line; index++) widths[index]![column] = width;
    format(cells, widths, blockStart, line, column + 1);
  }
}

/** kubectl's RFC 1123 with numeric zone: `Mon, 02 Jan 2006 15:04:05 +0000`. */
export function formatTimestamp(value: unknown): string {
  if (typeof value !== 'string' || value === '') return '<unset>';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toUTCString().replace('GMT', '+0000');
}
