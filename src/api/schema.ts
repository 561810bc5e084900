/**
 * A small schema DSL: each kind's shape is declared once, its TypeScript type is `Infer<typeof schema>`,
 * and `validate` walks a value collecting every FieldError with Kubernetes-style paths.
 *
 * Validation only reads: unknown fields are neither reported nor visited, so recursion depth is
 * bounded by the schema's own nesting, never by the input's. `null` counts as "not set", as in Go.
 */

import { fieldErrors } from './errors.js';
import type { FieldError } from './errors.js';
import { QUANTITY_FORMAT_MESSAGE, isValidQuantity } from './quantity.js';
import { isRecord } from './types.js';

/** Runs after the value and its children have the right types; pushes problems onto `errors`. */
export type Check<T> = (value: T, path: string, errors: FieldError[]) => void;

export type SchemaType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'map' | 'quantity' | 'int-or-string' | 'unknown';

/** What every schema exposes, whatever its value type (kept variance-free so shapes can mix schemas). */
export interface AnySchema {
  readonly type: SchemaType;
  readonly isRequired: boolean;
  readonly output: unknown;
  validate(value: unknown, path: string, errors: FieldError[]): void;
}

export type Infer<S extends AnySchema> = S['output'];

export type Shape = Record<string, AnySchema>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K]['isRequired'] extends true ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in Exclude<keyof S, RequiredKeys<S>>]?: Infer<S[K]> }
>;

interface Definition<T> {
  type: SchemaType;
  /** The shape test, e.g. "is a string"; children are checked by `walk`. */
  accepts(value: unknown): boolean;
  /** The typeInvalid detail when `accepts` fails. */
  expected: string;
  walk?(value: T, path: string, errors: FieldError[]): void;
  /** Introspection for tooling such as strategic merge patch. */
  shape?: Shape;
  item?: AnySchema;
  mergeKey?: string;
  values?: AnySchema;
}

export class Schema<T, R extends boolean = false> implements AnySchema {
  declare readonly output: T;
  readonly isRequired: R;
  readonly definition: Definition<T>;
  private readonly checks: readonly Check<T>[];

  constructor(definition: Definition<T>, isRequired: R, checks: readonly Check<T>[] = []) {
    this.definition = definition;
    this.isRequired = isRequired;
    this.checks = checks;
  }

  get type(): SchemaType {
    return this.definition.type;
  }

  /** Absent (or null) becomes a `Required value` error instead of being fine. */
  required(): Schema<T, true> {
    return new Schema(this.definition, true, this.checks);
  }

  check(check: Check<T>): Schema<T, R> {
    return new Schema(this.definition, this.isRequired, [...this.checks, check]);
  }

  validate(value: unknown, path: string, errors: FieldError[]): void {
    if (value === undefined || value === null) {
      if (this.isRequired) errors.push(shapeError(fieldErrors.required(path)));
      return;
    }
    if (!this.definition.accepts(value)) {
      errors.push(shapeError(fieldErrors.typeInvalid(path, value, this.definition.expected)));
      return;
    }
    const before = errors.length;
    this.definition.walk?.(value as T, path, errors);
    // Checks may then trust the declared type of every child; otherwise the shape errors already say what is wrong.
    if (hasShapeErrors(errors, before)) return;
    for (const check of this.checks) check(value as T, path, errors);
  }
}

// Errors meaning "the value does not have its declared TypeScript type": a wrong type, or a required value missing.
const shapeErrors = new WeakSet<FieldError>();

function shapeError(error: FieldError): FieldError {
  shapeErrors.add(error);
  return error;
}

/** True when any error from `from` on means the value does not match its declared type. */
export function hasShapeErrors(errors: readonly FieldError[], from = 0): boolean {
  for (let index = from; index < errors.length; index += 1) {
    const error = errors[index];
    if (error && shapeErrors.has(error)) return true;
  }
  return false;
}

export const childPath = (path: string, key: string): string => (path ? `${path}.${key}` : key);
export const indexPath = (path: string, index: number): string => `${path}[${index}]`;
export const keyPath = (path: string, key: string): string => `${path}[${key}]`;

/** Own properties only, so `__proto__` or `constructor` in the input never reach the prototype. */
export const own = (record: Record<string, unknown>, key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);

