import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { loadKubeconfig, resolveContext } from '../../../src/client/kubeconfig.js';
import { createTokenVerifier } from '../../../src/daemon/agent/token-verifier.js';
import { startAgentTestServer } from '../../helpers/agent-cluster.js';
import { scratchDir } from '../../helpers/runner.js';

t.test('a token is accepted when the API server accepts it; answers are cached; an unreachable server refuses', async (t) => {
  const dir = scratchDir(t);
  const server = await startAgentTestServer(dir, 4000);
  const context = resolveContext(await loadKubeconfig(server.kubeconfigPath));
  const caPem = await readFile(path.join(dir, 'server', 'tls', 'ca.crt'), 'utf8');
  const verify = createTokenVerifier({ server: server.url, caPem }, 'no-such-node');
  t.equal(await verify(`Bearer ${context.token}`), true, 'the admin token (the Node need not exist)');
  t.equal(await verify('Bearer abcdef.not-a-real-token-at-all-000000000000000000000'), false, 'an unknown token');
  t.equal(await verify(undefined), false, 'no header');
  t.equal(await verify('Basic dXNlcjpwYXNz'), false, 'not a bearer token');
  await server.stop();
  t.equal(await verify(`Bearer ${context.token}`), true, 'a recent answer is cached');
  const fresh = createTokenVerifier({ server: server.url, caPem }, 'no-such-node');
  t.equal(await fresh(`Bearer ${context.token}`), false, 'with no server to ask, nothing is accepted');
});
