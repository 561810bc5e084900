/**
 * Strategic merge patch, as Kubernetes' apimachinery strategicpatch package applies it on the
 * server (MergeParallelList and IgnoreUnmatchedNulls on). Used by `kubectl apply`, `set image`,
 * `rollout restart` and `kubectl patch`. List strategies come from ./patch-schema.ts.
 */

import { badRequest, type ApiError } from '../errors.js';
import { isRecord } from '../types.js';
import { canonicalJson, cloneJson, getOwn, rejectForbiddenKeys, removeOwn, setOwn, type JsonObject } from './json-value.js';
import { listStrategyFor } from './patch-schema.js';

export { listStrategyFor, mergeKeyFor, type ListStrategy } from './patch-schema.js';

const PATCH_DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

interface Where {
  kind: string;
  /** Field names from the root, list indices left out. */
  path: readonly string[];
}

/** Returns the patched object; neither input is changed and the result shares nothing with them. */
export function applyStrategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  if (!isRecord(patch)) throw badRequest('strategic merge patch: the patch must be a JSON object');
  rejectForbiddenKeys(patch, 'strategic merge patch');
  return mergeMap(isRecord(target) ? cloneJson(target) : undefined, patch, { kind, path: [] });
}

function malformed(where: Where, detail: string): ApiError {
  const at = where.path.length > 0 ? ` at ${where.path.join('.')}` : '';
  return badRequest(`strategic merge patch${at}: ${detail}`);
}

const describe = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * Merges `patch` into `target`, which is our own copy (or undefined when absent) and may be
 * changed in place. Recursion follows the patch only.
 */
function mergeMap(target: JsonObject | undefined, patch: JsonObject, where: Where): JsonObject {
  if (Object.hasOwn(patch, PATCH_DIRECTIVE)) {
    const directive = patch[PATCH_DIRECTIVE];
    if (directive === 'replace') {
      const rest: JsonObject = {};
      for (const key of Object.keys(patch)) if (key !== PATCH_DIRECTIVE) setOwn(rest, key, patch[key]);
      return mergeMap(undefined, rest, where);
    }
    if (directive === 'delete') return {};
    throw malformed(where, `unknown $patch directive ${describe(directive)} (expected "replace" or "delete")`);
  }
  const result: JsonObject = target ?? {};
  if (Object.hasOwn(patch, RETAIN_KEYS)) retainKeys(result, patch, patch[RETAIN_KEYS], where);

  const orders = new Map<string, unknown[]>();
  for (const key of Object.keys(patch)) {
    if (!key.startsWith('$') || key === RETAIN_KEYS) continue;
    const value = patch[key];
    if (key.startsWith(SET_ELEMENT_ORDER)) {
      const { field, list } = parallelList(key, SET_ELEMENT_ORDER, value, where);
      orders.set(field, list);
    } else if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const { field, list: doomed } = parallelList(key, DELETE_FROM_PRIMITIVE_LIST, value, where);
      if (doomed.some((v) => typeof v === 'object' && v !== null)) throw malformed(where, `${key} must list primitive values`);
      const gone = new Set(doomed.map(canonicalJson));
      const current = getOwn(result, field);
      if (Array.isArray(current)) setOwn(result, field, current.filter((v) => !gone.has(canonicalJson(v))));
    } else {
      throw malformed(where, `unknown directive "${key}"`);
    }
  }

  for (const key of Object.keys(patch)) {
    if (key.startsWith('$')) continue;
    const value = patch[key];
    if (value === null) {
      removeOwn(result, key);
      continue;
    }
    const field: Where = { kind: where.kind, path: [...where.path, key] };
    const current = getOwn(result, key);
    if (isRecord(value)) {
      setOwn(result, key, mergeMap(isRecord(current) ? current : undefined, value, field));
    } else if (Array.isArray(value)) {
      setOwn(result, key, mergeList(Array.isArray(current) ? current : [], value, field, orders.get(key)));
    } else {
      setOwn(result, key, value);
    }
    orders.delete(key);
  }

  // A $setElementOrder without its list in the patch only reorders the existing list (atomic lists keep theirs).
  for (const [key, order] of orders) {
    const current = getOwn(result, key);
    const field: Where = { kind: where.kind, path: [...where.path, key] };
    if (Array.isArray(current) && listStrategyFor(field.kind, field.path).type !== 'replace') {
      setOwn(result, key, mergeList(current, [], field, order));
    }
  }
  return result;
}

