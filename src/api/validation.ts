/**
 * The three entry points the API server calls on every write: defaults, full validation, status validation.
 * Pure functions over plain objects; the caller turns a non-empty error list into a 422 with `invalid()`.
 */

import type { FieldError } from './errors.js';
import { kindDefinition } from './kinds/index.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
import type { ResourceInfo } from './resources.js';
import { hasShapeErrors } from './schema.js';
import type { KubeObject } from './types.js';


/** Every problem with `object` (and, on update, with how it differs from `old`), not just the first. */
export function validateObject(info: ResourceInfo, object: KubeObject, old?: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const metadataChecked = validateObjectMeta(info, object.metadata, errors);
  const definition = kindDefinition(info.kind);
  definition?.schema.validate(object, '', errors);
  // Update rules compare typed values, so they only run once the new version is well-formed.
  if (old && !hasShapeErrors(errors)) {
    if (metadataChecked) errors.push(...validateObjectMetaUpdate(object.metadata, old.metadata ?? {}));
    if (definition?.validateUpdate) errors.push(...definition.validateUpdate(object, old));
  }
  return errors;
}

/** For writes to the status subresource: metadata and the status shape only (spec is not the writer's to change). */
export function validateStatus(info: ResourceInfo, object: KubeObject, old?: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const metadataChecked = validateObjectMeta(info, object.metadata, errors);
  const definition = kindDefinition(info.kind);
  (definition?.statusSchema ?? definition?.schema)?.validate(object, '', errors);
  if (old && metadataChecked && !hasShapeErrors(errors)) errors.push(...validateObjectMetaUpdate(object.metadata, old.metadata ?? {}));
  return errors;
}

/**
 * Fills in Kubernetes' defaults, mutating `object` (pass a copy). Skipped when a known field has the wrong
 * type or a required one is missing: validation rejects such an object anyway, and defaults never guess at broken input.
 */
export function applyDefaults(info: ResourceInfo, object: KubeObject): void {
  const definition = kindDefinition(info.kind);
  if (!definition?.defaults) return;
  const errors: FieldError[] = [];
  definition.schema.validate(object, '', errors);
  if (hasShapeErrors(errors)) return;
  definition.defaults(object);
}

export { kindDefinition, KINDS } from './kinds/index.js';
export type { KindDefinition } from './kinds/index.js';
