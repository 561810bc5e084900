/** Where commands write: process stdout/stderr by default, a buffer in tests. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Collects everything written; tests read `stdout` and `stderr`. */
export class BufferOutput implements Output {
  stdout = '';
  stderr = '';

  out(text: string): void {
    this.stdout += text;
  }

  err(text: string): void {
    this.stderr += text;
  }
}
