/** Where commands write: process stdout/stderr by default, a buffer in tests. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Raw bytes to stdout (logs, exec), resolving when there is room for more. */
  bytes?(chunk: Uint8Array): Promise<void>;
  /** Whether stdout is a terminal, so a progress line may be rewritten in place. */
  readonly interactive?: boolean;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  bytes: (chunk) => (process.stdout.write(chunk) ? Promise.resolve() : new Promise((resolve) => process.stdout.once('drain', resolve))),
  get interactive() {
    return process.stdout.isTTY === true;
  },
};

let pipeGuarded = false;

/** `pm8s get pods | head` closes our stdout early: end quietly, as other CLIs do, instead of crashing on EPIPE. */
export function guardClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

/** Collects everything written; tests read `stdout` and `stderr`. */
export class BufferOutput implements Output {
  stdout = '';
  stderr = '';
  interactive = false;

  out(text: string): void {
    this.stdout += text;
  }

  err(text: string): void {
    this.stderr += text;
  }
}
