/** A child that writes numbered lines to a log fd: the writer the log tests follow and rotate. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { Test } from 'tap';
import { killProcess } from './processes.js';

// Writes `line <n>` padded to `width` bytes every `everyMs`, `count` lines, then exits.
const NUMBERED_WRITER = `
const fs = require('node:fs');
const [count, everyMs, width] = process.argv.slice(1).map(Number);
let n = 0;
const timer = setInterval(() => {
  n++;
  fs.writeSync(1, ('line ' + n).padEnd(width - 1, '.') + '\\n');
  if (n >= count) clearInterval(timer);
}, everyMs);`;

/** Starts the writer on `fd` (closed here once the child has it); killed by PID at teardown. */
export function startWriter(t: Test, fd: number, args: number[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-e', NUMBERED_WRITER, ...args.map(String)], { stdio: ['ignore', fd, fd], detached: true });
  t.teardown(() => killProcess(child));
  closeSync(fd);
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}
