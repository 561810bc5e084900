/** The error catalogue: every failure the API can return, as a Kubernetes Status. */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

/** One bad field, in the shape Kubernetes' field.Error prints. */
export interface FieldError {
  /** Dotted path, e.g. `spec.template.spec.containers[0].name`. */
  field: string;
  /** FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueDuplicate, FieldValueTooLong, FieldValueForbidden, FieldValueTypeInvalid */
  type: string;
  /** The full line, e.g. `spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
  message: string;
}

/** An API failure with a stable reason and HTTP code; `toStatus()` gives the wire form. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** `qualified` is the resource with its group, e.g. `deployments.apps` or `pods`. */
export const notFound = (qualified: string, name: string, kind = qualified.split('.')[0]): ApiError =>
  new ApiError(404, 'NotFound', `${qualified} "${name}" not found`, { name, kind, ...groupOf(qualified) });

export const alreadyExists = (qualified: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
    name,
    kind: qualified.split('.')[0],
    ...groupOf(qualified),
  });

export const conflict = (qualified: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`, {
    name,
    kind: qualified.split('.')[0],
    ...groupOf(qualified),
  });

export const invalid = (kind: string, name: string, errors: FieldError[], group?: string): ApiError =>
  new ApiError(
    422,
    'Invalid',
    `${kind} "${name}" is invalid: ${errors.length === 1 ? errors[0]!.message : `[${errors.map((e) => e.message).join(', ')}]`}`,
    {
      name,
      kind,
      ...(group ? { group } : {}),
      causes: errors.map((e) => ({ reason: e.type, message: e.message.slice(e.field.length + 2), field: e.field })),
    },
  );

export const badRequest = (message: string, causes?: StatusCause[]): ApiError =>
  new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const forbidden = (message: string): ApiError => new ApiError(403, 'Forbidden', message);

export const gone = (message: string): ApiError => new ApiError(410, 'Expired', message);

export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

export const unsupportedMediaType = (type: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/strategic-merge-patch+json, application/merge-patch+json, application/json-patch+json (got "${type}")`);

export const methodNotAllowed = (method: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);

export const internalError = (message: string): ApiError => new ApiError(500, 'InternalError', message);

export const unavailable = (message: string, retryAfterSeconds = 1): ApiError =>
  new ApiError(503, 'ServiceUnavailable', message, { retryAfterSeconds });

function groupOf(qualified: string): { group?: string } {
  const dot = qualified.indexOf('.');
  return dot < 0 ? {} : { group: qualified.slice(dot + 1) };
}

/** Field error helpers, printing exactly as Kubernetes' field package does. */
export const fieldErrors = {
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    field,
    type: 'FieldValueInvalid',
    message: `${field}: Invalid value: ${printValue(value)}: ${detail}`,
  }),
  required: (field: string, detail = ''): FieldError => ({
    field,
    type: 'FieldValueRequired',
    message: `${field}: Required value${detail ? `: ${detail}` : ''}`,
  }),
  notSupported: (field: string, value: unknown, allowed: readonly string[]): FieldError => ({
    field,
    type: 'FieldValueNotSupported',
    message: `${field}: Unsupported value: ${printValue(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({
    field,
    type: 'FieldValueDuplicate',
    message: `${field}: Duplicate value: ${printValue(value)}`,
  }),
  tooLong: (field: string, max: number): FieldError => ({
    field,
    type: 'FieldValueTooLong',
    message: `${field}: Too long: may not be more than ${max} bytes`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({
    field,
    type: 'FieldValueForbidden',
    message: `${field}: Forbidden: ${detail}`,
  }),
  notFound: (field: string, value: unknown): FieldError => ({
    field,
    type: 'FieldValueNotFound',
    message: `${field}: Not found: ${printValue(value)}`,
  }),
  /** Newer Kubernetes wording for size limits, e.g. the 256 KiB annotations total. */
  tooLongBytes: (field: string, max: number): FieldError => ({
    field,
    type: 'FieldValueTooLong',
    message: `${field}: Too long: must have at most ${max} bytes`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    field,
    type: 'FieldValueTypeInvalid',
    message: `${field}: Invalid value: ${printValue(value)}: ${detail}`,
  }),
};

function printValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 256 ? `${value.slice(0, 256)}...` : value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? '[]' : '{}';
  return String(value);
}
