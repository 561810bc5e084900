import t from 'tap';
import type { ContainerExit, RestartDecision, RestartPolicy, RestartTrackerOptions } from '../../src/runtime/restart-tracker.js';
import { formatGoDuration, RestartTracker, RestartTrackerError, terminatedState } from '../../src/runtime/restart-tracker.js';

/** A clock the test moves by hand, so a 5-minute back-off takes no time. */
function clock(start = Date.parse('2025-01-01T00:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const POD = { name: 'web-abc', namespace: 'default', uid: 'uid-1' };

function tracker(policy: RestartPolicy, time = clock(), extra: Partial<RestartTrackerOptions> = {}) {
  return { time, tracker: new RestartTracker({ policy, containerName: 'web', pod: POD, now: time.now, ...extra }) };
}

/** An exit after running `ranMs`, ending now. */
function exit(time: ReturnType<typeof clock>, fields: Partial<ContainerExit> = {}, ranMs = 1000): ContainerExit {
  return { exitCode: 1, startedAt: time.now() - ranMs, finishedAt: time.now(), ...fields };
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof RestartTrackerError) return error.code;
    throw error;
  }
  return undefined;
}

t.test('policy matrix: what each policy does after each kind of end', async (t) => {
  const cases: { name: string; end: (subject: RestartTracker, time: ReturnType<typeof clock>) => RestartDecision; reason: string }[] = [
    { name: 'exit 0', end: (subject, time) => subject.exited(exit(time, { exitCode: 0 })), reason: 'Completed' },
    { name: 'exit 1', end: (subject, time) => subject.exited(exit(time, { exitCode: 1 })), reason: 'Error' },
    { name: 'SIGKILL', end: (subject, time) => subject.exited(exit(time, { exitCode: undefined, signal: 'SIGKILL' })), reason: 'Error' },
    { name: 'OOM kill', end: (subject, time) => subject.exited(exit(time, { exitCode: undefined, signal: 'SIGKILL', reason: 'OOMKilled' })), reason: 'OOMKilled' },
    { name: 'start failure', end: (subject) => subject.startFailed('exec: "nope": executable file not found in $PATH'), reason: 'StartError' },
  ];
  const expected: Record<RestartPolicy, string[]> = {
    Always: ['restart', 'restart', 'restart', 'restart', 'restart'],
    OnFailure: ['terminal', 'restart', 'restart', 'restart', 'restart'],
    Never: ['terminal', 'terminal', 'terminal', 'terminal', 'terminal'],
  };
  for (const policy of ['Always', 'OnFailure', 'Never'] as const) {
    cases.forEach((testCase, index) => {
      const { time, tracker: subject } = tracker(policy);
      const decision = testCase.end(subject, time);
      t.same(decision, { action: expected[policy][index], reason: testCase.reason, restartCount: 0 }, `${policy} after ${testCase.name}`);
      t.equal(subject.phase, decision.action === 'terminal' ? 'terminal' : 'exited');
    });
  }
});

t.test('CrashLoopBackOff: the first restart is immediate, then 10 s doubling to 5 min, measured from the exit', async (t) => {
  const { time, tracker: subject } = tracker('Always');
  const waits: number[] = [];
  const messages: string[] = [];
  for (let crash = 0; crash < 9; crash += 1) {
    let decision = subject.exited(exit(time, {}, 50));
    if (decision.action === 'wait') {
      waits.push(decision.delayMs / 1000);
      messages.push(decision.message);
      t.equal(decision.restartCount, crash);
      time.advance(decision.delayMs - 1);
      t.match(subject.decide(), { action: 'wait', delayMs: 1 }, 'still waiting 1 ms before the end');
      time.advance(1);
      decision = subject.decide();
    }
    t.same(decision, { action: 'restart', reason: 'Error', restartCount: crash });
    subject.restarted();
    time.advance(50);
  }
  t.same(waits, [10, 20, 40, 80, 160, 300, 300, 300]);
  t.equal(messages[1], 'back-off 20s restarting failed container=web pod=web-abc_default(uid-1)');
  t.equal(messages[4], 'back-off 2m40s restarting failed container=web pod=web-abc_default(uid-1)');
  t.equal(messages[5], 'back-off 5m0s restarting failed container=web pod=web-abc_default(uid-1)');
  t.equal(subject.restartCount, 9);
});

