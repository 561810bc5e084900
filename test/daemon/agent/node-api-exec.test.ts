/**
 * The node API's exec route on a real one-node cluster: commands run beside a real container in
 * its env, working directory, user and cgroup; output comes back as frames, the exit code last;
 * a client that hangs up takes the command (and its children) with it.
 */
import { chmodSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import t, { type Test } from 'tap';
import { EXEC_CHANNEL, ExecFrameDecoder, parseExecStatus, type ExecStatus } from '../../../src/api/exec-frames.js';
import { resolveResource } from '../../../src/api/resources.js';
import { loadKubeconfig, resolveContextWithFiles } from '../../../src/client/kubeconfig.js';
import { serveExec } from '../../../src/daemon/agent/node-api-exec.js';
import { nodeEndpoint } from '../../../src/daemon/server/api/node-proxy.js';
import { commandPid, containerStatus, phaseOf, startAgentCluster, type AgentCluster } from '../../helpers/agent-cluster.js';
import { scratchDir } from '../../helpers/runner.js';
import { waitFor } from '../../helpers/wait.js';

const nodes = resolveResource('nodes')!;

interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  status?: ExecStatus;
  body: string;
}

interface NodeApi {
  request(path: string, command: string[], options?: { method?: string; onData?: (stdout: string, request: { destroy(): void }) => void }): Promise<ExecResult>;
}

async function nodeApi(cluster: AgentCluster): Promise<NodeApi> {
  const target = nodeEndpoint(await cluster.client.get(nodes, undefined, cluster.nodeName));
  const context = await resolveContextWithFiles(await loadKubeconfig(cluster.server.kubeconfigPath));
  return {
    request: (path, command, options = {}) =>
      new Promise((resolve, reject) => {
        const query = new URLSearchParams(command.map((word): [string, string] => ['command', word]));
        const request = https.request({
          host: target.host,
          port: target.port,
          ca: target.caPem,
          method: options.method ?? 'POST',
          path: `${path}?${query.toString()}`,
          headers: { authorization: `Bearer ${context.token}` },
          agent: false,
        });
        request.on('error', reject);
        request.on('response', (response: IncomingMessage) => {
          const decoder = new ExecFrameDecoder();
          const result: ExecResult = { code: response.statusCode ?? 0, stdout: '', stderr: '', body: '' };
          response.on('data', (chunk: Buffer) => {
            if (result.code !== 200) {
              result.body += chunk.toString();
              return;
            }
            for (const frame of decoder.push(chunk)) {
              if (frame.channel === EXEC_CHANNEL.stdout) result.stdout += frame.payload.toString();
              else if (frame.channel === EXEC_CHANNEL.stderr) result.stderr += frame.payload.toString();
              else result.status = parseExecStatus(frame.payload);
            }
            options.onData?.(result.stdout, request);
          });
          response.on('end', () => resolve(result));
          response.on('close', () => resolve(result));
          response.on('error', () => resolve(result));
        });
        request.end();
      }),
  };
}

