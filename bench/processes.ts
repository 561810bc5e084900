/** Starting and stopping the processes a benchmark measures; every one is stopped by its PID. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Started {
  child: ChildProcess;
  /** The first stdout line for which `ready` returned a value. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startProcess(command: string, args: string[], ready: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const found = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not become ready in ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code} before it was ready`)));
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (ready(parsed)) {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
    });
  });
  return {
    child,
    ready: found,
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = once(child, 'exit');
      process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}

/** Resident set size of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
