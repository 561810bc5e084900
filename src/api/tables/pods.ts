/** Pod rows as printers.go's printPod builds them: READY, STATUS reasons, RESTARTS with "(5m ago)". */
import { isRecord, type KubeObject } from '../types.js';
import { ageSince, parseTimestamp } from './format-age.js';
import { at, creationOf, deleting, int, nameOf, rec, recs, str, type Fields } from './fields.js';
import { ageColumn, column, nameColumn, wideColumn, type KindPrinter } from './table.js';

/** The reason the node controller sets on pods of a node that stopped reporting. */
const NODE_LOST = 'NodeLost';

const stateOf = (status: Fields): { waiting?: Fields; running?: Fields; terminated?: Fields } => {
  const state = rec(status.state);
  const pick = (value: unknown): Fields | undefined => (isRecord(value) ? value : undefined);
  return { waiting: pick(state.waiting), running: pick(state.running), terminated: pick(state.terminated) };
};

/** When the previous run of this container ended, in ms; 0 when it never restarted. */
const lastFinishedAt = (status: Fields): number => parseTimestamp(at(status.lastState, 'terminated', 'finishedAt')) ?? 0;

const conditionTrue = (podStatus: Fields, type: string): boolean =>
  recs(podStatus.conditions).find((condition) => condition.type === type)?.status === 'True';

const exitReason = (terminated: Fields, prefix: string): string => {
  const signal = int(terminated.signal);
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${int(terminated.exitCode)}`;
};

interface PodSummary {
  ready: number;
  total: number;
  reason: string;
  restarts: number;
  lastRestart: number;
}

function summarize(pod: KubeObject): PodSummary {
  const spec = rec(pod.spec);
  const status = rec(pod.status);
  const initSpecs = recs(spec.initContainers);
  const restartable = new Set(initSpecs.filter((c) => c.restartPolicy === 'Always').map((c) => str(c.name)));
  const phase = str(status.phase);
  let reason = str(status.reason) || phase;
  if (recs(status.conditions).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }

  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let sidecarRestarts = 0;
  let sidecarLastRestart = 0;
  let initializing = false;
  const initStatuses = recs(status.initContainerStatuses);
  for (const [index, container] of initStatuses.entries()) {
    const finishedAt = lastFinishedAt(container);
    restarts += int(container.restartCount);
    lastRestart = Math.max(lastRestart, finishedAt);
    const sidecar = restartable.has(str(container.name));
    if (sidecar) {
      sidecarRestarts += int(container.restartCount);
      sidecarLastRestart = Math.max(sidecarLastRestart, finishedAt);
    }
    const { waiting, terminated } = stateOf(container);
    if (terminated && int(terminated.exitCode) === 0) continue;
    if (sidecar && container.started === true) {
      if (container.ready === true) ready++;
      continue;
    }
    initializing = true;
    if (terminated) {
      reason = str(terminated.reason) ? `Init:${str(terminated.reason)}` : exitReason(terminated, 'Init:');
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${index}/${initSpecs.length}`;
    }
    break;
  }

  if (!initializing || conditionTrue(status, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = sidecarLastRestart;
    let hasRunning = false;
    const statuses = recs(status.containerStatuses);
    // Backwards, so the first container with a reason decides the STATUS column.
    for (let index = statuses.length - 1; index >= 0; index--) {
      const container = statuses[index] ?? {};
      restarts += int(container.restartCount);
      lastRestart = Math.max(lastRestart, lastFinishedAt(container));
      const { waiting, running, terminated } = stateOf(container);
      if (waiting && str(waiting.reason)) reason = str(waiting.reason);
      else if (terminated && str(terminated.reason)) reason = str(terminated.reason);
      else if (terminated) reason = exitReason(terminated, '');
      else if (container.ready === true && running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  if (deleting(pod) && status.reason === NODE_LOST) reason = 'Unknown';
  else if (deleting(pod) && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const total = recs(spec.containers).length + initSpecs.filter((c) => c.restartPolicy === 'Always').length;
  return { ready, total, reason, restarts, lastRestart };
}

function readinessGates(pod: KubeObject): string {
  const gates = recs(at(pod.spec, 'readinessGates'));
  if (gates.length === 0) return '<none>';
  const conditions = recs(at(pod.status, 'conditions'));
  const passed = gates.filter((gate) => conditions.find((c) => c.type === gate.conditionType)?.status === 'True');
  return `${passed.length}/${gates.length}`;
}

export const podPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Ready'),
    column('Status'),
    // Kubernetes made this a string column when it added "3 (5m ago)".
    column('Restarts'),
    ageColumn,
    wideColumn('IP'),
    wideColumn('Node'),
    wideColumn('Nominated Node'),
    wideColumn('Readiness Gates'),
  ],
  cells(pod, now) {
    const { ready, total, reason, restarts, lastRestart } = summarize(pod);
    const restartsCell =
      restarts !== 0 && lastRestart !== 0 ? `${restarts} (${ageSince(lastRestart, now)} ago)` : String(restarts);
    const status = rec(pod.status);
    const podIP = str(recs(status.podIPs)[0]?.ip) || str(status.podIP);
    return [
      nameOf(pod),
      `${ready}/${total}`,
      reason,
      restartsCell,
      ageSince(creationOf(pod), now),
      podIP || '<none>',
      str(at(pod.spec, 'nodeName')) || '<none>',
      str(status.nominatedNodeName) || '<none>',
      readinessGates(pod),
    ];
  },
};
