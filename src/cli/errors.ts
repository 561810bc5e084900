/** User-facing failures of the CLI, and how every error is printed (kubectl's wording, KUBECTL-PROTOCOL §11). */
import { ApiError } from '../api/errors.js';
import { ConnectionError } from '../client/http-errors.js';
import { KubeconfigError } from '../client/kubeconfig.js';
import { CodedError } from '../lib/coded-error.js';

export type CliErrorCode = 'Usage' | 'UnknownResource' | 'ManifestInvalid' | 'WatchFailed' | 'Timeout' | 'PreconditionFailed' | 'NotSupported' | 'RolloutFailed' | 'DrainFailed';

/** A problem with what the user asked for; printed as `error: <message>`. */
export class CliError extends CodedError<CliErrorCode> {}

export const unknownResource = (typed: string): CliError => new CliError('UnknownResource', `the server doesn't have a resource type "${typed}"`);

/** Errors the CLI knows how to explain; anything else is a bug and keeps its stack. */
export function isReportable(error: unknown): boolean {
  if (error instanceof ApiError || error instanceof ConnectionError || error instanceof KubeconfigError || error instanceof CliError) return true;
  // File system failures (a missing or unreadable -f file) are the user's to fix, not bugs.
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * The line kubectl would print. `when` names the operation on a file, as in
 * `error when creating "web.yaml": ...`.
 */
export function formatError(error: unknown, when?: string): string {
  const prefix = when ? `${when}: ` : '';
  if (error instanceof ApiError) {
    if (error.code === 401) return `error: You must be logged in to the server (${error.message})`;
    if (error.reason === 'Invalid' && error.details?.kind && error.details.name !== undefined) {
      const causes = error.details.causes ?? [];
      const lines = causes.map((cause) => (cause.field ? `${cause.field}: ${cause.message}` : cause.message));
      const what = `The ${error.details.kind} "${error.details.name}" is invalid: `;
      // kubectl names the object, not the operation or file, for validation failures.
      if (lines.length === 1) return `${what}${lines[0]}`;
      if (lines.length > 1) return `${what}\n${lines.map((line) => `* ${line}`).join('\n')}`;
      return `The ${error.message}`;
    }
    return `Error from server (${error.reason}): ${prefix}${error.message}`;
  }
  if (error instanceof ConnectionError) return error.message;
  if (error instanceof Error) return `error: ${prefix}${error.message}`;
  return `error: ${prefix}${String(error)}`;
}