/** A null inside a list or map is never meaningful, so it is reported rather than skipped. */
function requiredElement(schema: AnySchema, element: unknown, path: string, errors: FieldError[]): void {
  if (element === undefined || element === null) errors.push(shapeError(fieldErrors.required(path)));
  else schema.validate(element, path, errors);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

interface IntegerOptions {
  min?: number;
  max?: number;
  /** int32 (the default, as most Kubernetes counts are) or int64 (seconds, user ids). */
  format?: 'int32' | 'int64';
}

interface StringOptions<E extends string> {
  enum?: readonly E[];
}

export const s = {
  string<const E extends string = string>(options: StringOptions<E> = {}): Schema<string extends E ? string : E> {
    const allowed = options.enum;
    return new Schema<string extends E ? string : E>({
      type: 'string',
      accepts: (value) => typeof value === 'string',
      expected: 'must be of type string',
      walk: allowed
        ? (value, path, errors) => {
            if (!(allowed as readonly string[]).includes(value)) errors.push(fieldErrors.notSupported(path, value, allowed));
          }
        : undefined,
    }, false);
  },

  integer(options: IntegerOptions = {}): Schema<number> {
    const int32 = (options.format ?? 'int32') === 'int32';
    return new Schema<number>({
      type: 'integer',
      accepts: (value) => typeof value === 'number' && Number.isInteger(value),
      expected: 'must be of type integer',
      walk: (value, path, errors) => {
        if (int32 && value > INT32_MAX) errors.push(fieldErrors.invalid(path, value, `must be less than or equal to ${INT32_MAX}`));
        else if (int32 && value < INT32_MIN) errors.push(fieldErrors.invalid(path, value, `must be greater than or equal to ${INT32_MIN}`));
        else if (!Number.isSafeInteger(value)) errors.push(fieldErrors.invalid(path, value, 'must be a 64-bit integer'));
        else if (options.min !== undefined && value < options.min) errors.push(fieldErrors.invalid(path, value, `must be greater than or equal to ${options.min}`));
        else if (options.max !== undefined && value > options.max) errors.push(fieldErrors.invalid(path, value, `must be less than or equal to ${options.max}`));
      },
    }, false);
  },

  number(): Schema<number> {
    return new Schema<number>({ type: 'number', accepts: (value) => typeof value === 'number' && Number.isFinite(value), expected: 'must be of type number' }, false);
  },

  boolean(): Schema<boolean> {
    return new Schema<boolean>({ type: 'boolean', accepts: (value) => typeof value === 'boolean', expected: 'must be of type boolean' }, false);
  },

  /** Anything at all, never descended into (free-form fields such as container state). */
  unknown(): Schema<unknown> {
    return new Schema<unknown>({ type: 'unknown', accepts: () => true, expected: '' }, false);
  },

  object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
    return new Schema<ObjectOf<S>>({
      type: 'object',
      shape,
      accepts: isRecord,
      expected: 'must be of type object',
      walk: (value, path, errors) => {
        const record = value as Record<string, unknown>;
        for (const [key, schema] of Object.entries(shape)) schema.validate(own(record, key), childPath(path, key), errors);
      },
    }, false);
  },

  /** `mergeKey` is the strategic-merge-patch key (e.g. `name` for containers). */
  array<I extends AnySchema>(item: I, options: { mergeKey?: string } = {}): Schema<Infer<I>[]> {
    return new Schema<Infer<I>[]>({
      type: 'array',
      item,
      mergeKey: options.mergeKey,
      accepts: Array.isArray,
      expected: 'must be of type array',
      walk: (value, path, errors) => value.forEach((element, index) => requiredElement(item, element, indexPath(path, index), errors)),
    }, false);
  },

  /** A string-keyed dictionary such as labels or resource lists; paths read `limits[memory]`. */
  map<V extends AnySchema>(values: V): Schema<Record<string, Infer<V>>> {
    return new Schema<Record<string, Infer<V>>>({
      type: 'map',
      values,
      accepts: isRecord,
      expected: 'must be of type object',
      walk: (value, path, errors) => {
        for (const [key, element] of Object.entries(value)) requiredElement(values, element, keyPath(path, key), errors);
      },
    }, false);
  },

  /** A resource.Quantity: a string like "250m" or a plain JSON number. */
  quantity(): Schema<string | number> {
    return new Schema<string | number>({
      type: 'quantity',
      accepts: (value) => typeof value === 'string' || typeof value === 'number',
      expected: 'must be of type string',
      walk: (value, path, errors) => {
        if (!isValidQuantity(value)) errors.push(fieldErrors.invalid(path, value, QUANTITY_FORMAT_MESSAGE));
      },
    }, false);
  },

  /** intstr.IntOrString: ports (80 or "http"), rollout sizes (1 or "25%"). */
  intOrString(): Schema<number | string> {
    return new Schema<number | string>({
      type: 'int-or-string',
      accepts: (value) => typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)),
      expected: 'must be of type integer or string',
    }, false);
  },
};

/** The declared shape of an object schema, for tooling that needs merge keys or child schemas. */
export const shapeOf = (schema: AnySchema): Shape | undefined => (schema instanceof Schema ? schema.definition.shape : undefined);

/** The schema at a dotted path (`spec.template.spec.containers`), looking through arrays and maps. */
export function schemaAt(root: AnySchema, path: string): AnySchema | undefined {
  let current: AnySchema | undefined = root;
  for (const segment of path.split('.').filter(Boolean)) {
    const container = elementOf(current);
    current = container instanceof Schema ? container.definition.shape?.[segment] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

const elementOf = (schema: AnySchema | undefined): AnySchema | undefined =>
  schema instanceof Schema ? (schema.definition.item ?? schema.definition.values ?? schema) : schema;

export const mergeKeyOf = (schema: AnySchema | undefined): string | undefined =>
  schema instanceof Schema ? schema.definition.mergeKey : undefined;
