import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { printTable, toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const events = resolveResource('events')!;
const cellsOf = (event: KubeObject): unknown[] => toTable(events, [event], { now }).rows[0]!.cells;

const backOff: KubeObject = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1.17c8a', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
  reason: 'BackOff',
  message: 'Back-off restarting failed container web in pod web-1\n',
  source: { component: 'pm8s-agent', host: 'node-1' },
  firstTimestamp: ago(600),
  lastTimestamp: ago(20),
  count: 12,
  type: 'Warning',
};

const scheduled: KubeObject = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1.17c80', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web-1' },
  reason: 'Scheduled',
  message: 'Successfully assigned default/web-1 to node-1',
  reportingComponent: 'pm8s-scheduler',
  eventTime: '2024-05-01T11:50:00.000000Z',
  type: 'Normal',
};

t.test('event cells: last seen, type, reason, object, message and the wide ones', async (t) => {
  t.same(cellsOf(backOff), [
    '20s', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'pm8s-agent, node-1',
    'Back-off restarting failed container web in pod web-1', '10m', 12, 'web-1.17c8a',
  ]);
  t.same(cellsOf(scheduled), ['10m', 'Normal', 'Scheduled', 'pod/web-1', '', 'pm8s-scheduler', 'Successfully assigned default/web-1 to node-1', '10m', 1, 'web-1.17c80']);
});

t.test('series events take their count and last time from the series', async (t) => {
  const series = { ...scheduled, series: { count: 4, lastObservedTime: '2024-05-01T11:59:00.000000Z' } };
  const cells = cellsOf(series);
  t.equal(cells[0], '60s');
  t.equal(cells[8], 4);
  const nameless = { ...scheduled, involvedObject: { kind: 'Node' }, eventTime: undefined };
  t.same(cellsOf(nameless).slice(0, 4), ['<unknown>', 'Normal', 'Scheduled', 'node']);
});

t.test('kubectl get events', async (t) => {
  const table = toTable(events, [scheduled, backOff], { now });
  t.same(
    table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name),
    ['Last Seen', 'Type', 'Reason', 'Object', 'Message'],
  );
  t.equal(
    printTable(table, {}),
    [
      'LAST SEEN   TYPE      REASON      OBJECT      MESSAGE',
      '10m         Normal    Scheduled   pod/web-1   Successfully assigned default/web-1 to node-1',
      '20s         Warning   BackOff     pod/web-1   Back-off restarting failed container web in pod web-1',
      '',
    ].join('\n'),
  );
});