/** `$setElementOrder/containers: [...]` → the field `containers` and the list; anything else is malformed. */
function parallelList(key: string, prefix: string, value: unknown, where: Where): { field: string; list: unknown[] } {
  const field = key.slice(prefix.length);
  if (field === '' || field.startsWith('$')) throw malformed(where, `directive "${key}" names no field`);
  if (!Array.isArray(value)) throw malformed(where, `${key} must be a list, not ${describe(value)}`);
  return { field, list: value };
}

/** `$retainKeys` clears target keys not listed; the patch itself may only set listed keys. */
function retainKeys(result: JsonObject, patch: JsonObject, retain: unknown, where: Where): void {
  if (!Array.isArray(retain) || !retain.every((key): key is string => typeof key === 'string')) {
    throw malformed(where, `$retainKeys must be a list of field names, not ${describe(retain)}`);
  }
  const keep = new Set(retain);
  for (const key of Object.keys(patch)) {
    if (!key.startsWith('$') && patch[key] !== null && !keep.has(key)) {
      throw malformed(where, `the patch sets "${key}", which $retainKeys does not list`);
    }
  }
  for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
}

/** `current` is our own copy (or []), `order` the optional `$setElementOrder` list. */
function mergeList(current: unknown[], patch: unknown[], where: Where, order: unknown[] | undefined): unknown[] {
  const strategy = listStrategyFor(where.kind, where.path);
  if (strategy.type === 'replace') {
    // The list is atomic: the patch's list is the new value, order directives do not apply.
    return patch.filter((element) => !isReplaceMarker(element)).map((element) => cloneJson(element));
  }
  const key = strategy.type === 'merge' ? strategy.key : undefined;
  const merged = key === undefined ? mergeSet(current, patch, where) : mergeByKey(current, patch, key, where);
  return order === undefined ? merged : applyElementOrder(merged, current, patch, order, key, where);
}

function isReplaceMarker(element: unknown): boolean {
  return isRecord(element) && Object.keys(element).length === 1 && element[PATCH_DIRECTIVE] === 'replace';
}

/** Primitive lists with the merge strategy (finalizers): union, target order first. */
function mergeSet(current: unknown[], patch: unknown[], where: Where): unknown[] {
  const result = [...current];
  const seen = new Set(current.map(canonicalJson));
  for (const value of patch) {
    if (typeof value === 'object' && value !== null) throw malformed(where, `expected a list of primitive values, got ${describe(value)}`);
    const id = canonicalJson(value);
    if (!seen.has(id)) result.push(value);
    seen.add(id);
  }
  return result;
}

/** The canonical merge-key value of a list element, or undefined when it has none. */
function keyOf(element: unknown, key: string): string | undefined {
  return isRecord(element) && Object.hasOwn(element, key) ? canonicalJson(element[key]) : undefined;
}

