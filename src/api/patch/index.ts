/** PATCH bodies by Content-Type: JSON patch, JSON merge patch, strategic merge patch. Pure, no I/O. */

import { badRequest, unsupportedMediaType } from '../errors.js';
import { isRecord } from '../types.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

export { applyJsonPatch } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch, listStrategyFor, mergeKeyFor, type ListStrategy } from './strategic-merge-patch.js';

/** The media types PATCH accepts, in the order Kubernetes lists them. */
export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

export type PatchType = (typeof PATCH_TYPES)[number];

/** The patch type of a Content-Type header (parameters after ';' ignored), or 415. */
export function patchTypeOf(contentType: string): PatchType {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const type = PATCH_TYPES.find((known) => known === mediaType);
  if (type === undefined) throw unsupportedMediaType(contentType);
  return type;
}

/**
 * Applies a parsed PATCH body to `target` (the stored object of kind `kind`) and returns the
 * new object. Inputs are never changed. Throws ApiError: 415, 400 (malformed patch), 422.
 */
export function applyPatch(contentType: string, target: unknown, patch: unknown, kind: string): unknown {
  const type = patchTypeOf(contentType);
  switch (type) {
    case 'application/json-patch+json':
      if (!Array.isArray(patch)) throw badRequest('json patch: the body must be a JSON array of operations');
      return applyJsonPatch(target, patch);
    case 'application/merge-patch+json':
      if (!isRecord(patch)) throw badRequest('merge patch: the body must be a JSON object');
      return applyMergePatch(target, patch);
    case 'application/strategic-merge-patch+json':
      if (!isRecord(patch)) throw badRequest('strategic merge patch: the body must be a JSON object');
      return applyStrategicMergePatch(target, patch, kind);
  }
}
