/** Defensive readers for untyped object fields: a missing or mistyped field yields an empty value, never a throw. */
import { isRecord, type KubeObject } from '../types.js';

export type Fields = Record<string, unknown>;

export const rec = (value: unknown): Fields => (isRecord(value) ? value : {});
/** Non-record elements become `{}` so indices stay those of the original array. */
export const recs = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(rec) : []);
export const strs = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
export const str = (value: unknown): string => (typeof value === 'string' ? value : '');
export const int = (value: unknown, fallback = 0): number =>
  typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
export const count = (value: unknown): number => (isRecord(value) ? Object.keys(value).length : 0);

/** Reads a nested field: `at(pod, 'status', 'phase')`. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = rec(current)[key];
  return current;
}

export const nameOf = (object: KubeObject): string => str(rec(object.metadata).name);
export const creationOf = (object: KubeObject): unknown => rec(object.metadata).creationTimestamp;
export const deleting = (object: KubeObject): boolean => str(rec(object.metadata).deletionTimestamp) !== '';

export function stringMap(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(rec(value))) if (typeof item === 'string') result[key] = item;
  return result;
}

/** labels.FormatLabels: "app=web,tier=fe" sorted by key, "<none>" when empty. */
export function formatLabels(value: unknown): string {
  const pairs = Object.entries(stringMap(value))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]) => `${key}=${item}`);
  return pairs.length === 0 ? '<none>' : pairs.join(',');
}

const byKey = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** metav1.LabelSelectorAsSelector(...).String(); undefined when the selector is invalid. */
export function selectorString(selector: unknown): string | undefined {
  if (!isRecord(selector)) return '';
  const requirements: [string, string][] = Object.entries(stringMap(selector.matchLabels)).map(([key, item]) => [
    key,
    `${key}=${item}`,
  ]);
  for (const expression of recs(selector.matchExpressions)) {
    const key = str(expression.key);
    const values = [...new Set(strs(expression.values))].sort();
    switch (expression.operator) {
      case 'In':
        requirements.push([key, `${key} in (${values.join(',')})`]);
        break;
      case 'NotIn':
        requirements.push([key, `${key} notin (${values.join(',')})`]);
        break;
      case 'Exists':
        requirements.push([key, key]);
        break;
      case 'DoesNotExist':
        requirements.push([key, `!${key}`]);
        break;
      default:
        return undefined;
    }
  }
  return requirements
    .sort(byKey)
    .map(([, text]) => text)
    .join(',');
}

/** metav1.FormatLabelSelector: "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(selector: unknown): string {
  const text = selectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}

/** Container names and images of a pod spec, each joined with ",". */
export function layoutContainerCells(podSpec: unknown): [names: string, images: string] {
  const containers = recs(rec(podSpec).containers);
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')];
}

/** spec.template.spec of a workload. */
export const templateSpecOf = (object: KubeObject): unknown => at(object.spec, 'template', 'spec');
