/**
 * A real `pm8s server` in-process for tests: HTTPS on 127.0.0.1:0, a temporary data dir, the
 * generated admin kubeconfig, and a small direct API client that trusts the server's CA.
 * It is stopped in the test's teardown, even when the test fails.
 */
import https from 'node:https';
import path from 'node:path';
import type { Test } from 'tap';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import type { RunningServer, ServerOptions } from '../../src/daemon/server/server.js';
import { startServer } from '../../src/daemon/server/server.js';
import { silentLogger } from '../../src/lib/logger.js';

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  caPem: string;
  token: string;
  /** One request to the API with the admin token (unless `token` is given, '' for none). */
  request(method: string, requestPath: string, options?: { body?: unknown; headers?: Record<string, string>; token?: string }): Promise<ApiResponse>;
}

const testDirs = new WeakMap<Test, string>();

/**
 * The test's fixture directory, created once: `t.testdir()` empties the directory on every call,
 * so helpers and tests that share it must call this instead.
 */
export function testDir(t: Test): string {
  let dir = testDirs.get(t);
  if (dir === undefined) {
    dir = t.testdir();
    testDirs.set(t, dir);
  }
  return dir;
}

/** Starts the server in `testDir(t)/server` (HTTPS unless `insecureHttp`); it stops in teardown. */
export async function startTestServer(t: Test, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = path.join(testDir(t), 'server');
  const running = await startServer({
    dataDir,
    listen: '127.0.0.1:0',
    logger: silentLogger,
    version: 'test',
    watchHeartbeatMs: 1000,
    // API-level tests: no controllers writing behind their back unless a test asks for them.
    controllers: false,
    ...options,
  });
  t.teardown(() => running.stop());
  const kubeconfig = await loadKubeconfig(running.kubeconfigPath);
  const cluster = kubeconfig.clusters[0]?.cluster;
  const token = kubeconfig.users[0]?.user.token;
  const caData = cluster?.['certificate-authority-data'];
  if (!token) throw new Error(`the generated kubeconfig ${running.kubeconfigPath} has no token`);
  if (!caData && !options.insecureHttp) throw new Error(`the generated kubeconfig ${running.kubeconfigPath} has no certificate-authority-data`);
  const caPem = caData ? Buffer.from(caData, 'base64').toString('utf8') : '';
  const agent = new https.Agent({ ca: caPem, keepAlive: false });

  const request: TestServer['request'] = (method, requestPath, requestOptions = {}) =>
    new Promise((resolve, reject) => {
      const body = requestOptions.body === undefined ? undefined : typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body);
      const bearer = requestOptions.token ?? token;
      const headers: Record<string, string> = { accept: 'application/json', ...requestOptions.headers };
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (body !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const url = new URL(requestPath, running.url);
      const outgoing = https.request(url, { method, headers, agent, timeout: 10_000 }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${requestPath} timed out`)));
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  return Object.assign(running, { dataDir, caPem, token, request });
}
