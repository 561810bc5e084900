import t from 'tap';
import { createBackoff, sleep } from '../../src/lib/backoff.js';

t.test('doubles from initialMs up to maxMs, and reset starts over', async (t) => {
  const backoff = createBackoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  t.same(
    Array.from({ length: 6 }, () => backoff.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  backoff.reset();
  t.equal(backoff.next(), 100);
});

t.test('a custom factor', async (t) => {
  const backoff = createBackoff({ initialMs: 10, maxMs: 1000, factor: 3, jitter: 0 });
  t.same([backoff.next(), backoff.next(), backoff.next()], [10, 30, 90]);
});

t.test('jitter adds up to its fraction, never subtracts', async (t) => {
  const highest = createBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
  t.same([highest.next(), highest.next()], [150, 300]);
  const lowest = createBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
  t.same([lowest.next(), lowest.next()], [100, 200]);

  const real = createBackoff({ initialMs: 1000, maxMs: 1000 });
  const delays = Array.from({ length: 200 }, () => real.next());
  t.ok(delays.every((delay) => delay >= 1000 && delay <= 1100), 'the default jitter is 10 %');
  t.ok(new Set(delays).size > 1, 'delays differ, so clients spread out');
});

t.test('rejects nonsense options', async (t) => {
  t.throws(() => createBackoff({ initialMs: -1, maxMs: 10 }), RangeError);
  t.throws(() => createBackoff({ initialMs: 100, maxMs: 10 }), RangeError);
  t.throws(() => createBackoff({ initialMs: 1, maxMs: 10, factor: 0.5 }), RangeError);
  t.throws(() => createBackoff({ initialMs: 1, maxMs: 10, jitter: -0.1 }), RangeError);
  t.throws(() => createBackoff({ initialMs: Number.NaN, maxMs: 10 }), RangeError);
});

t.test('sleep waits, and an abort ends it early without a timer left behind', async (t) => {
  const started = Date.now();
  await sleep(30);
  t.ok(Date.now() - started >= 25, 'waited about the time asked');

  const controller = new AbortController();
  const timersBefore = process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
  const pending = sleep(60_000, controller.signal);
  t.equal(process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length, timersBefore + 1, 'the sleep holds a timer');
  const abortedAt = Date.now();
  controller.abort();
  await pending;
  t.ok(Date.now() - abortedAt < 1000, 'resolved at the abort');
  t.equal(process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length, timersBefore, 'its timer is gone');

  const early = Date.now();
  await sleep(60_000, AbortSignal.abort());
  t.ok(Date.now() - early < 1000, 'an already aborted signal does not wait');
});
