/**
 * Child processes for tests (kubectl and the like): bounded run time, output captured, and
 * every process killed by its PID in the test's teardown, even when the test fails.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Test } from 'tap';

/** How a process ended, as data (the execa habit): a failure to start or a timeout is not an exception. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed because it outlived `timeoutMs`. */
  timedOut: boolean;
  /** Set when the process could not be started (e.g. ENOENT). */
  error?: Error;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

/** Kills a child by its PID (never by name); a process already gone is fine. */
export function killProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Runs a command to completion, or kills it after `timeoutMs`; resolves with how it ended. */
export function run(t: Test, file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    t.teardown(() => killProcess(child));
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let startError: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      killProcess(child);
    }, timeoutMs);
    child.on('error', (error) => (startError = error));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ...(startError ? { error: startError } : {}) });
    });
    // A child that exits without reading stdin makes the write fail with EPIPE; its exit tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export interface StreamingProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout so far once it matches `pattern`; rejects after `timeoutMs` or on exit. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(): void;
}

/** Starts a long-running command (such as `kubectl get -w`) whose output is read as it comes. */
export function spawnStreaming(t: Test, file: string, args: string[], options: Omit<RunOptions, 'input' | 'timeoutMs'> = {}): StreamingProcess {
  const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => killProcess(child));
  let stdout = '';
  let stderr = '';
  let exited: string | undefined;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.on('error', (error) => {
    exited = `failed to start: ${error.message}`;
    notify();
  });
  child.on('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
    notify();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: () => killProcess(child),
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            done();
            resolve(stdout);
          } else if (exited !== undefined) {
            done();
            reject(new Error(`${file} ${args.join(' ')} ${exited} before its output matched ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for output matching ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
