/** How objects are named and printed: `deployment.apps/web`, YAML, JSON, and kubectl's List wrapper. */
import { stringify } from 'yaml';
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { CliError } from './errors.js';

export type OutputFormat = 'yaml' | 'json' | 'name';

/** `deployment.apps` for grouped kinds, `pod` for core ones: kubectl's resource/name prefix. */
export const kindPrefix = (info: ResourceInfo): string => (info.group ? `${info.singular}.${info.group}` : info.singular);

/** `deployment.apps/web`, `pod/x`. */
export const displayName = (info: ResourceInfo, name: string): string => `${kindPrefix(info)}/${name}`;

/** `deployment.apps "web"`, as in `... deleted`. */
export const quotedName = (info: ResourceInfo, name: string): string => `${kindPrefix(info)} "${name}"`;

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, undefined, 4)}\n`;
}

/** Several objects print as one `kind: List`, as kubectl does. */
export function asList(items: KubeObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/** One object as itself, several (or a list request) as a List. */
export function formatObjects(items: KubeObject[], format: 'yaml' | 'json', single: boolean): string {
  const value = single && items.length === 1 ? items[0] : asList(items);
  return format === 'yaml' ? toYaml(value) : toJson(value);
}

/** Validates `-o`; `allowed` lists the formats this command accepts besides the default. */
export function parseOutputFormat(value: string | undefined, allowed: readonly string[]): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value)) {
    throw new CliError('Usage', `unable to match a printer suitable for the output format "${value}", allowed formats are: ${allowed.join(',')}`);
  }
  return value;
}

/** `30s`, `2m`, `1h`, or plain seconds, to milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new CliError('Usage', `invalid ${flag} "${value}": use a duration like 30s, 2m or 1h`);
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return amount * factor;
}
