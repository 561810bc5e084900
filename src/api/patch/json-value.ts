/** Small helpers for handling untrusted JSON values without touching prototypes. */

import { badRequest } from '../errors.js';
import { isRecord } from '../types.js';

export type JsonObject = Record<string, unknown>;

/** The one key whose assignment changes an object's prototype; patches may not use it. */
const FORBIDDEN_KEY = '__proto__';

/** An own property only: `{}.constructor` must read as absent, not as `Object`. */
export function getOwn(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Defines an own data property, so no key (not even `__proto__`) reaches a setter. */
export function setOwn(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

export function removeOwn(object: JsonObject, key: string): void {
  if (Object.hasOwn(object, key)) delete object[key];
}

/** A deep copy sharing nothing with its input; structuredClone keeps an own `__proto__` key as plain data. */
export function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

/** JSON equality: key order does not matter, array order does. */
export function jsonEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left)) {
    return Array.isArray(right) && left.length === right.length && left.every((value, i) => jsonEqual(value, right[i]));
  }
  if (isRecord(left) && isRecord(right)) {
    const keys = Object.keys(left);
    if (keys.length !== Object.keys(right).length) return false;
    return keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
  }
  return false;
}

/** A string equal for JSON-equal values (object keys sorted), to index list elements in maps and sets. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Rejects any `__proto__` key anywhere in a patch, walking without recursion. */
export function rejectForbiddenKeys(value: unknown, patchName: string): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (Array.isArray(next)) {
      for (const element of next) pending.push(element);
    } else if (isRecord(next)) {
      for (const key of Object.keys(next)) {
        if (key === FORBIDDEN_KEY) throw badRequest(`${patchName}: the key "${FORBIDDEN_KEY}" is not allowed`);
        pending.push(next[key]);
      }
    }
  }
}

export function isForbiddenKey(key: string): boolean {
  return key === FORBIDDEN_KEY;
}
