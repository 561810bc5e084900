import t from 'tap';
import type { Test } from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { InProcessClient } from '../../../src/client/in-process-client.js';
import { StatusReporter } from '../../../src/daemon/agent/status-reporter.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { startAgentTestServer } from '../../helpers/agent-cluster.js';
import { scratchDir } from '../../helpers/runner.js';

const pods = resolveResource('pods')!;

async function setUp(t: Test) {
  const server = await startAgentTestServer(scratchDir(t), 4000);
  t.teardown(() => server.stop());
  const client = new InProcessClient(server.api);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const pod = await client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['true'] }] } });
  const ref = { namespace: 'default', name: 'p', uid: pod.metadata.uid! };
  return { client, reporter: new StatusReporter(client, silentLogger, abort.signal), ref };
}

t.test('a burst of statuses costs at most two writes and the last one wins; an unchanged status costs none', async (t) => {
  const { client, reporter, ref } = await setUp(t);
  for (let i = 0; i < 50; i++) reporter.report(ref, { phase: 'Pending', message: `step ${i}` });
  await reporter.settled(ref.uid);
  t.ok(reporter.writes <= 2, `${reporter.writes} writes for 50 reports`);
  t.match((await client.get(pods, 'default', 'p')).status, { phase: 'Pending', message: 'step 49' });
  const before = reporter.writes;
  reporter.report(ref, { phase: 'Pending', message: 'step 49' });
  await reporter.settled(ref.uid);
  t.equal(reporter.writes, before, 'the same status again is not written');
});

t.test('a pod replaced under the same name never gets the old pod status', async (t) => {
  const { client, reporter, ref } = await setUp(t);
  await client.delete(pods, 'default', 'p', { gracePeriodSeconds: 0 });
  const replacement = await client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['true'] }] } });
  reporter.report(ref, { phase: 'Running' });
  await reporter.settled(ref.uid);
  t.equal(reporter.writes, 0, 'refused by the UID precondition');
  const current = await client.get(pods, 'default', 'p');
  t.equal(current.metadata.uid, replacement.metadata.uid);
  t.not((current.status as { phase?: string }).phase, 'Running');
  reporter.report(ref, { phase: 'Failed' });
  await reporter.settled(ref.uid);
  t.equal(reporter.writes, 0, 'later statuses of the gone pod are dropped');
});
