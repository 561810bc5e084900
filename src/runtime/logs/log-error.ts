import { CodedError } from '../../lib/coded-error.js';

export type LogErrorCode =
  /** A namespace, pod name, uid or container name that cannot be one path component. */
  | 'InvalidLogName'
  /** A symlink (or non-directory, non-regular file) where the log layout expects a real one. */
  | 'UnsafeLogPath'
  /** No log file for this container (never started, or its logs were removed). */
  | 'LogNotFound'
  /** `previous` asked, but no earlier restart of the container left a log. */
  | 'PreviousLogNotFound'
  /** Raw log files carry no per-line times: the process writes to the file itself. */
  | 'TimestampsUnsupported'
  /** Nonsense options (negative tailLines, a sinceTime that is not a date, …). */
  | 'InvalidLogOptions';

/** Failures of the container-log building blocks; callers match on `code`. */
export class LogError extends CodedError<LogErrorCode> {}

/** True when `error` is the errno `code` (ENOENT, ELOOP, …). */
export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
