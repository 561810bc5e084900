/**
 * A tiny HTTPS client for API-server tests: plain node:https with the CA and bearer token taken
 * from the admin kubeconfig, raw bodies allowed, so tests can send exactly the bytes they mean.
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Test } from 'tap';
import { startServer } from '../../src/daemon/server/server.js';
import type { RunningServer, ServerOptions } from '../../src/daemon/server/server.js';
import { silentLogger } from '../../src/lib/logger.js';

export interface Connection {
  url: string;
  caPem: string;
  token: string;
  /** Reused sockets; destroy with `closeConnection`. */
  agent: https.Agent;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RequestOptions {
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** `null` sends no Authorization header; a string replaces the whole header. */
  authorization?: string | null;
  timeoutMs?: number;
}

/** Reads server URL, CA and token from a kubeconfig pm8s wrote (one cluster, one user). */
export async function connectionFromKubeconfig(file: string, agentOptions: https.AgentOptions = {}): Promise<Connection> {
  const config = parse(await readFile(file, 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data'?: string } }>;
    users: Array<{ user: { token?: string } }>;
  };
  const cluster = config.clusters[0]?.cluster;
  const token = config.users[0]?.user.token;
  if (!cluster || !token || !cluster['certificate-authority-data']) throw new Error(`${file} has no server, CA or token`);
  const caPem = Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8');
  return { url: cluster.server, caPem, token, agent: new https.Agent({ keepAlive: true, ca: caPem, ...agentOptions }) };
}

export function closeConnection(connection: Connection): void {
  connection.agent.destroy();
}

export function apiRequest(connection: Connection, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string | number> = { accept: 'application/json', ...options.headers };
  if (options.authorization !== null) headers.authorization = options.authorization ?? `Bearer ${connection.token}`;
  let payload: Buffer | undefined;
  if (options.body !== undefined) {
    payload = Buffer.isBuffer(options.body) ? options.body : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const request = https.request(new URL(path, connection.url), { method, headers, agent: connection.agent, ca: connection.caPem }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    request.setTimeout(options.timeoutMs ?? 10_000, () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

export interface WatchEventLine {
  type: string;
  object: Record<string, unknown> & { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
}

export interface WatchConnection {
  status: number;
  events: WatchEventLine[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a watch (`?watch=true` in `path`) and collects its newline-delimited events. */
export function openWatch(connection: Connection, path: string): Promise<WatchConnection> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      new URL(path, connection.url),
      { method: 'GET', headers: { authorization: `Bearer ${connection.token}`, accept: 'application/json' }, agent: false, ca: connection.caPem },
      (response) => {
        const events: WatchEventLine[] = [];
        let partial = '';
        const ended = new Promise<void>((done) => {
          response.on('end', done);
          response.on('close', done);
          response.on('error', () => done());
        });
        response.on('data', (chunk: Buffer) => {
          partial += chunk.toString('utf8');
          const lines = partial.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as WatchEventLine);
        });
        resolve({ status: response.statusCode ?? 0, events, ended, close: () => request.destroy() });
      },
    );
    request.on('error', (error) => reject(error));
    request.end();
  });
}

export interface TestServer {
  running: RunningServer;
  connection: Connection;
  dataDir: string;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
}

/** An in-process `pm8s server` on 127.0.0.1:0 in the test's directory, stopped at teardown. */
export async function startTestServer(t: Test, options: Partial<Omit<ServerOptions, 'dataDir' | 'listen' | 'logger' | 'version'>> = {}): Promise<TestServer> {
  const dataDir = t.testdir();
  // API tests run without controllers, so nothing else writes while they count revisions.
  const running = await startServer({ dataDir, listen: '127.0.0.1:0', logger: silentLogger, version: 'v0.0.0-test', controllers: false, ...options });
  const connection = await connectionFromKubeconfig(running.kubeconfigPath);
  t.teardown(async () => {
    closeConnection(connection);
    await running.stop();
  });
  return { running, connection, dataDir, request: (method, path, requestOptions) => apiRequest(connection, method, path, requestOptions) };
}

/** The fields every Status error body must carry, with `code` equal to the HTTP status. */
export function assertStatus(t: Test, response: ApiResponse, code: number, reason: string, what = `${code} ${reason}`): Record<string, unknown> & { message?: string; details?: { name?: string; kind?: string; causes?: Array<{ field?: string; reason?: string; message?: string }> } } {
  t.equal(response.status, code, `${what}: HTTP status (body ${response.text.slice(0, 300)})`);
  t.match(String(response.headers['content-type']), /^application\/json/, `${what}: content type`);
  const body = response.json as Record<string, unknown> & { message?: string; details?: { name?: string; kind?: string; causes?: Array<{ field?: string }> } };
  t.match(body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code }, `${what}: Status body`);
  t.type(body?.message, 'string', `${what}: has a message`);
  t.ok((body?.message ?? '').length > 0, `${what}: message not empty`);
  return body;
}

/** A valid ConfigMap manifest. */
export function configMap(name: string, data: Record<string, string> = { key: 'value' }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

/** A valid Deployment manifest (a process-running pod template). */
export function deployment(name: string, replicas = 1, args: string[] = ['60']): Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', command: ['sleep'], args }] },
      },
    },
  };
}
