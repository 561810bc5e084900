/** What every command is handed: where to write, where stdin comes from, and the exit code it leaves. */
import type { Output } from './output.js';

export interface CliContext {
  output: Output;
  /** All of stdin, for `-f -`. */
  readStdin: () => Promise<string>;
  /** 0 unless a command reported a failure it handled itself (errors already printed). */
  exitCode: number;
}

export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Global flags defined on the program (main.ts). */
export interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
}
