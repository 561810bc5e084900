/**
 * `POST /exec/<namespace>/<pod>/<container>?command=a&command=b` (the kubelet's path, with its
 * repeated `command`): runs the command in the context of the container's running instance — the
 * environment it was started with, its workingDir, runAsUser/runAsGroup, and its cgroup, joined
 * before the command execs so nothing it forks escapes — never through a shell unless the command
 * is one. The answer streams as exec frames (src/api/exec-frames.ts): stdout, stderr, and last the
 * exit status. No stdin and no TTY. A client that goes away kills the command's process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ApiError, badRequest, internalError } from '../../api/errors.js';
import { EXEC_CHANNEL, EXEC_CONTENT_TYPE, encodeFrame, type ExecChannel } from '../../api/exec-frames.js';
import { DEFAULT_PATH, findExecutable } from '../../runtime/process/find-executable.js';
import { groupMembers, isSameLiveProcess, signalPid } from '../../runtime/process/proc-stat.js';
import type { Logger } from '../../lib/logger.js';
import type { NodeApiHandler } from './node-api.js';
import { findPod, pickContainer } from './node-api.js';
import { parseContainerID } from '../../runtime/runner/container-status.js';

/** After the command exits, how long output its leftover background processes still hold open is waited for. */
const DRAIN_AFTER_EXIT_MS = 1000;
/** A hung-up client's command gets SIGTERM, then SIGKILL after this long. */
const KILL_GRACE_MS = 2000;

export interface ExecSpec {
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** The cgroup driver's `joinCommand(handle)`. */
  cgroupJoin?: string;
}

export const serveExec: NodeApiHandler = async (request, response, segments, query, context) => {
  if (request.method !== 'POST' && request.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `${request.method} is not supported by exec`);
  request.resume(); // no stdin: any body is discarded
  const hangUp = new AbortController();
  response.once('close', () => hangUp.abort()); // also after our own end(), when it no longer matters
  const [namespace, podName, containerName] = segments;
  const command = query.getAll('command');
  if (command.length === 0 || command[0] === '') throw badRequest('you must specify at least one command for the container');
  const found = findPod(context, namespace, podName);
  const name = pickContainer(found, containerName);
  const runner = found.runner.container(name);
  const wrapper = parseContainerId(runner?.status());
  if (runner === undefined || wrapper === undefined || !(await isSameLiveProcess(wrapper.pid, wrapper.startTime))) {
    throw badRequest(`container ${name} in pod ${podName ?? ''} is not running`);
  }
  const spec = [...(found.pod.spec.initContainers ?? []), ...found.pod.spec.containers].find((container) => container.name === name)!;
  const security = { ...found.pod.spec.securityContext, ...spec.securityContext };
  const cgroup = runner.cgroup;
  const exec: ExecSpec = {
    command,
    // What the container was started with, as the runtime keeps a container's env (a changed ConfigMap does not show).
    env: await readEnviron(wrapper.pid),
    ...(spec.workingDir ? { cwd: spec.workingDir } : {}),
    ...(security.runAsUser === undefined ? {} : { uid: security.runAsUser }),
    ...(security.runAsGroup === undefined ? {} : { gid: security.runAsGroup }),
    ...(cgroup === undefined ? {} : { cgroupJoin: context.driver.joinCommand(cgroup) }),
  };
  response.writeHead(200, { 'content-type': EXEC_CONTENT_TYPE, 'cache-control': 'no-cache' });
  response.flushHeaders();
  const started = await startExec(exec);
  if (!started.ok) {
    const status = internalError(`error executing command in container: ${started.message}`).toStatus();
    response.end(encodeFrame(EXEC_CHANNEL.status, JSON.stringify(status)));
    return;
  }
  context.logger.info('exec', { pod: `${namespace}/${podName}`, container: name, command: command[0], pid: started.child.pid });
  const exitCode = await streamExec(started.child, response, hangUp.signal, context.logger);
  if (exitCode === undefined) return; // the client went away; the command was killed
  response.end(encodeFrame(EXEC_CHANNEL.status, JSON.stringify({ exitCode })));
};

/** The wrapper pid and start time from `pm8s://<pid>-<startTime>`, while the container runs. */
function parseContainerId(status: { state: { running?: unknown }; containerID?: string } | undefined): { pid: number; startTime: string } | undefined {
  if (status?.state.running === undefined) return undefined;
  return parseContainerID(status.containerID);
}

/** The environment a process was started with (the wrapper's is exactly what the container got). */
async function readEnviron(pid: number): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const entry of (await readFile(`/proc/${pid}/environ`)).toString('utf8').split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

let setprivPath: Promise<string | undefined> | undefined;

/**
 * Starts the command as the leader of its own process group: a `sh -c` joins the cgroup (exit 125
 * when that fails, as for the container itself), then execs the command, through `setpriv` when
 * the container runs as another user. Start errors use the runtime's wording.
 */
