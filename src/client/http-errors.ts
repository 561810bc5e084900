/** Failures of the HTTP transport itself (the server never answered, or answered garbage); API refusals are `ApiError`s. */
import { ApiError, type StatusDetails, type StatusReason } from '../api/errors.js';
import { isRecord } from '../api/types.js';

export type ConnectionErrorCode = 'ConnectionFailed' | 'Timeout' | 'BadResponse';

export class ConnectionError extends Error {
  readonly code: ConnectionErrorCode;
  readonly server: string;

  constructor(code: ConnectionErrorCode, server: string, detail: string, options?: { cause?: unknown }) {
    // kubectl's wording, so users and scripts see the familiar prefix.
    super(`Unable to connect to the server: ${server}: ${detail}`, options);
    this.name = 'ConnectionError';
    this.code = code;
    this.server = server;
  }
}

const REASONS: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Rebuilds the server's Status as an ApiError; a body that is not a Status still yields a useful error. */
export function apiErrorFromResponse(statusCode: number, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const fallbackReason = REASONS[statusCode] ?? (statusCode >= 500 ? 'InternalError' : 'BadRequest');
  if (isRecord(parsed) && parsed.kind === 'Status') {
    const reason = typeof parsed.reason === 'string' && parsed.reason !== '' ? (parsed.reason as StatusReason) : fallbackReason;
    const message = typeof parsed.message === 'string' ? parsed.message : `the server responded with status ${statusCode}`;
    const code = typeof parsed.code === 'number' ? parsed.code : statusCode;
    const details = isRecord(parsed.details) ? (parsed.details as StatusDetails) : undefined;
    return new ApiError(code, reason, message, details);
  }
  const text = body.trim();
  return new ApiError(statusCode, fallbackReason, text ? `the server responded with status ${statusCode}: ${text.slice(0, 500)}` : `the server responded with status ${statusCode}`);
}
