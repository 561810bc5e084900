import t from 'tap';
import type { StoreEvent } from '../../../../src/daemon/server/store/engine.js';
import { WatchHub } from '../../../../src/daemon/server/store/watch-hub.js';

const event = (revision: number, key = '/k/a'): StoreEvent => ({ type: 'update', key, revision, value: `v${revision}` });
const revisions = (events: StoreEvent[]): number[] => events.map((delivered) => delivered.revision);

/** A history read the test finishes by hand, so events can be published while it is in flight. */
function slowHistory(events: StoreEvent[]) {
  let finish: () => void = () => undefined;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const history = async (prefix: string, afterRevision: number): Promise<StoreEvent[]> => {
    markStarted();
    await new Promise<void>((resolve) => (finish = resolve));
    return events.filter((candidate) => candidate.revision > afterRevision && candidate.key.startsWith(prefix));
  };
  return { history, started, finish: () => finish() };
}

t.test('events published during the replay follow it, without duplicates', async (t) => {
  const hub = new WatchHub();
  const slow = slowHistory([event(1), event(2), event(3)]);
  const seen: StoreEvent[] = [];
  const watching = hub.watch('/k/', 1, slow.history, (delivered) => void seen.push(delivered));
  await slow.started;
  hub.publish(event(3));
  hub.publish(event(4));
  hub.publish(event(5, '/other/x'));
  hub.publish(event(6));
  t.same(seen, [], 'nothing is delivered before the replay');
  slow.finish();
  const watcher = await watching;
  t.same(revisions(seen), [2, 3, 4, 6], 'replay after revision 1, then what arrived meanwhile, each once');
  hub.publish(event(7));
  t.same(revisions(seen), [2, 3, 4, 6, 7], 'then live events');
  watcher.close();
  hub.publish(event(8));
  t.same(revisions(seen), [2, 3, 4, 6, 7], 'nothing after close');
  t.equal(hub.size, 0);
});

t.test('a listener that publishes while queued events drain keeps the order', async (t) => {
  const hub = new WatchHub();
  const slow = slowHistory([event(1)]);
  const seen: StoreEvent[] = [];
  const watching = hub.watch('/k/', 0, slow.history, (delivered) => {
    seen.push(delivered);
    if (delivered.revision === 2) hub.publish(event(4));
  });
  await slow.started;
  hub.publish(event(2));
  hub.publish(event(3));
  slow.finish();
  (await watching).close();
  t.same(revisions(seen), [1, 2, 3, 4], 'revision 3 is not skipped by the write made while draining');
});

t.test('a publish from inside a listener reaches every watcher in revision order', async (t) => {
  const hub = new WatchHub();
  const empty = async (): Promise<StoreEvent[]> => [];
  const first = await hub.watch('/k/', 0, empty, (delivered) => {
    if (delivered.revision === 1) hub.publish(event(2));
  });
  const seen: StoreEvent[] = [];
  const second = await hub.watch('/k/', 0, empty, (delivered) => void seen.push(delivered));
  hub.publish(event(1));
  t.same(revisions(seen), [1, 2]);
  first.close();
  second.close();
});

t.test('a failing history read rejects the watch and leaves no subscription', async (t) => {
  const hub = new WatchHub();
  const failure = new Error('history failed');
  await t.rejects(
    hub.watch('/k/', 0, async () => Promise.reject(failure), () => undefined),
    failure,
  );
  t.equal(hub.size, 0);
});

t.test('a listener that throws during the replay or the drain rejects the watch and is removed', async (t) => {
  const hub = new WatchHub();
  const failure = new Error('listener failed');
  await t.rejects(
    hub.watch('/k/', 0, async () => [event(1)], () => {
      throw failure;
    }),
    failure,
    'during the replay',
  );
  t.equal(hub.size, 0);
  const slow = slowHistory([]);
  const watching = hub.watch('/k/', 0, slow.history, () => {
    throw failure;
  });
  await slow.started;
  hub.publish(event(1));
  slow.finish();
  await t.rejects(watching, failure, 'during the drain');
  t.equal(hub.size, 0, 'the subscription is gone, so it cannot leak');
});

t.test('a listener that throws on a live event is dropped and reported; others keep receiving', async (t) => {
  const reported: unknown[] = [];
  const hub = new WatchHub((error) => void reported.push(error));
  const failure = new Error('listener failed');
  const empty = async (): Promise<StoreEvent[]> => [];
  let calls = 0;
  await hub.watch('/k/', 0, empty, () => {
    calls++;
    throw failure;
  });
  const seen: StoreEvent[] = [];
  await hub.watch('/k/', 0, empty, (delivered) => void seen.push(delivered));
  t.doesNotThrow(() => hub.publish(event(1)), 'publish does not throw');
  hub.publish(event(2));
  t.equal(calls, 1, 'the failing listener is called once, then dropped');
  t.same(reported, [failure], 'the failure is reported');
  t.same(revisions(seen), [1, 2]);
  t.equal(hub.size, 1);
  hub.closeAll();
  t.equal(hub.size, 0);
});
