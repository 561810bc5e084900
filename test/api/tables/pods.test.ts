import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { printTable, toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const pods = resolveResource('pods')!;
const cellsOf = (pod: KubeObject): unknown[] => toTable(pods, [pod], { now }).rows[0]!.cells;

const pod = (name: string, spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', creationTimestamp: ago(3 * 3600 + 20 * 60), labels: { app: 'web' }, ...meta },
  spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'node:20' }], ...spec },
  status,
});

const running = pod('web-1', {}, {
  phase: 'Running',
  podIP: '10.0.0.5',
  podIPs: [{ ip: '10.0.0.5' }],
  conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
  containerStatuses: [
    {
      name: 'web',
      ready: true,
      restartCount: 2,
      state: { running: { startedAt: ago(300) } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(301) } },
    },
  ],
});

const crashLooping = pod('web-2', {}, {
  phase: 'Running',
  containerStatuses: [
    {
      name: 'web',
      ready: false,
      restartCount: 7,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(30) } },
    },
  ],
});

const terminating = pod(
  'web-3',
  {},
  { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: {} } }] },
  { deletionTimestamp: ago(10) },
);

t.test('a running pod: ready 1/1, restarts with the last restart age', async (t) => {
  t.same(cellsOf(running), ['web-1', '1/1', 'Running', '2 (5m1s ago)', '3h20m', '10.0.0.5', 'node-1', '<none>', '<none>']);
});

t.test('a crash-looping pod shows the waiting reason', async (t) => {
  t.same(cellsOf(crashLooping).slice(0, 5), ['web-2', '0/1', 'CrashLoopBackOff', '7 (30s ago)', '3h20m']);
  t.equal(cellsOf(crashLooping)[5], '<none>', 'no IP yet');
});

t.test('a pod being deleted is Terminating unless it already finished', async (t) => {
  t.same(cellsOf(terminating).slice(0, 4), ['web-3', '1/1', 'Terminating', '0']);
  const finished = pod('job-1', {}, { phase: 'Succeeded' }, { deletionTimestamp: ago(10) });
  t.equal(cellsOf(finished)[2], 'Succeeded');
  const lost = pod('web-4', {}, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(10) });
  t.equal(cellsOf(lost)[2], 'Unknown');
});

t.test('terminated containers report their reason, exit code or signal', async (t) => {
  const status = (terminated: Record<string, unknown>): Record<string, unknown> => ({
    phase: 'Running',
    containerStatuses: [{ name: 'web', restartCount: 0, state: { terminated } }],
  });
  t.equal(cellsOf(pod('a', {}, status({ exitCode: 0, reason: 'Completed' })))[2], 'Completed');
  t.equal(cellsOf(pod('b', {}, status({ exitCode: 137 })))[2], 'ExitCode:137');
  t.equal(cellsOf(pod('c', {}, status({ exitCode: 0, signal: 9 })))[2], 'Signal:9');
});

t.test('Completed with a container still running reads Running or NotReady', async (t) => {
  const spec = { containers: [{ name: 'a' }, { name: 'b' }] };
  const statuses = [
    { name: 'a', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    { name: 'b', ready: true, state: { running: {} } },
  ];
  const ready = pod('p', spec, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: statuses });
  t.same(cellsOf(ready).slice(1, 3), ['1/2', 'Running']);
  const notReady = pod('p', spec, { phase: 'Running', containerStatuses: statuses });
  t.same(cellsOf(notReady).slice(1, 3), ['1/2', 'NotReady']);
});

t.test('init containers: progress, failures and sidecars', async (t) => {
  const initSpec = { initContainers: [{ name: 'migrate' }] };
  const pending = pod('i1', initSpec, {
    phase: 'Pending',
    initContainerStatuses: [{ name: 'migrate', restartCount: 0, state: { running: {} } }],
    containerStatuses: [{ name: 'web', ready: false, state: { waiting: { reason: 'PodInitializing' } } }],
  });
  t.same(cellsOf(pending).slice(1, 4), ['0/1', 'Init:0/1', '0']);

  const failing = pod('i2', initSpec, {
    phase: 'Pending',
    initContainerStatuses: [
      {
        name: 'migrate',
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } },
      },
    ],
  });
  t.same(cellsOf(failing).slice(1, 4), ['0/1', 'Init:CrashLoopBackOff', '3 (90s ago)']);

  const exited = pod('i3', initSpec, {
    phase: 'Pending',
    initContainerStatuses: [{ name: 'migrate', state: { terminated: { exitCode: 2 } } }],
  });
  t.equal(cellsOf(exited)[2], 'Init:ExitCode:2');

  const sidecar = pod('i4', { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] }, {
    phase: 'Running',
    conditions: [{ type: 'Initialized', status: 'True' }],
    initContainerStatuses: [{ name: 'proxy', started: true, ready: true, restartCount: 1, state: { running: {} } }],
    containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: {} } }],
  });
  t.same(cellsOf(sidecar).slice(1, 4), ['2/2', 'Running', '1'], 'sidecars count as containers; no time without lastState');
});

t.test('readiness gates, nominated node and scheduling gates', async (t) => {
  const gated = pod('g', { nodeName: undefined, readinessGates: [{ conditionType: 'lb/ready' }, { conditionType: 'dns/ready' }] }, {
    phase: 'Pending',
    nominatedNodeName: 'node-2',
    conditions: [
      { type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' },
      { type: 'lb/ready', status: 'True' },
      { type: 'dns/ready', status: 'False' },
    ],
  });
  t.same(cellsOf(gated).slice(2), ['SchedulingGated', '0', '3h20m', '<none>', '<none>', 'node-2', '1/2']);
});

t.test('an empty pod never throws', async (t) => {
  const bare: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: {} };
  t.same(cellsOf(bare), ['', '0/0', '', '0', '<unknown>', '<none>', '<none>', '<none>', '<none>']);
  const junk = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: 'x', status: { containerStatuses: [null, 3] } } as KubeObject;
  t.same(cellsOf(junk).slice(0, 4), ['', '0/0', '', '0']);
});

t.test('kubectl get pods, plain and wide', async (t) => {
  const table = toTable(pods, [running, crashLooping, terminating], { now, resourceVersion: '42' });
  t.equal(
    printTable(table, {}),
    [
      'NAME    READY   STATUS             RESTARTS       AGE',
      'web-1   1/1     Running            2 (5m1s ago)   3h20m',
      'web-2   0/1     CrashLoopBackOff   7 (30s ago)    3h20m',
      'web-3   1/1     Terminating        0              3h20m',
      '',
    ].join('\n'),
  );
  t.equal(
    printTable(table, { wide: true }),
    [
      'NAME    READY   STATUS             RESTARTS       AGE     IP         NODE     NOMINATED NODE   READINESS GATES',
      'web-1   1/1     Running            2 (5m1s ago)   3h20m   10.0.0.5   node-1   <none>           <none>',
      'web-2   0/1     CrashLoopBackOff   7 (30s ago)    3h20m   <none>     node-1   <none>           <none>',
      'web-3   1/1     Terminating        0              3h20m   <none>     node-1   <none>           <none>',
      '',
    ].join('\n'),
  );
});
