/** Events, with the columns of `kubectl get events`. */
import { isRecord, type KubeObject } from '../types.js';
import { ageSince, parseTimestamp } from './format-age.js';
import { at, int, nameOf, rec, str } from './fields.js';
import { column, wideColumn, type KindPrinter, type TableColumn } from './table.js';

/** Source component (or reporting controller) and host (or reporting instance), ", "-joined. */
function eventSource(event: KubeObject): string {
  const source = rec(event.source);
  const component = str(source.component) || str(event.reportingComponent);
  const instance = str(source.host) || str(event.reportingInstance);
  return instance === '' ? component : `${component}, ${instance}`;
}

/** "pod/web-1", or just the kind when the involved object has no name. */
function involvedObject(event: KubeObject): string {
  const involved = rec(event.involvedObject);
  const kind = str(involved.kind).toLowerCase();
  return str(involved.name) === '' ? kind : `${kind}/${str(involved.name)}`;
}

const nameColumnWide: TableColumn = { ...wideColumn('Name'), format: 'name' };

export const eventPrinter: KindPrinter = {
  columns: [
    column('Last Seen'),
    column('Type'),
    column('Reason'),
    column('Object'),
    wideColumn('Subobject'),
    wideColumn('Source'),
    column('Message'),
    wideColumn('First Seen'),
    wideColumn('Count'),
    nameColumnWide,
  ],
  cells(event, now) {
    // events.k8s.io-style events carry eventTime and series instead of the legacy timestamps and count.
    const firstSeen =
      parseTimestamp(event.firstTimestamp) === undefined ? ageSince(event.eventTime, now) : ageSince(event.firstTimestamp, now);
    let lastSeen = parseTimestamp(event.lastTimestamp) === undefined ? firstSeen : ageSince(event.lastTimestamp, now);
    let count = int(event.count);
    const series = event.series;
    if (isRecord(series)) {
      lastSeen = ageSince(at(series, 'lastObservedTime'), now);
      count = int(at(series, 'count'));
    } else if (count === 0) {
      count = 1;
    }
    return [
      lastSeen,
      str(event.type),
      str(event.reason),
      involvedObject(event),
      str(at(event.involvedObject, 'fieldPath')),
      eventSource(event),
      str(event.message).trim(),
      firstSeen,
      count,
      nameOf(event),
    ];
  },
};
