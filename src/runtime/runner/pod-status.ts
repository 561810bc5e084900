/**
 * A pod's phase and conditions computed from its container statuses as the kubelet does
 * (kubelet_pods.go getPhase, pkg/kubelet/status/generate.go), so `kubectl get pods` and tools
 * that read conditions see what they would on a real cluster.
 */
import type { Condition } from '../../api/kinds/common.js';
import type { RestartPolicy } from '../restart-tracker.js';
import type { ContainerStatus } from './container-status.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** Whether an init container has run to completion (exit 0) at least once. */
export function initDone(status: ContainerStatus): boolean {
  return status.state.terminated?.exitCode === 0;
}

/** An init container that failed and will not be retried (pod restartPolicy Never). */
function initFailed(status: ContainerStatus, policy: RestartPolicy): boolean {
  const exit = status.state.terminated?.exitCode;
  return policy === 'Never' && exit !== undefined && exit !== 0;
}

/** kubelet getPhase. */
export function podPhase(init: ContainerStatus[], app: ContainerStatus[], policy: RestartPolicy): PodPhase {
  if (init.some((status) => initFailed(status, policy))) return 'Failed';
  if (!init.every(initDone)) return 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of app) {
    if (status.state.running !== undefined) running++;
    else if (status.state.terminated !== undefined) {
      stopped++;
      if (status.state.terminated.exitCode === 0) succeeded++;
    } else if (status.lastState.terminated !== undefined) stopped++; // waiting to restart
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running'; // every container is restarting
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running'; // OnFailure: the failed ones restart
  }
  return 'Pending';
}

/** The four conditions, in the kubelet's order; `previous` keeps lastTransitionTime while a status holds. */
export function podConditions(init: ContainerStatus[], app: ContainerStatus[], phase: PodPhase, previous: Condition[], now: string): Condition[] {
  const unready = app.filter((status) => !status.ready).map((status) => status.name);
  const incomplete = init.filter((status) => !initDone(status)).map((status) => status.name);
  const list = (names: string[]) => `[${names.join(' ')}]`;
  const completed = phase === 'Succeeded';
  const initialized: Omit<Condition, 'lastTransitionTime'> = incomplete.length === 0 || completed
    ? { type: 'Initialized', status: 'True' }
    : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${list(incomplete)}` };
  const ready = (type: 'Ready' | 'ContainersReady'): Omit<Condition, 'lastTransitionTime'> => {
    if (completed) return { type, status: 'False', reason: 'PodCompleted' };
    if (incomplete.length > 0 && type === 'Ready') return { type, status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${list(incomplete)}` };
    if (unready.length === 0) return { type, status: 'True' };
    return { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: ${list(unready)}` };
  };
  const next = [initialized, ready('Ready'), ready('ContainersReady'), { type: 'PodScheduled', status: 'True' }];
  return next.map((condition) => {
    const before = previous.find((old) => old.type === condition.type);
    const lastTransitionTime = before !== undefined && before.status === condition.status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : now;
    return { ...condition, lastTransitionTime };
  });
}
