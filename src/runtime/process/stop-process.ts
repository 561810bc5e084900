/**
 * Stopping a container ("shutdown is not kill"): the preStop hook, SIGTERM to every process of the
 * container (its process group and its cgroup), the grace period, then SIGKILL to whatever is left.
 * The wrapper is spared until its child is gone so it can still record the exit status; once the
 * child has ended, anything it left behind is killed at once, as the kernel does to a container's
 * pid namespace when its first process exits.
 */
import type { CgroupDriver } from '../cgroups/cgroup-driver.js';
import { runExecProbe } from '../probes/exec-probe.js';
import type { ProbeResult } from '../probes/probe-result.js';
import { readExitResult, type ExitResult } from './exit-result.js';
import { sleep } from '../../lib/backoff.js';
import { DEFAULT_PATH } from './find-executable.js';
import type { ProcessHandle } from './process-handle.js';
import { groupMembers, readProcStat, signalPid } from './proc-stat.js';

export interface StopProcessOptions {
  gracePeriodMs: number;
  cgroup?: { driver: CgroupDriver; handle: string };
  /** The preStop exec hook's argv; it runs first and its time counts against the grace period. */
  preStop?: string[];
  /** The container's context for the hook (env, cwd, user). */
  hookContext?: { env: Record<string, string>; cwd?: string; uid?: number; gid?: number };
  /** How long the wrapper gets to record the status after its child was killed; default 2 s. */
  wrapperGraceMs?: number;
  /** Poll interval; default 50 ms. */
  intervalMs?: number;
  /**
   * Read at each poll: the grace period as it stands now, when it may be shortened while the stop
   * runs (a repeated delete with a shorter grace period, as Kubernetes allows). Never lengthens it.
   */
  currentGraceMs?: () => number;
}

export interface StopResult extends ExitResult {
  /** The preStop hook's outcome, when there was one (a failure is a `FailedPreStopHook` event). */
  preStop?: ProbeResult;
  /** True when the grace period ran out and SIGKILL was needed. */
  killed: boolean;
}

export async function stopProcess(handle: ProcessHandle, options: StopProcessOptions): Promise<StopResult> {
  const started = Date.now();
  const intervalMs = options.intervalMs ?? 50;
  const deadline = () => started + Math.min(options.gracePeriodMs, options.currentGraceMs?.() ?? Infinity);
  let preStop: ProbeResult | undefined;
  if (options.preStop !== undefined && options.preStop.length > 0 && (await handle.alive())) {
    const context = options.hookContext ?? { env: { PATH: process.env.PATH ?? DEFAULT_PATH } };
    const abort = new AbortController();
    // A grace period shortened while the hook runs cuts the hook short too.
    const watch = options.currentGraceMs === undefined ? undefined : setInterval(() => Date.now() >= deadline() && abort.abort(), intervalMs);
    try {
      preStop = await runExecProbe(options.preStop, { ...context, timeoutMs: Math.max(options.gracePeriodMs, 1), signal: abort.signal });
    } finally {
      clearInterval(watch);
    }
  }
  let killed = false;
  if (await handle.alive()) {
    await signalContainer(handle, 'SIGTERM', options);
    while ((await handle.alive()) && Date.now() < deadline()) await sleep(Math.min(intervalMs, Math.max(deadline() - Date.now(), 1)));
    if (await handle.alive()) {
      killed = true;
      await signalContainer(handle, 'SIGKILL', options);
      const wrapperDeadline = Date.now() + (options.wrapperGraceMs ?? 2_000);
      while ((await handle.alive()) && Date.now() < wrapperDeadline) await sleep(intervalMs);
      // A wrapper that could not finish (it should never take this long) goes too; its status is then unknown.
      if (await handle.alive()) signalPid(handle.pid, 'SIGKILL');
    }
  }
  // Stragglers: grandchildren that outlived the command, in the group or the cgroup.
  await killLeftovers(handle, options);
  const oomKilled = options.cgroup === undefined ? undefined : async () => (await options.cgroup!.driver.oomKills(options.cgroup!.handle)) > 0;
  const result = await readExitResult(handle.statusFile, oomKilled);
  const final: ExitResult = killed && result.reason === 'ContainerStatusUnknown' ? { exitCode: 137, signal: 'SIGKILL', reason: 'Error' } : result;
  return { ...final, killed, ...(preStop === undefined ? {} : { preStop }) };
}

/**
 * Signals every process of the container but the wrapper. With a cgroup, it holds them all (a setsid
 * grandchild too) and the driver signals them: once for SIGTERM, chasing forks for SIGKILL. Without
 * one, the wrapper's process group (a /proc scan, costly with many processes): SIGTERM once, SIGKILL
 * again for processes forked meanwhile until no new one appears (bounded). The wrapper's identity is
 * checked first: a reused pid never leads us to signal someone else's group.
 */
async function signalContainer(handle: ProcessHandle, signal: NodeJS.Signals, options: StopProcessOptions): Promise<void> {
  if (!(await handle.alive())) return;
  if (options.cgroup !== undefined) {
    await options.cgroup.driver.signalAll(options.cgroup.handle, signal);
    return;
  }
  const signalled = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const fresh = (await groupMembers(handle.pid)).filter((pid) => pid !== handle.pid && !signalled.has(pid));
    for (const pid of fresh) {
      signalPid(pid, signal);
      signalled.add(pid);
    }
    if (fresh.length === 0 || signal !== 'SIGKILL') return;
  }
}

/** After the wrapper is gone: SIGKILL whatever remains in its group or cgroup, until both are empty (bounded). */
async function killLeftovers(handle: ProcessHandle, options: StopProcessOptions): Promise<void> {
  // A pid the kernel already gave to someone else names their group, not ours.
  const current = await readProcStat(handle.pid);
  const groupIsOurs = current === undefined || current.startTime === handle.startTime;
  for (let round = 0; round < 50; round++) {
    // The group id stays allocated while any member lives, so its members cannot be strangers.
    const members = !groupIsOurs || options.cgroup !== undefined ? [] : (await groupMembers(handle.pid)).filter((pid) => pid !== handle.pid);
    for (const pid of members) signalPid(pid, 'SIGKILL');
    const inCgroup = options.cgroup === undefined ? 0 : await options.cgroup.driver.signalAll(options.cgroup.handle, 'SIGKILL');
    if (members.length === 0 && inCgroup === 0) return;
    await sleep(20);
  }
}
