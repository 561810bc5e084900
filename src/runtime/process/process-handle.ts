/**
 * A handle names a running container process so a restarted agent can find it again (Nomad's
 * TaskHandle): the wrapper's pid, which is also the process group id, plus its /proc start time,
 * so a pid the kernel has since given to someone else is never adopted or signalled.
 */
import { isSameLiveProcess } from './proc-stat.js';

export interface ProcessRecord {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot). */
  startTime: string;
  /** Where the wrapper records `<exitCode> <signal>` when the command ends. */
  statusFile: string;
}

export class ProcessHandle implements ProcessRecord {
  readonly pid: number;
  readonly startTime: string;
  readonly statusFile: string;

  constructor(record: ProcessRecord) {
    this.pid = record.pid;
    this.startTime = record.startTime;
    this.statusFile = record.statusFile;
  }

  /** True while the wrapper this handle names is running (a reused pid reads as false). */
  alive(): Promise<boolean> {
    return isSameLiveProcess(this.pid, this.startTime);
  }

  toJSON(): ProcessRecord {
    return { pid: this.pid, startTime: this.startTime, statusFile: this.statusFile };
  }
}

/**
 * Re-adopts a recorded process: resolves with its handle only when the pid is alive and started at
 * the recorded time. An exited process resolves undefined too; `exited(new ProcessHandle(record))`
 * then reads how it ended.
 */
export async function reattach(record: ProcessRecord): Promise<ProcessHandle | undefined> {
  if (!Number.isSafeInteger(record.pid) || record.pid <= 1 || typeof record.startTime !== 'string') return undefined;
  return (await isSameLiveProcess(record.pid, record.startTime)) ? new ProcessHandle(record) : undefined;
}
