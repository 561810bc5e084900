/**
 * The agent's own HTTPS endpoint (the kubelet's port 10250): container logs, exec and usage
 * stats, reached by the API server on behalf of `pm8s logs|exec|top`. Every request needs a
 * bearer token the API server accepts (checked by asking it, cached briefly), and the certificate
 * is signed by a CA the agent made and published on its Node, which the server pins.
 * Handlers live one per file; this file authenticates and routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiError, badRequest, internalError, unauthorized } from '../../api/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { CgroupDriver } from '../../runtime/cgroups/cgroup-driver.js';
import { serveContainerLogs } from './node-api-logs.js';
import type { PodSync } from './pod-sync.js';

export interface NodeApiContext {
  sync: Pick<PodSync, 'find' | 'list'>;
  dataDir: string;
  driver: CgroupDriver;
  nodeName: string;
  logger: Logger;
}

export type NodeApiHandler = (request: IncomingMessage, response: ServerResponse, segments: string[], query: URLSearchParams, context: NodeApiContext) => Promise<void>;

export interface NodeApiOptions {
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Whether the Authorization header carries a token the API server accepts. */
  authenticate: (authorization: string | undefined) => Promise<boolean>;
  context: NodeApiContext;
  /** Extra routes by first path segment (exec, stats), registered by the agent. */
  handlers?: Record<string, NodeApiHandler>;
}

export interface RunningNodeApi {
  port: number;
  close(): Promise<void>;
}

export async function startNodeApi(options: NodeApiOptions): Promise<RunningNodeApi> {
  const { context } = options;
  const handlers: Record<string, NodeApiHandler> = { containerLogs: serveContainerLogs, ...options.handlers };
  const server = https.createServer({ cert: options.certPem, key: options.keyPem }, (request, response) => {
    void handle(request, response).catch((error: unknown) => sendStatus(response, error, context.logger));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.requestTimeout = 0;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://node.invalid');
    if (url.pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!(await options.authenticate(request.headers.authorization))) throw unauthorized();
    let segments: string[];
    try {
      segments = url.pathname.split('/').slice(1).map((segment) => decodeURIComponent(segment));
    } catch {
      throw badRequest(`invalid path ${url.pathname}`);
    }
    const handler = handlers[segments[0] ?? ''];
    if (handler === undefined) throw new ApiError(404, 'NotFound', `the node API has no ${url.pathname}`);
    await handler(request, response, segments.slice(1), url.searchParams, context);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Errors as Kubernetes Status objects; a stream already under way is cut instead. */
export function sendStatus(response: ServerResponse, error: unknown, logger: Logger): void {
  const apiError = error instanceof ApiError ? error : internalError(`node API: ${(error as Error)?.message ?? String(error)}`);
  if (!(error instanceof ApiError)) logger.warn('node API request failed', { error });
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(apiError.toStatus());
  response.writeHead(apiError.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** A pod this node runs, by namespace and name, or a 404 Status naming it. */
export function findPod(context: NodeApiContext, namespace: string | undefined, name: string | undefined) {
  if (namespace === undefined || name === undefined) throw badRequest('the path must name a namespace and a pod');
  const found = context.sync.find(namespace, name);
  if (found === undefined) throw new ApiError(404, 'NotFound', `pod "${name}" in namespace "${namespace}" is not running on node ${context.nodeName}`, { kind: 'pods', name });
  return found;
}

/** The container a request names: by name, or the pod's only container when unnamed. */
export function pickContainer(found: ReturnType<typeof findPod>, container: string | undefined): string {
  const names = [...(found.pod.spec.initContainers ?? []), ...found.pod.spec.containers].map((c) => c.name);
  const podName = found.pod.metadata.name ?? '';
  if (container === undefined || container === '') {
    if (found.pod.spec.containers.length === 1) return found.pod.spec.containers[0]!.name;
    throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${found.pod.spec.containers.map((c) => c.name).join(' ')}]`);
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
  return container;
}
