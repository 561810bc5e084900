/**
 * kubectl's client-side apply patch (strategicpatch.CreateThreeWayMergePatch): changes and
 * additions are what the new config (modified) says that the live object (current) lacks;
 * deletions are what the last-applied config (original) had and the new one dropped. Fields only
 * the server or other writers set are never touched. Lists follow the strategies in api/patch.
 */
import { listStrategyFor } from '../api/patch/index.js';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type JsonObject = Record<string, unknown>;

/** The annotation value kubectl stores: the config as compact JSON plus a newline, without the annotation itself. */
export function lastAppliedOf(config: KubeObject): string {
  return `${JSON.stringify(withoutLastApplied(config))}\n`;
}

/** The config as it will be sent: with the last-applied annotation set to itself. */
export function withLastApplied(config: KubeObject): KubeObject {
  const stripped = withoutLastApplied(config);
  const annotations = { ...(stripped.metadata.annotations ?? {}), [LAST_APPLIED]: lastAppliedOf(stripped) };
  return { ...stripped, metadata: { ...stripped.metadata, annotations } };
}

function withoutLastApplied(config: KubeObject): KubeObject {
  const annotations = config.metadata.annotations;
  if (!annotations || !Object.hasOwn(annotations, LAST_APPLIED)) return config;
  const { [LAST_APPLIED]: _ignored, ...rest } = annotations;
  const metadata = { ...config.metadata };
  if (Object.keys(rest).length === 0) delete metadata.annotations;
  else metadata.annotations = rest;
  return { ...config, metadata };
}

/** The last-applied config stored on a live object, or undefined when there is none (or it is not JSON). */
export function readLastApplied(live: KubeObject): JsonObject | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The strategic merge patch taking `current` to `modified` (which carries its own last-applied
 * annotation, see withLastApplied); `{}` means nothing to do.
 */
export function threeWayPatch(original: JsonObject | undefined, modified: KubeObject, current: KubeObject): JsonObject {
  return diffMaps(original, modified, current, modified.kind, []);
}

function diffMaps(original: JsonObject | undefined, modified: JsonObject, current: JsonObject | undefined, kind: string, path: string[]): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(modified)) {
    const wanted = modified[key];
    const live = current?.[key];
    const before = original?.[key];
    const fieldPath = [...path, key];
    if (wanted === null || wanted === undefined) {
      if (live !== undefined && live !== null) patch[key] = null;
    } else if (live === undefined || live === null) {
      patch[key] = wanted;
    } else if (isRecord(wanted) && isRecord(live)) {
      const nested = diffMaps(isRecord(before) ? before : undefined, wanted, live, kind, fieldPath);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else if (Array.isArray(wanted) && Array.isArray(live)) {
      diffLists(patch, key, Array.isArray(before) ? before : undefined, wanted, live, kind, fieldPath);
    } else if (!jsonEqual(wanted, live)) {
      patch[key] = wanted;
    }
  }
  // Deletions: in the last-applied config, gone from the new one, still on the live object.
  for (const key of Object.keys(original ?? {})) {
    if (Object.hasOwn(modified, key)) continue;
    if (current !== undefined && current[key] !== undefined && current[key] !== null) patch[key] = null;
  }
  return patch;
}

function diffLists(patch: JsonObject, key: string, original: unknown[] | undefined, modified: unknown[], current: unknown[], kind: string, path: string[]): void {
  const strategy = listStrategyFor(kind, path);
  if (strategy.type === 'merge' && [...modified, ...current, ...(original ?? [])].every((item) => isRecord(item) && item[strategy.key] !== undefined)) {
    diffMergeList(patch, key, strategy.key, (original ?? []) as JsonObject[], modified as JsonObject[], current as JsonObject[], kind, path);
    return;
  }
  if (strategy.type === 'set' && [...modified, ...current].every((item) => !isRecord(item) && !Array.isArray(item))) {
    const has = (list: unknown[], item: unknown) => list.some((other) => jsonEqual(other, item));
    const added = modified.filter((item) => !has(current, item));
    const removed = (original ?? []).filter((item) => !has(modified, item) && has(current, item));
    if (added.length > 0) patch[key] = added;
    if (removed.length > 0) patch[`$deleteFromPrimitiveList/${key}`] = removed;
    return;
  }
  if (!jsonEqual(modified, current)) patch[key] = modified;
}

function diffMergeList(
  patch: JsonObject,
  field: string,
  mergeKey: string,
  original: JsonObject[],
  modified: JsonObject[],
  current: JsonObject[],
  kind: string,
  path: string[],
): void {
  const keyOf = (item: JsonObject): string => JSON.stringify(item[mergeKey]);
  const currentByKey = new Map(current.map((item) => [keyOf(item), item]));
  const originalByKey = new Map(original.map((item) => [keyOf(item), item]));
  const modifiedKeys = new Set(modified.map(keyOf));
  const elements: JsonObject[] = [];
  for (const item of modified) {
    const live = currentByKey.get(keyOf(item));
    if (!live) {
      elements.push(item);
      continue;
    }
    const nested = diffMaps(originalByKey.get(keyOf(item)), item, live, kind, path);
    if (Object.keys(nested).length > 0) elements.push({ [mergeKey]: item[mergeKey], ...nested });
  }
  const changed = elements.length > 0;
  for (const item of original) {
    if (!modifiedKeys.has(keyOf(item)) && currentByKey.has(keyOf(item))) elements.push({ $patch: 'delete', [mergeKey]: item[mergeKey] });
  }
  // The live order of the configured elements, to notice a reordering in the file.
  const liveOrder = current.map(keyOf).filter((key) => modifiedKeys.has(key));
  const fileOrder = modified.map(keyOf).filter((key) => currentByKey.has(key));
  const reordered = !jsonEqual(liveOrder, fileOrder);
  if (changed || reordered) patch[`$setElementOrder/${field}`] = modified.map((item) => ({ [mergeKey]: item[mergeKey] }));
  if (elements.length > 0) patch[field] = elements;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a).filter((key) => a[key] !== undefined);
    const otherKeys = Object.keys(b).filter((key) => b[key] !== undefined);
    return keys.length === otherKeys.length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}