t.test('the wait event and remaining delay, as the agent shows them', async (t) => {
  const { time, tracker: subject } = tracker('Always');
  subject.exited(exit(time));
  subject.restarted();
  time.advance(2000);
  const decision = subject.exited(exit(time, { exitCode: 0 }, 2000));
  t.same(decision, {
    action: 'wait',
    reason: 'CrashLoopBackOff',
    delayMs: 10_000,
    backoffMs: 10_000,
    message: 'back-off 10s restarting failed container=web pod=web-abc_default(uid-1)',
    event: { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container web in pod web-abc_default(uid-1)' },
    restartCount: 1,
  }, 'a container that exits 0 under Always crash-loops too, as in Kubernetes');
  time.advance(4000);
  t.match(subject.decide(), { action: 'wait', delayMs: 6000, backoffMs: 10_000 }, 'the delay counts down from the exit');
});

t.test('test-scaled timings', async (t) => {
  const { time, tracker: subject } = tracker('OnFailure', clock(), { initialBackoffMs: 10, maxBackoffMs: 300 });
  const waits: number[] = [];
  for (let crash = 0; crash < 8; crash += 1) {
    const decision = subject.exited(exit(time, {}, 1));
    if (decision.action === 'wait') {
      waits.push(decision.delayMs);
      time.advance(decision.delayMs);
    }
    subject.restarted();
    time.advance(1);
  }
  t.same(waits, [10, 20, 40, 80, 160, 300, 300]);
  t.equal(formatGoDuration(20), '20ms', 'messages name scaled back-offs in Go units');
});

t.test('the back-off resets after the container ran 10 minutes', async (t) => {
  const { time, tracker: subject } = tracker('Always');
  const crashLoop = (times: number) => {
    for (let crash = 0; crash < times; crash += 1) {
      const decision = subject.exited(exit(time, {}, 10));
      if (decision.action === 'wait') time.advance(decision.delayMs);
      subject.restarted();
    }
  };
  crashLoop(4);
  time.advance(599_999);
  t.match(subject.exited(exit(time, {}, 599_999)), { action: 'wait', backoffMs: 80_000 }, 'just under 10 minutes keeps the back-off');
  time.advance(80_000);
  subject.restarted();
  time.advance(600_000);
  t.same(subject.exited(exit(time, {}, 600_000)), { action: 'restart', reason: 'Error', restartCount: 5 }, 'after 10 minutes running the next restart is immediate');
  subject.restarted();
  time.advance(100);
  t.match(subject.exited(exit(time, {}, 100)), { action: 'wait', backoffMs: 10_000 }, 'and the back-off starts over at 10 s');

  const short = tracker('Always', clock(), { resetAfterMs: 1000 });
  short.tracker.exited(exit(short.time, {}, 10));
  short.tracker.restarted();
  short.time.advance(1000);
  t.match(short.tracker.exited(exit(short.time, {}, 1000)), { action: 'restart' }, 'the window is tunable');
});

t.test('OOMKilled keeps its reason and exit code 137', async (t) => {
  const { time, tracker: subject } = tracker('OnFailure');
  t.same(subject.exited(exit(time, { exitCode: 137, reason: 'OOMKilled' }, 3000)), { action: 'restart', reason: 'OOMKilled', restartCount: 0 });
  t.same(subject.lastTermination, { exitCode: 137, reason: 'OOMKilled', startedAt: time.now() - 3000, finishedAt: time.now() });
  t.same(terminatedState(subject.lastTermination!, 'pm8s://abc'), {
    exitCode: 137,
    reason: 'OOMKilled',
    startedAt: '2024-12-31T23:59:57Z',
    finishedAt: '2025-01-01T00:00:00Z',
    containerID: 'pm8s://abc',
  });
});

t.test('a signal becomes exit code 128 + signal number, and the signal is kept', async (t) => {
  const { time, tracker: subject } = tracker('Never');
  subject.exited(exit(time, { exitCode: undefined, signal: 'SIGTERM' }));
  t.match(subject.lastTermination, { exitCode: 143, signal: 15, reason: 'Error' });
  const other = tracker('Never');
  other.tracker.exited(exit(other.time, { exitCode: undefined, signal: 9 }));
  t.match(other.tracker.lastTermination, { exitCode: 137, signal: 9 });
});

t.test('StartError: exit code 128, the OS message, and a zero start time', async (t) => {
  const { tracker: subject } = tracker('Always');
  const decision = subject.startFailed('exec: "/app/server": permission denied');
  t.same(decision, { action: 'restart', reason: 'StartError', restartCount: 0 });
  t.same(terminatedState(subject.lastTermination!), {
    exitCode: 128,
    reason: 'StartError',
    message: 'exec: "/app/server": permission denied',
    startedAt: '1970-01-01T00:00:00Z',
    finishedAt: '2025-01-01T00:00:00Z',
  });
  subject.restarted();
  t.match(subject.startFailed('exec: "/app/server": permission denied'), { action: 'wait', reason: 'CrashLoopBackOff', restartCount: 1 }, 'start failures crash-loop like exits');
});

t.test('misuse is a coded error, never a silent restart', async (t) => {
  const { time, tracker: subject } = tracker('Always');
  t.equal(errorCode(() => subject.decide()), 'NotExited', 'nothing to decide while running');
  t.equal(errorCode(() => subject.restarted()), 'NotExited');
  subject.exited(exit(time));
  subject.restarted();
  subject.exited(exit(time));
  t.equal(errorCode(() => subject.restarted()), 'RestartNotAllowed', 'not while backing off');
  t.equal(errorCode(() => subject.exited(exit(time, { exitCode: 2 }, 5))), 'NotExited', 'a second, different exit without a restart');

  const never = tracker('Never');
  never.tracker.exited(exit(never.time));
  t.equal(errorCode(() => never.tracker.restarted()), 'RestartNotAllowed', 'not when the policy says never');
  t.throws(() => new RestartTracker({ policy: 'Always', containerName: 'web', pod: POD, initialBackoffMs: 10, maxBackoffMs: 5 }), RangeError);
});

t.test('the same exit reported twice (after an agent restart) is harmless', async (t) => {
  const { time, tracker: subject } = tracker('Always');
  const ended = exit(time);
  const first = subject.exited(ended);
  t.same(subject.exited(ended), first);
  subject.restarted();
  t.equal(subject.restartCount, 1);
});

t.test('JSON round trip: restart intent survives the agent', async (t) => {
  const time = clock();
  const options = { policy: 'Always' as const, containerName: 'web', pod: POD, now: time.now };
  const original = new RestartTracker(options);
  for (let crash = 0; crash < 3; crash += 1) {
    const decision = original.exited(exit(time, { exitCode: 2, message: 'boom' }));
    if (decision.action === 'wait') time.advance(decision.delayMs);
    original.restarted();
  }
  original.exited(exit(time, { exitCode: 2 }));
  time.advance(7000);
  const saved = JSON.parse(JSON.stringify(original)) as unknown;
  const restored = RestartTracker.fromJSON(saved, options);
  t.same(restored.toJSON(), original.toJSON());
  t.same(restored.decide(), original.decide());
  t.match(restored.decide(), { action: 'wait', delayMs: 33_000, backoffMs: 40_000, restartCount: 3 }, 'the remaining wait, computed from the recorded exit');
  time.advance(33_000);
  restored.restarted();
  t.equal(restored.restartCount, 4);
  t.match(restored.exited(exit(time)), { action: 'wait', backoffMs: 80_000 }, 'the back-off goes on growing');

  const running = RestartTracker.fromJSON(JSON.parse(JSON.stringify(new RestartTracker(options))), options);
  t.equal(running.phase, 'running');
});

t.test('fromJSON rejects junk with InvalidRestartState', async (t) => {
  const options = { policy: 'Always' as const, containerName: 'web', pod: POD };
  const good = { version: 1, phase: 'exited', restartCount: 2, backoffMs: 20_000, lastRestartAt: 5, lastTermination: { exitCode: 1, reason: 'Error', startedAt: 1, finishedAt: 2 } };
  t.equal(RestartTracker.fromJSON(good, options).restartCount, 2);
  const junk: unknown[] = [
    undefined,
    'state',
    { ...good, version: 2 },
    { ...good, phase: 'sleeping' },
    { ...good, restartCount: -1 },
    { ...good, restartCount: 1.5 },
    { ...good, backoffMs: 'soon' },
    { ...good, lastTermination: undefined },
    { ...good, lastTermination: { ...good.lastTermination, reason: 'Exploded' } },
    { ...good, lastTermination: { ...good.lastTermination, finishedAt: '2025' } },
  ];
  for (const value of junk) t.equal(errorCode(() => RestartTracker.fromJSON(value, options)), 'InvalidRestartState', JSON.stringify(value) ?? 'undefined');
});

t.test('formatGoDuration writes durations as Go does', async (t) => {
  t.same([0, 250, 1500, 10_000, 80_000, 300_000, 3_600_000, 3_723_500].map(formatGoDuration), ['0s', '250ms', '1.5s', '10s', '1m20s', '5m0s', '1h0m0s', '1h2m3.5s']);
});