/** Lists of objects merged by `key`: deletions first, then merges in place, new elements appended in patch order. */
function mergeByKey(current: unknown[], patch: unknown[], key: string, where: Where): unknown[] {
  const deleted = new Set<string>();
  let replace = false;
  const items: JsonObject[] = [];
  for (const element of patch) {
    if (!isRecord(element)) throw malformed(where, `list elements must be objects with the merge key "${key}", got ${describe(element)}`);
    const id = keyOf(element, key);
    if (!Object.hasOwn(element, PATCH_DIRECTIVE)) {
      if (id === undefined) throw malformed(where, `${describe(element)} does not contain declared merge key: ${key}`);
      items.push(element);
      continue;
    }
    const directive = element[PATCH_DIRECTIVE];
    if (directive === 'delete') {
      if (id === undefined) throw malformed(where, `${describe(element)} does not contain declared merge key: ${key}`);
      deleted.add(id);
    } else if (directive === 'replace') {
      replace = true;
    } else {
      throw malformed(where, `unknown $patch directive ${describe(directive)} in a list (expected "replace" or "delete")`);
    }
  }
  if (replace) return items.map((item) => mergeMap(undefined, item, where));
  const result = current.filter((element) => !deleted.has(keyOf(element, key) ?? ''));
  const indexById = new Map<string, number>();
  result.forEach((element, index) => {
    const id = keyOf(element, key);
    if (id !== undefined && !indexById.has(id)) indexById.set(id, index);
  });
  for (const item of items) {
    const id = keyOf(item, key) ?? '';
    const index = indexById.get(id);
    const existing = index === undefined ? undefined : result[index];
    if (index !== undefined && isRecord(existing)) {
      result[index] = mergeMap(existing, item, where);
    } else {
      indexById.set(id, result.length);
      result.push(mergeMap(undefined, item, where));
    }
  }
  return result;
}

/**
 * `$setElementOrder`: elements it names come in its order; other (server-only) elements keep their
 * place relative to the live list, interleaved as apimachinery's mergeSortedSlice does.
 */
function applyElementOrder(
  merged: unknown[],
  live: unknown[],
  patch: unknown[],
  order: unknown[],
  key: string | undefined,
  where: Where,
): unknown[] {
  const identity = (element: unknown): string | undefined => (key === undefined ? canonicalJson(element) : keyOf(element, key));
  const positions = (list: unknown[]): Map<string, number> => {
    const map = new Map<string, number>();
    list.forEach((element, index) => {
      const id = identity(element);
      if (id !== undefined && !map.has(id)) map.set(id, index);
    });
    return map;
  };
  for (const element of order) {
    const invalid = key === undefined ? typeof element === 'object' && element !== null : keyOf(element, key) === undefined;
    if (invalid) throw malformed(where, `$setElementOrder element ${describe(element)} ${key ? `lacks the merge key "${key}"` : 'is not a primitive'}`);
  }
  const orderAt = positions(order);
  const position = (map: Map<string, number>, element: unknown): number => {
    const id = identity(element);
    return id === undefined ? -1 : (map.get(id) ?? -1);
  };

  // Patch elements (deletions aside) must appear in the order list, in the same relative order.
  let previous = -1;
  for (const element of patch) {
    if (isRecord(element) && Object.hasOwn(element, PATCH_DIRECTIVE)) continue;
    const at = position(orderAt, element);
    if (at <= previous) throw malformed(where, `the order of the patch list ${describe(patch)} does not match the $setElementOrder list ${describe(order)}`);
    previous = at;
  }

  const ordered = merged
    .filter((element) => position(orderAt, element) >= 0)
    .sort((a, b) => position(orderAt, a) - position(orderAt, b));
  const serverOnly = merged.filter((element) => position(orderAt, element) < 0);
  const liveAt = positions(live);
  const livePosition = (element: unknown): number => position(liveAt, element);

  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < ordered.length) {
    const left = serverOnly[i];
    const right = ordered[j];
    if (j >= ordered.length) {
      result.push(left);
      i++;
    } else if (i >= serverOnly.length) {
      result.push(right);
      j++;
    } else {
      const leftAt = livePosition(left);
      const rightAt = livePosition(right);
      if (leftAt >= 0 && rightAt >= 0 && leftAt < rightAt) {
        result.push(left);
        i++;
      } else {
        result.push(right);
        j++;
      }
    }
  }
  return result;
}
