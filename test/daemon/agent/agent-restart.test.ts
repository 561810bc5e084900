/**
 * The agent survives its own death (issue 4 acceptance): SIGKILLed five times while 10 pods run,
 * it re-adopts them — same PIDs, restartCount 0, never a second copy; a container that exited while
 * it was down is reported with its true exit code; with its local state deleted it adopts from
 * the cgroup scan instead of starting duplicates. Without a server it runs on, and a shutdown with
 * the server unreachable is not held up by it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { InProcessClient } from '../../../src/client/in-process-client.js';
import { startServer } from '../../../src/daemon/server/server.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { Pod } from '../../../src/api/kinds/pod.js';
import { containerStatus, phaseOf } from '../../helpers/agent-cluster.js';
import { startAgentProcess, wrappersByPod } from '../../helpers/agent-process.js';
import { scratchDir } from '../../helpers/runner.js';
import { startTcpProxy } from '../../helpers/tcp-proxy.js';
import { waitFor } from '../../helpers/wait.js';

const pods = resolveResource('pods')!;
const POD_COUNT = 10;

t.test('SIGKILL the agent 5 times while 10 pods run: same processes, no restarts, no duplicates', async (t) => {
  const agent = await startAgentProcess(t);
  await agent.start();
  const flags = scratchDir(t);
  for (let i = 0; i < POD_COUNT; i++) await agent.createPod(`p${i}`, { containers: [{ name: 'main', command: ['sleep', '100000'] }] });
  // Exits 7 once its flag file appears: we make that happen while the agent is dead.
  await agent.createPod('exiter', {
    restartPolicy: 'Never',
    containers: [{ name: 'main', command: ['sh', '-c', `while [ ! -f ${flags}/exit ]; do sleep 0.05; done; exit 7`] }],
  });
  const names = [...Array.from({ length: POD_COUNT }, (_, i) => `p${i}`), 'exiter'];
  const runningIds = async (): Promise<Map<string, string>> => {
    const ids = new Map<string, string>();
    for (const name of names) {
      const pod = await agent.getPod(name);
      const status = containerStatus(pod);
      if (phaseOf(pod) === 'Running' && status?.state.running !== undefined) ids.set(name, status.containerID as string);
    }
    return ids;
  };
  const first = await waitFor(async () => {
    const ids = await runningIds();
    return ids.size === names.length ? ids : undefined;
  }, { what: 'all pods Running', timeout: 30_000 });
  const uids = new Map<string, string>();
  for (const name of names) uids.set(name, (await agent.getPod(name)).metadata.uid!);

  const checkNoDuplicates = (round: string) => {
    const wrappers = wrappersByPod(agent.dataDir);
    for (const name of names) {
      const live = wrappers.get(uids.get(name)!) ?? [];
      if (name === 'exiter' && live.length === 0) continue;
      if (live.length !== 1) t.fail(`${round}: pod ${name} has ${live.length} wrappers running (${live.join(', ')})`);
    }
  };

  for (let round = 1; round <= 5; round++) {
    await agent.kill();
    if (round === 3) {
      writeFileSync(path.join(flags, 'exit'), '');
      await waitFor(() => (wrappersByPod(agent.dataDir).get(uids.get('exiter')!) ?? []).length === 0, { what: 'the exiter to exit while the agent is down' });
    }
    await agent.start();
    // Give a (wrong) second copy time to appear before looking.
    await new Promise((resolve) => setTimeout(resolve, 500));
    checkNoDuplicates(`round ${round}`);
    for (let i = 0; i < POD_COUNT; i++) {
      const pod = await agent.getPod(`p${i}`);
      const status = containerStatus(pod)!;
      if (status.containerID !== first.get(`p${i}`) || status.restartCount !== 0 || phaseOf(pod) !== 'Running') {
        t.fail(`round ${round}: p${i} changed: ${JSON.stringify(status)}`);
      }
    }
  }
  t.pass('5 SIGKILLs: every pod kept its process and restartCount 0, and none ran twice');

  const exiter = await waitFor(async () => {
    const pod = await agent.getPod('exiter');
    return phaseOf(pod) === 'Failed' ? pod : undefined;
  }, { what: 'the exiter reported' });
  t.match(containerStatus(exiter)!.state.terminated, { exitCode: 7, reason: 'Error', containerID: first.get('exiter') }, 'its true exit code, recorded while the agent was down');

  // Lose the agent's local state: adoption comes from the cgroup scan.
  await agent.kill();
  for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(agent.dataDir, `agent-state.db${suffix}`), { force: true });
  await agent.start();
  t.match(agent.output, /agent state started empty/, 'the agent says its state was lost');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  checkNoDuplicates('state deleted');
  for (let i = 0; i < POD_COUNT; i++) {
    const pod = await agent.getPod(`p${i}`);
    t.equal(containerStatus(pod)!.containerID, first.get(`p${i}`), `p${i} adopted, not duplicated`);
  }

  // Clean up through the agent: deleting the pods stops their processes.
  for (const name of names) await agent.client.delete(pods, 'default', name).catch(() => undefined);
  await waitFor(async () => (await agent.client.list(pods, 'default')).items.length === 0, { what: 'pods deleted', timeout: 30_000 });
  t.equal([...wrappersByPod(agent.dataDir).values()].flat().length, 0, 'no process left');
  await agent.stop();
});

t.test('without a server the agent starts, supervises its pods from its local state, and resyncs when the server returns', async (t) => {
  const agent = await startAgentProcess(t);
  await agent.start();
  const dir = scratchDir(t);
  await agent.createPod('steady', { containers: [{ name: 'main', command: ['sleep', '100000'] }] });
  await agent.createPod('crashy', { containers: [{ name: 'main', command: ['sh', '-c', `echo run >> ${dir}/runs; sleep 0.2; exit 1`] }] });
  const steady = await waitFor(async () => {
    const current: Pod = await agent.getPod('steady');
    return phaseOf(current) === 'Running' ? current : undefined;
  }, { what: 'Running' });
  const port = agent.server.port;
  await agent.server.stop();
  await agent.kill();
  await agent.start(); // no server answers
  const runs = () => (existsSync(path.join(dir, 'runs')) ? readFileSync(path.join(dir, 'runs'), 'utf8').split('\n').length - 1 : 0);
  // Runs 1 and 2 come at once (the first restart is immediate); run 3 waits a 10 s back-off, long
  // after the first agent died, so only the agent without a server can have started it.
  await waitFor(() => runs() >= 3, { what: 'the crashing pod restarted by an agent that never reached its server', timeout: 30_000 });
  t.equal((wrappersByPod(agent.dataDir).get(steady.metadata.uid!) ?? []).length, 1, 'the steady pod still runs, once');

  const server = await startServer({ dataDir: agent.serverDataDir, listen: `127.0.0.1:${port}`, logger: silentLogger, version: 'test', controllers: { nodeMonitorGracePeriodMs: 20_000 } });
  t.teardown(() => server.stop());
  const client = new InProcessClient(server.api);
  const crashy = await waitFor(async () => {
    const pod = (await client.get(pods, 'default', 'crashy')) as unknown as Pod;
    return (containerStatus(pod)?.restartCount ?? 0) >= 3 ? pod : undefined;
  }, { what: 'the restarts reported once the server is back', timeout: 30_000 });
  t.ok(containerStatus(crashy)!.restartCount >= 3, `restartCount ${containerStatus(crashy)!.restartCount} reported after the resync`);
  for (const name of ['steady', 'crashy']) await client.delete(pods, 'default', name);
  await waitFor(async () => (await client.list(pods, 'default')).items.length === 0, { what: 'pods deleted', timeout: 30_000 });
  await agent.stop();
});

t.test('an agent shut down while its server is unreachable ends a stop it began, exits, and confirms the deletion on its next start', async (t) => {
  const dir = scratchDir(t);
  const kubeconfig = path.join(dir, 'proxied.kubeconfig');
  const agent = await startAgentProcess(t, ['--kubeconfig', kubeconfig]);
  const proxy = await startTcpProxy(t, agent.server.port);
  writeFileSync(kubeconfig, readFileSync(agent.server.kubeconfigPath, 'utf8').replace(`127.0.0.1:${agent.server.port}`, `127.0.0.1:${proxy.port}`));
  await agent.start();
  await agent.createPod('steady', { containers: [{ name: 'main', command: ['sleep', '100000'] }] });
  // Ignores SIGTERM (noting it), so only the grace period's SIGKILL ends it.
  await agent.createPod('stubborn', {
    terminationGracePeriodSeconds: 2,
    containers: [{ name: 'main', command: ['sh', '-c', `trap "echo term >> ${dir}/term" TERM; echo started >> ${dir}/starts; while :; do sleep 0.1; done`] }],
  });
  const running = async (name: string) => {
    const pod = await agent.getPod(name);
    return phaseOf(pod) === 'Running' ? pod : undefined;
  };
  const steady = await waitFor(() => running('steady'), { what: 'steady Running' });
  const stubborn = await waitFor(() => running('stubborn'), { what: 'stubborn Running' });
  await waitFor(() => existsSync(path.join(dir, 'starts')), { what: 'stubborn started' });

  await agent.client.delete(pods, 'default', 'stubborn');
  await waitFor(() => existsSync(path.join(dir, 'term')), { what: 'the agent began the stop (SIGTERM sent)' });
  proxy.blackhole();
  const began = Date.now();
  await agent.stop();
  const took = Date.now() - began;
  // The grace period (2 s) plus the few seconds granted to work that needs the server; without
  // the bound, the stop's status report and deletion would wait on the silent server forever.
  t.ok(took < 12_000, `the agent exited ${took} ms after SIGTERM`);
  t.equal((wrappersByPod(agent.dataDir).get(stubborn.metadata.uid!) ?? []).length, 0, 'the pod being deleted was stopped before the agent exited');
  t.equal((wrappersByPod(agent.dataDir).get(steady.metadata.uid!) ?? []).length, 1, 'the other pod keeps running');
  t.ok(await agent.getPod('stubborn'), 'the deletion is not yet confirmed: the server was unreachable');

  proxy.restore();
  await agent.start();
  await waitFor(async () => (await agent.client.get(pods, 'default', 'stubborn').catch(() => undefined)) === undefined, { what: 'the deletion confirmed by the restarted agent', timeout: 15_000 });
  t.equal(readFileSync(path.join(dir, 'starts'), 'utf8'), 'started\n', 'the stopped pod never ran again');
  t.equal((wrappersByPod(agent.dataDir).get(stubborn.metadata.uid!) ?? []).length, 0);
  const after = await agent.getPod('steady');
  t.equal(containerStatus(after)!.containerID, containerStatus(steady)!.containerID, 'the steady pod was adopted, not restarted');
  await agent.client.delete(pods, 'default', 'steady');
  await waitFor(async () => (await agent.client.list(pods, 'default')).items.length === 0, { what: 'pods deleted', timeout: 30_000 });
  await agent.stop();
});
