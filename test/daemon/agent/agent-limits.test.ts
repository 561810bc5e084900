/**
 * Pod limits through the whole agent, on real cgroups (CI is root): an OOM kill reported as
 * OOMKilled, a fork bomb held at the pids limit while another pod keeps serving, the cpu quota.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseMountinfo } from '../../../src/runtime/cgroups/cgroup-mounts.js';
import { commandPid, containerStatus, phaseOf, startAgentCluster } from '../../helpers/agent-cluster.js';
import { freePort, httpServer, scratchDir } from '../../helpers/runner.js';
import { waitFor } from '../../helpers/wait.js';

/** A cgroup file of the process's cgroup for `controller` (v1 hierarchy, or the v2 tree). */
function cgroupFile(pid: number, controller: string, v1Name: string, v2Name: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  for (const line of lines) {
    const [, controllers, cgroupPath] = line.split(':');
    if (controllers !== undefined && controllers.split(',').includes(controller)) {
      const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
      if (mount !== undefined) return readFileSync(path.join(mount.mountPoint, cgroupPath!, v1Name), 'utf8').trim();
    }
  }
  const unified = lines.find((line) => line.startsWith('0::'))!.slice(3);
  const mount = mounts.find((m) => m.version === 2)!;
  return readFileSync(path.join(mount.mountPoint, unified, v2Name), 'utf8').trim();
}

/** The command's pid once it has joined its cgroup (it does so before exec, a moment after Running). */
async function joinedPid(containerID: string | undefined): Promise<number> {
  const pid = await waitFor(() => commandPid(containerID) || undefined, { what: 'the command started' });
  await waitFor(() => readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes('/pod-'), { what: 'the command in its cgroup' });
  return pid;
}

t.test('limits hold: OOMKilled, a fork bomb stopped by the pids limit, the cpu quota', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { pidsLimit: 40 } });
  const skip = cluster.driver.enforced ? {} : { skip: `cgroup limits are not enforced on this host: ${cluster.driver.reason}` };

  t.test('a process over its memory limit is OOMKilled (137), read from the kernel counters', skip, async (t) => {
    await cluster.createPod('hog', {
      restartPolicy: 'Never',
      containers: [{ name: 'hog', command: ['sh', '-c', 'exec dd if=/dev/zero of=/dev/null bs=96M count=1'], resources: { limits: { memory: '48Mi' } } }],
    });
    const pod = await cluster.waitForPod('hog', (p) => phaseOf(p) === 'Failed', 'Failed');
    t.match(containerStatus(pod)!.state.terminated, { exitCode: 137, reason: 'OOMKilled' });
  });

  t.test('a fork bomb stops at the pids limit while another pod keeps serving; the cpu quota holds its value', skip, async (t) => {
    const port = await freePort();
    await cluster.createPod('server', { containers: [{ name: 'web', command: httpServer(port, scratchDir(t)), resources: { limits: { cpu: '250m' }, requests: { cpu: '100m' } } }] });
    const server = await cluster.waitForPod('server', (p) => phaseOf(p) === 'Running', 'Running');
    const webPid = await joinedPid(containerStatus(server)!.containerID);
    await waitFor(() => fetch(`http://127.0.0.1:${port}/ok`).then((r) => r.status === 200, () => false), { what: 'the server answering' });
    const v2 = cluster.driver.kind === 'v2';
    t.equal(cgroupFile(webPid, 'cpu', 'cpu.cfs_quota_us', 'cpu.max'), v2 ? '25000 100000' : '25000', 'limits.cpu 250m → 25 ms per 100 ms');
    t.equal(cgroupFile(webPid, 'cpu', 'cpu.shares', 'cpu.weight'), v2 ? '4' : '102', 'requests.cpu 100m → shares 102 (weight 4)');

    await cluster.createPod('bomb', { containers: [{ name: 'bomb', command: ['sh', '-c', `while :; do sh -c 'while :; do sleep 30 & done' 2>/dev/null; done`] }] });
    const bomb = await cluster.waitForPod('bomb', (p) => phaseOf(p) === 'Running', 'Running');
    const bombPid = await joinedPid(containerStatus(bomb)!.containerID);
    const pidsCurrent = () => Number(cgroupFile(bombPid, 'pids', 'pids.current', 'pids.current'));
    t.equal(cgroupFile(bombPid, 'pids', 'pids.max', 'pids.max'), '40', 'the agent pids limit is on the container');
    await waitFor(() => pidsCurrent() >= 38, { what: 'the bomb to reach the limit' });
    for (let sample = 0; sample < 10; sample++) {
      const current = pidsCurrent();
      if (current > 40) t.fail(`${current} tasks exceed the limit of 40`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answer = await fetch(`http://127.0.0.1:${port}/ok`);
    t.equal(answer.status, 200, 'the other pod keeps serving');
  });
});
