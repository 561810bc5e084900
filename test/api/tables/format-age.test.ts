import t from 'tap';
import { ageSince, formatAge, parseTimestamp } from '../../../src/api/tables/format-age.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

t.test('formatAge matches duration.HumanDuration', async (t) => {
  const cases: [number, string][] = [
    [0, '0s'],
    [999, '0s'],
    [1999, '1s'],
    [59 * s, '59s'],
    [119 * s, '119s'],
    [119 * s + 999, '119s'],
    [2 * m, '2m'],
    [3 * m + 20 * s, '3m20s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m, '10m'],
    [10 * m + 59 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 20 * m, '3h20m'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h, '8h'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [3 * d + 4 * h, '3d4h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d, '8d'],
    [8 * d + 5 * h, '8d'],
    [400 * d, '400d'],
    [729 * d, '729d'],
    [730 * d, '2y'],
    [760 * d, '2y30d'],
    [8 * 365 * d - 1, '7y364d'],
    [8 * 365 * d, '8y'],
    [10 * 365 * d + 100 * d, '10y'],
  ];
  for (const [ms, expected] of cases) t.equal(formatAge(ms), expected, `${ms}ms`);
});

t.test('small clock skew reads as now, larger as invalid', async (t) => {
  t.equal(formatAge(-1 * s), '0s');
  t.equal(formatAge(-1999), '0s');
  t.equal(formatAge(-2 * s), '<invalid>');
  t.equal(formatAge(-5 * m), '<invalid>');
});

t.test('ageSince measures from now and reports missing timestamps as <unknown>', async (t) => {
  const now = new Date('2024-05-01T12:00:00Z');
  t.equal(ageSince('2024-05-01T11:56:40Z', now), '3m20s');
  t.equal(ageSince(Date.parse('2024-04-28T08:00:00Z'), now), '3d4h');
  t.equal(ageSince(undefined, now), '<unknown>');
  t.equal(ageSince('', now), '<unknown>');
  t.equal(ageSince('not a date', now), '<unknown>');
  t.equal(ageSince(42, new Date(42)), '0s');
  t.equal(parseTimestamp('2024-05-01T12:00:00.123456Z'), Date.parse('2024-05-01T12:00:00.123Z'));
});
