/** JSON merge patch (RFC 7386), used by `kubectl scale`, `label` and `annotate`. */

import { isRecord } from '../types.js';
import { cloneJson, getOwn, rejectForbiddenKeys, removeOwn, setOwn } from './json-value.js';

/** Returns the patched document; neither input is changed and the result shares nothing with them. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  rejectForbiddenKeys(patch, 'merge patch');
  return mergeInto(cloneJson(target), patch);
}

/** `target` is already our own copy, so it may be changed in place. Recursion follows the patch only. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return cloneJson(patch);
  const result = isRecord(target) ? target : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) removeOwn(result, key);
    else setOwn(result, key, mergeInto(getOwn(result, key), value));
  }
  return result;
}