export async function startExec(spec: ExecSpec): Promise<{ ok: true; child: ChildProcess } | { ok: false; message: string }> {
  const [file] = spec.command;
  if (file === undefined || file === '') return { ok: false, message: 'exec: no command' };
  if (spec.cwd !== undefined) {
    const dir = await stat(spec.cwd).catch(() => undefined);
    if (dir === undefined || !dir.isDirectory()) return { ok: false, message: `chdir to cwd (${JSON.stringify(spec.cwd)}) failed: no such file or directory` };
  }
  const pathEnv = spec.env.PATH ?? DEFAULT_PATH;
  const found = await findExecutable(file, {
    pathEnv,
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  });
  if (!found.ok) return { ok: false, message: found.message };
  let privileges: string[] = [];
  if (spec.uid !== undefined || spec.gid !== undefined) {
    setprivPath ??= findExecutable('setpriv', { pathEnv: process.env.PATH ?? DEFAULT_PATH, uid: 0 }).then((result) => (result.ok ? result.file : undefined));
    const setpriv = await setprivPath;
    if (setpriv === undefined) return { ok: false, message: 'runAsUser/runAsGroup need setpriv (util-linux), which is not installed' };
    privileges = [setpriv, `--reuid=${spec.uid ?? process.getuid?.() ?? 0}`, `--regid=${spec.gid ?? process.getgid?.() ?? 0}`, '--clear-groups', '--'];
  }
  const script = `${spec.cgroupJoin ?? ':'}\nexec "$@"`;
  const child = spawn('/bin/sh', ['-c', script, 'sh', ...privileges, ...spec.command], {
    env: { ...spec.env, PATH: pathEnv },
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    detached: true, // its own process group: a hang-up kills all of it
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawned !== undefined) return { ok: false, message: `exec: "/bin/sh": ${spawned.message}` };
  return { ok: true, child };
}

/**
 * Frames the child's output onto the response, holding the pipes while the client is slow, and
 * resolves with its exit code (128 + N for signal N), or undefined when the client hung up first
 * (the process group is then killed).
 */
function streamExec(child: ChildProcess, response: ServerResponse, hangUp: AbortSignal, logger: Logger): Promise<number | undefined> {
  const pid = child.pid!;
  const streams = [child.stdout, child.stderr].filter((stream): stream is Readable => stream !== null);
  return new Promise((resolve) => {
    let finished = false;
    const forward = (channel: ExecChannel) => (chunk: Buffer) => {
      if (finished || response.destroyed) return;
      if (!response.write(encodeFrame(channel, chunk))) {
        for (const stream of streams) stream.pause();
        response.once('drain', () => streams.forEach((stream) => stream.resume()));
      }
    };
    child.stdout?.on('data', forward(EXEC_CHANNEL.stdout));
    child.stderr?.on('data', forward(EXEC_CHANNEL.stderr));
    const onClose = () => {
      if (finished) return;
      finished = true;
      killGroup(pid, logger);
      for (const stream of streams) stream.destroy();
      resolve(undefined);
    };
    hangUp.addEventListener('abort', onClose, { once: true });
    if (hangUp.aborted) onClose();
    const exited = new Promise<number>((resolveExit) => {
      child.once('exit', (code, signal) => resolveExit(code ?? 128 + (signal === null ? 0 : (os.constants.signals[signal] ?? 0))));
    });
    const drained = Promise.all(streams.map((stream) => new Promise<void>((done) => stream.once('close', () => done()))));
    void exited.then(async (code) => {
      // Background processes the command left in the container may hold its output open: don't wait for them forever.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((done) => (timer = setTimeout(done, DRAIN_AFTER_EXIT_MS)))]);
      clearTimeout(timer);
      if (finished) return;
      finished = true;
      hangUp.removeEventListener('abort', onClose);
      for (const stream of streams) stream.destroy();
      resolve(code);
    });
  });
}

/** SIGTERM to the whole group, SIGKILL to whatever is left after the grace period. */
function killGroup(pgid: number, logger: Logger): void {
  signalGroup(pgid, 'SIGTERM', logger);
  setTimeout(() => {
    // Checked first: once its last member is gone, the group id could be a new process's.
    void groupMembers(pgid).then(
      (members) => {
        if (members.length > 0) signalGroup(pgid, 'SIGKILL', logger);
      },
      () => undefined,
    );
  }, KILL_GRACE_MS).unref();
}

function signalGroup(pgid: number, signal: NodeJS.Signals, logger: Logger): void {
  try {
    signalPid(-pgid, signal);
  } catch (error) {
    // EPERM: a setuid command became a user we may not signal.
    logger.warn('could not signal an exec command', { pgid, signal, error: (error as Error).message });
  }
}
