/** Option parsers shared by several commands. */
import { InvalidArgumentError } from 'commander';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function integer(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number)) throw new InvalidArgumentError(`${value} is not an integer`);
  return number;
}

/** kubectl's `--flag=true|false` booleans, plus a bare `--flag` meaning true. */
export function booleanFlag(value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError(`${value} is not true or false`);
}
