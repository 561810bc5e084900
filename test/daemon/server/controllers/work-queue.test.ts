import t from 'tap';
import { WorkQueue } from '../../../../src/daemon/server/controllers/work-queue.js';

t.test('repeated adds collapse; a key is never handed out twice at once', async (t) => {
  const queue = new WorkQueue();
  queue.add('a');
  queue.add('a');
  queue.add('b');
  t.equal(queue.length, 2);
  const first = await queue.get();
  t.equal(first, 'a');
  queue.add('a');
  t.equal(queue.length, 1, 'a re-added while processing waits for done');
  t.equal(await queue.get(), 'b');
  queue.done('b');
  t.equal(queue.length, 0, 'a is not queued while a worker holds it');
  queue.done('a');
  t.equal(queue.length, 1, 'done re-queues the key added meanwhile');
  t.equal(await queue.get(), 'a');
  queue.done('a');
  queue.shutDown();
  t.equal(await queue.get(), undefined);
});

t.test('a waiting worker gets the next key; shutDown releases waiters', async (t) => {
  const queue = new WorkQueue();
  const waiting = queue.get();
  queue.add('x');
  t.equal(await waiting, 'x');
  const idle = queue.get();
  queue.shutDown();
  t.equal(await idle, undefined);
  queue.add('y');
  t.equal(queue.length, 0, 'nothing is queued after shutdown');
});

t.test('failures back off exponentially per key up to the cap; forget resets', async (t) => {
  const queue = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 80, retriesPerSecond: 1000, retryBurst: 1000 });
  const waitFor = async (): Promise<number> => {
    const started = Date.now();
    queue.addRateLimited('k');
    t.equal(await queue.get(), 'k');
    queue.done('k');
    return Date.now() - started;
  };
  for (const expected of [20, 40, 80, 80]) {
    const waited = await waitFor();
    t.ok(waited >= expected - 2 && waited < expected + 60, `waited ${waited} ms, expected about ${expected}`);
  }
  t.equal(queue.failures('k'), 4);
  queue.forget('k');
  t.equal(queue.failures('k'), 0);
  const afterForget = await waitFor();
  t.ok(afterForget < 60, `back to the base delay (${afterForget} ms)`);
  queue.shutDown();
});

t.test('addAfter delivers later, and the earliest pending delay wins', async (t) => {
  const queue = new WorkQueue();
  const started = Date.now();
  queue.addAfter('late', 500);
  queue.addAfter('late', 30);
  queue.addAfter('late', 400);
  t.equal(await queue.get(), 'late');
  const waited = Date.now() - started;
  t.ok(waited >= 25 && waited < 400, `delivered after ${waited} ms`);
  queue.done('late');
  queue.shutDown();
});

t.test('the global retry budget delays a storm of failures', async (t) => {
  const queue = new WorkQueue({ baseDelayMs: 1, retriesPerSecond: 20, retryBurst: 2 });
  const started = Date.now();
  for (const key of ['a', 'b', 'c', 'd']) queue.addRateLimited(key);
  const got: string[] = [];
  for (let index = 0; index < 4; index++) {
    const key = (await queue.get())!;
    got.push(key);
    queue.done(key);
  }
  t.same([...got].sort(), ['a', 'b', 'c', 'd']);
  t.ok(Date.now() - started >= 80, 'two over the burst wait for tokens at 20/s');
  queue.shutDown();
});