/** Kills, by pid, a process group an exec left behind (only if a test failed). */
function killGroupAtTeardown(t: Test, pgid: number): void {
  t.teardown(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

t.test('exec runs a command in the container context and streams its output and exit code', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { exec: serveExec } } });
  const workDir = scratchDir(t);
  chmodSync(workDir, 0o755);
  await cluster.createPod('box', {
    securityContext: { runAsUser: 65534, runAsGroup: 65534 },
    containers: [
      {
        name: 'main',
        command: ['sleep', '1000'],
        workingDir: workDir,
        env: [
          { name: 'GREETING', value: 'hello' },
          { name: 'MESSAGE', value: '$(GREETING) world' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      },
    ],
  });
  const pod = await cluster.waitForPod('box', (p) => phaseOf(p) === 'Running' && containerStatus(p)?.state?.running !== undefined, 'Running');
  const api = await nodeApi(cluster);

  const split = await api.request('/exec/default/box/main', ['sh', '-c', 'echo out; echo err >&2; echo more; exit 3']);
  t.equal(split.code, 200);
  t.equal(split.stdout, 'out\nmore\n', 'stdout alone on its channel');
  t.equal(split.stderr, 'err\n', 'stderr alone on its channel');
  t.same(split.status, { exitCode: 3 }, 'the exit code comes last');

  const context = await api.request('/exec/default/box/main', ['sh', '-c', 'echo "$MESSAGE|$POD_NAME|$(pwd)|$(id -u):$(id -g)"']);
  t.equal(context.stdout, `hello world|box|${workDir}|65534:65534\n`, 'env, workingDir and user of the container');
  t.same(context.status, { exitCode: 0 });

  // Unnamed container: the pod's only one. The command sees the same cgroups as the container's process.
  const cgroups = await api.request('/exec/default/box/', ['cat', '/proc/self/cgroup']);
  const expected = readFileSync(`/proc/${commandPid(containerStatus(pod)?.containerID)}/cgroup`, 'utf8');
  t.equal(cgroups.stdout, expected, 'inside the container cgroup');
  const handle = cluster.agent.sync.find('default', 'box')?.runner.container('main')?.cgroup;
  if (cluster.driver.kind === 'none') t.comment('cgroups are off on this host: the cgroup check only compares /proc/self/cgroup');
  else t.ok(handle !== undefined && cgroups.stdout.includes(handle), `joined ${handle}`);

  const missing = await api.request('/exec/default/box/main', ['nosuch-binary', '--flag']);
  t.equal(missing.code, 200);
  t.match(missing.status, { kind: 'Status', status: 'Failure', code: 500, message: /exec: "nosuch-binary": executable file not found in \$PATH/ }, 'a missing binary is a clear Status');
  t.equal(missing.stdout + missing.stderr, '');

  const signalled = await api.request('/exec/default/box/main', ['sh', '-c', 'kill -KILL $$']);
  t.same(signalled.status, { exitCode: 137 }, 'killed by a signal: 128 + N');

  const noCommand = await api.request('/exec/default/box/main', []);
  t.equal(noCommand.code, 400);
  t.match(JSON.parse(noCommand.body), { kind: 'Status', message: /at least one command/ });
  const wrongContainer = await api.request('/exec/default/box/other', ['true']);
  t.equal(wrongContainer.code, 400);
  const ghost = await api.request('/exec/default/ghost/main', ['true']);
  t.equal(ghost.code, 404);
});

t.test('a client that hangs up kills the command and its children', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { exec: serveExec } } });
  await cluster.createPod('box', { containers: [{ name: 'main', command: ['sleep', '1000'] }] });
  await cluster.waitForPod('box', (p) => phaseOf(p) === 'Running', 'Running');
  const api = await nodeApi(cluster);
  let leader: number | undefined;
  const result = await api.request('/exec/default/box/main', ['sh', '-c', 'echo $$; sleep 1000 & wait'], {
    onData: (stdout, request) => {
      if (leader !== undefined || !stdout.includes('\n')) return;
      leader = Number(stdout.trim());
      killGroupAtTeardown(t, leader);
      request.destroy();
    },
  });
  t.equal(result.status, undefined, 'no exit status: the client left first');
  t.ok(leader !== undefined && leader > 1, `the command ran as pid ${leader}`);
  const child = await waitFor(() => {
    try {
      return Number(readFileSync(`/proc/${leader}/task/${leader}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined;
    } catch {
      return -1; // already gone
    }
  }, { what: 'the sleep child' });
  await waitFor(() => !alive(leader!) && (child === -1 || !alive(child)), { what: 'the command and its child killed', timeout: 5000 });
  t.pass('the process group is gone');
  t.equal(phaseOf(await cluster.getPod('box')), 'Running', 'the container itself keeps running');
});
