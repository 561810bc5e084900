/** Pieces several kinds share: labels, selectors, conditions, template metadata, and the kind registry entry. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isDns1123Subdomain, isQualifiedName, isValidLabelValue, isValidPercent, isValidPortName, isValidPortNumber } from '../names.js';
import { childPath, indexPath, s } from '../schema.js';
import type { AnySchema, Infer } from '../schema.js';
import { everything, labelSelectorFromObject } from '../selectors.js';
import type { LabelSelector } from '../selectors.js';
import type { KubeObject } from '../types.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** What validation.ts needs to know about one kind. */
export interface KindDefinition {
  /** Everything except metadata: spec, status, data… */
  schema: AnySchema;
  /** What a write to the status subresource may carry (defaults to `schema`). */
  statusSchema?: AnySchema;
  defaults?(object: KubeObject): void;
  validateUpdate?(object: KubeObject, old: KubeObject): FieldError[];
}

/** Lets each kind write its hooks against its own type; the one cast lives here. */
export function defineKind<T extends KubeObject>(definition: {
  schema: AnySchema;
  statusSchema?: AnySchema;
  defaults?: (object: T) => void;
  validateUpdate?: (object: T, old: T) => FieldError[];
}): KindDefinition {
  return {
    schema: definition.schema,
    statusSchema: definition.statusSchema,
    defaults: definition.defaults as ((object: KubeObject) => void) | undefined,
    validateUpdate: definition.validateUpdate as ((object: KubeObject, old: KubeObject) => FieldError[]) | undefined,
  };
}

export const isSet = <T>(value: T): value is NonNullable<T> => value !== undefined && value !== null;

export function validateLabels(labels: Record<string, string>, path: string, errors: FieldError[]): void {
  for (const [key, value] of Object.entries(labels)) {
    for (const message of isQualifiedName(key)) errors.push(fieldErrors.invalid(path, key, message));
    for (const message of isValidLabelValue(value)) errors.push(fieldErrors.invalid(path, value, message));
  }
}

export function validateAnnotations(annotations: Record<string, string>, path: string, errors: FieldError[]): void {
  let totalSize = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const message of isQualifiedName(key.toLowerCase())) errors.push(fieldErrors.invalid(path, key, message));
    totalSize += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (totalSize > TOTAL_ANNOTATION_SIZE_LIMIT) errors.push(fieldErrors.tooLongBytes(path, TOTAL_ANNOTATION_SIZE_LIMIT));
}

export const labelsSchema = s.map(s.string()).check(validateLabels);
export const annotationsSchema = s.map(s.string()).check(validateAnnotations);

const selectorRequirementSchema = s.object({
  key: s.string().required(),
  operator: s.string().required(),
  values: s.array(s.string()),
});

export const labelSelectorSchema = s.object({
  matchLabels: labelsSchema,
  matchExpressions: s.array(selectorRequirementSchema),
}).check((selector, path, errors) => {
  (selector.matchExpressions ?? []).forEach((expression, index) => {
    const at = indexPath(childPath(path, 'matchExpressions'), index);
    const values = expression.values ?? [];
    if (expression.operator === 'In' || expression.operator === 'NotIn') {
      if (values.length === 0) errors.push(fieldErrors.required(childPath(at, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (expression.operator === 'Exists' || expression.operator === 'DoesNotExist') {
      if (values.length > 0) errors.push(fieldErrors.forbidden(childPath(at, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errors.push(fieldErrors.invalid(childPath(at, 'operator'), expression.operator, 'not a valid selector operator'));
    }
    for (const message of isQualifiedName(expression.key)) errors.push(fieldErrors.invalid(childPath(at, 'key'), expression.key, message));
    values.forEach((value, valueIndex) => {
      for (const message of isValidLabelValue(value)) errors.push(fieldErrors.invalid(indexPath(childPath(at, 'values'), valueIndex), value, message));
    });
  });
});
export type LabelSelectorSpec = Infer<typeof labelSelectorSchema>;

/** The selector as a matcher, or undefined when it is malformed (validation reports why). */
export function selectorOrUndefined(selector: LabelSelectorSpec | undefined): LabelSelector | undefined {
  if (!isSet(selector)) return undefined;
  const known = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
  if ((selector.matchExpressions ?? []).some((expression) => !known.includes(expression.operator))) return undefined;
  if ((selector.matchExpressions ?? []).some((e) => (e.operator === 'In' || e.operator === 'NotIn') && (e.values ?? []).length === 0)) return undefined;
  return Object.keys(selector).length === 0 ? everything() : labelSelectorFromObject(selector);
}

/** Metadata allowed inside templates (pod templates, claim templates). */
export const templateMetadataSchema = s.object({
  name: s.string(),
  namespace: s.string(),
  labels: labelsSchema,
  annotations: annotationsSchema,
});

export const conditionSchema = s.object({
  type: s.string().required(),
  status: s.string().required(),
  reason: s.string(),
  message: s.string(),
  lastTransitionTime: s.string(),
  lastUpdateTime: s.string(),
  lastProbeTime: s.string(),
  lastHeartbeatTime: s.string(),
  observedGeneration: s.integer({ format: 'int64', min: 0 }),
});
export type Condition = Infer<typeof conditionSchema>;

export const objectReferenceSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  namespace: s.string(),
  name: s.string(),
  uid: s.string(),
  resourceVersion: s.string(),
  fieldPath: s.string(),
});
export type ObjectReference = Infer<typeof objectReferenceSchema>;

export const nonNegative = (format: 'int32' | 'int64' = 'int32') => s.integer({ min: 0, format });

export const portNumberSchema = s.integer().check((port, path, errors) => {
  for (const message of isValidPortNumber(port)) errors.push(fieldErrors.invalid(path, port, message));
});

export const portNameSchema = s.string().check((name, path, errors) => {
  for (const message of isValidPortName(name)) errors.push(fieldErrors.invalid(path, name, message));
});

export const dnsSubdomainSchema = s.string().check((name, path, errors) => {
  for (const message of isDns1123Subdomain(name)) errors.push(fieldErrors.invalid(path, name, message));
});

/** A port given as a number (1–65535) or a name (IANA_SVC_NAME). */
export const portNumberOrNameSchema = s.intOrString().check((port, path, errors) => {
  const messages = typeof port === 'number' ? isValidPortNumber(port) : isValidPortName(port);
  for (const message of messages) errors.push(fieldErrors.invalid(path, port, message));
});

/** maxSurge / maxUnavailable: a non-negative count or a percentage up to 100%. */
export const intOrPercentSchema = s.intOrString().check((value, path, errors) => {
  if (typeof value === 'number') {
    if (value < 0) errors.push(fieldErrors.invalid(path, value, 'must be greater than or equal to 0'));
    return;
  }
  const messages = isValidPercent(value);
  for (const message of messages) errors.push(fieldErrors.invalid(path, value, message));
  if (messages.length === 0 && Number(value.slice(0, -1)) > 100) errors.push(fieldErrors.invalid(path, value, 'must not be greater than 100%'));
});

/** 0 and "0%" both mean zero, for the "not both zero" rule. */
export const isZeroIntOrPercent = (value: number | string | undefined): boolean =>
  value === 0 || (typeof value === 'string' && /^0+%$/.test(value));

export const IMMUTABLE = 'field is immutable';

/** Structural equality over JSON values, for immutability checks. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  if (keys.length !== Object.keys(right).filter((key) => right[key] !== undefined).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]));
}
