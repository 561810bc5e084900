/**
 * Starting a container's command as a detached, supervised process. A tiny POSIX `sh` wrapper is
 * the process group leader; it starts the command as its child and, when the child ends, records
 * `<exitCode> <signal>` atomically in the status file, so a container that exits while the agent is
 * down is later reported with its true exit code. The wrapper is the only per-container overhead
 * (one dash, ~1 MiB RSS); the agent holds no pipe to it, so the agent can exit and return freely.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DEFAULT_PATH, findExecutable } from './find-executable.js';
import { ProcessHandle } from './process-handle.js';
import { parseProcStat } from './proc-stat.js';

export interface ProcessSpec {
  /** The argv to run, already expanded (`expandCommand`); never run through a shell. */
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** The fd stdout and stderr go to (`openLogFile`); the caller closes its copy afterwards. */
  logFd: number;
  /** The cgroup driver's `joinCommand(handle)` snippet: run by the command's own shell before it execs. */
  cgroupJoin?: string;
  /** Where the wrapper records the exit status. Its directory must exist and be the agent's. */
  statusFile: string;
}

export interface StartProcessOptions {
  /** The shell the wrapper runs in; default /bin/sh. */
  shell?: string;
}

export type StartResult = { ok: true; handle: ProcessHandle } | { ok: false; reason: 'StartError'; message: string };

/**
 * The wrapper. $1 status file, $2 cgroup join snippet (may be empty), $3 mv, $4 env, $5 setpriv
 * argv prefix (empty when the user is unchanged); then the command.
 * - Traps are set before the child starts; a signal that arrives before `c` is known is replayed.
 * - The child's `sh -c` joins the cgroup (exit 125 when that fails), then execs `env
 *   --default-signal` (an async child of a non-interactive sh starts with SIGINT and SIGQUIT
 *   ignored; this restores them for the app), optionally through `setpriv` to drop to the pod's
 *   user after joining as root. The wrapper itself stays out of the cgroup: its memory is not
 *   charged to the container, and a v2 group OOM kill cannot take it, so the status still gets written.
 * - `wait` returns early when a trap runs; the loop waits again until the child has really ended.
 */
export const WRAPPER_SCRIPT = [
  'f=$1 j=$2 m=$3 e=$4 p=$5; shift 5',
  't= c=',
  `trap 't=TERM; [ -z "$c" ] || kill -TERM "$c" 2>/dev/null' TERM`,
  `trap 't=INT; [ -z "$c" ] || kill -INT "$c" 2>/dev/null' INT`,
  `"$0" -c "$j"'`,
  `exec '"$p"' "$@"' sh "$e" --default-signal=INT,QUIT -- "$@" &`,
  'c=$!',
  '[ -z "$t" ] || kill -"$t" "$c" 2>/dev/null',
  'while :; do t=; wait "$c"; s=$?; [ -n "$t" ] || break; done',
  'n=; [ "$s" -le 128 ] || n=$(kill -l "$s" 2>/dev/null)',
  `printf '%s %s\\n' "$s" "$n" > "$f.tmp.$$" && "$m" -f "$f.tmp.$$" "$f"`,
  'exit "$s"',
].join('\n');

let tools: Promise<{ mv: string; env: string; setpriv?: string }> | undefined;

/** The wrapper's helpers, found once in the agent's PATH: the container's PATH may lack them. */
function findTools() {
  tools ??= (async () => {
    const find = async (name: string) => {
      const found = await findExecutable(name, { pathEnv: process.env.PATH ?? DEFAULT_PATH, uid: 0 });
      return found.ok ? found.file : undefined;
    };
    const [mv, env, setpriv] = await Promise.all([find('mv'), find('env'), find('setpriv')]);
    return { mv: mv ?? '/bin/mv', env: env ?? '/usr/bin/env', ...(setpriv === undefined ? {} : { setpriv }) };
  })();
  return tools;
}

/** Quotes one word for the wrapper's `exec` line. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export async function startProcess(spec: ProcessSpec, options: StartProcessOptions = {}): Promise<StartResult> {
  const [file] = spec.command;
  if (file === undefined) return { ok: false, reason: 'StartError', message: 'exec: no command' };
  if (spec.cwd !== undefined) {
    const dir = await stat(spec.cwd).catch(() => undefined);
    // runc's wording for a working directory that is not there.
    if (dir === undefined || !dir.isDirectory()) return { ok: false, reason: 'StartError', message: `chdir to cwd (${JSON.stringify(spec.cwd)}) set in config.json failed: no such file or directory` };
  }
  const found = await findExecutable(file, { pathEnv: spec.env.PATH, ...pick(spec) });
  if (!found.ok) return { ok: false, reason: 'StartError', message: found.message };
  const { mv, env, setpriv } = await findTools();
  let privileges = '';
  if (spec.uid !== undefined || spec.gid !== undefined) {
    if (setpriv === undefined) return { ok: false, reason: 'StartError', message: 'runAsUser/runAsGroup need setpriv (util-linux), which is not installed' };
    const uid = spec.uid ?? process.getuid?.() ?? 0;
    const gid = spec.gid ?? process.getgid?.() ?? 0;
    privileges = [setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'].map(quote).join(' ');
  }
  const shell = options.shell ?? '/bin/sh';
  const child = spawn(shell, ['-c', WRAPPER_SCRIPT, shell, spec.statusFile, spec.cgroupJoin ?? ':', mv, env, privileges, ...spec.command], {
    env: { ...spec.env, PATH: spec.env.PATH ?? DEFAULT_PATH },
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    // Its own session and process group: the agent's exit or terminal never reaches it, and
    // one group id names everything the container forks without leaving.
    detached: true,
    stdio: ['ignore', spec.logFd, spec.logFd],
  });
  // Read the start time before yielding to the event loop: until then Node cannot have reaped the
  // wrapper, so even a command that exits at once leaves its stat readable (as a zombie).
  let startTime: string | undefined;
  if (child.pid !== undefined) {
    try {
      startTime = parseProcStat(child.pid, readFileSync(`/proc/${child.pid}/stat`, 'utf8'))?.startTime;
    } catch {
      startTime = undefined; // no /proc entry: reattach will refuse this pid, the status file still tells
    }
  }
  const spawned = await new Promise<{ pid: number } | { error: Error }>((resolve) => {
    child.once('spawn', () => resolve({ pid: child.pid ?? -1 }));
    child.once('error', (error) => resolve({ error }));
  });
  if ('error' in spawned) return { ok: false, reason: 'StartError', message: `exec: ${JSON.stringify(shell)}: ${spawned.error.message}` };
  // Node still reaps it while the agent runs; after the agent is gone, init does.
  child.unref();
  const pid = spawned.pid;
  return { ok: true, handle: new ProcessHandle({ pid, startTime: startTime ?? '0', statusFile: spec.statusFile }) };
}

function pick(spec: ProcessSpec): { cwd?: string; uid?: number; gid?: number } {
  return {
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  };
}
