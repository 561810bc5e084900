/** The HTTP face of the API: authentication, routing, verbs, Tables, Status errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, internalError, methodNotAllowed, unauthorized } from '../../../api/errors.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { IncludeObject } from '../../../api/tables/index.js';
import { toTable } from '../../../api/tables/index.js';
import type { KubeList, KubeObject } from '../../../api/types.js';
import type { Logger } from '../../../lib/logger.js';
import { parseDeleteOptions } from './delete-options.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { listOptionsFromQuery } from './list-options.js';
import type { ObjectApi } from './object-api.js';
import { mediaType, parseJson, readBody, readJsonBody } from './request-body.js';
import type { Route } from './routes.js';
import { route } from './routes.js';
import { bindPod, evictPod, scaleOf, updateScale } from './subresources.js';
import type { WatchStreams } from './watch-stream.js';
import type { NodeProxy } from './node-proxy.js';
import { isMetricsPath, serveMetrics } from './metrics-api.js';

export interface Identity {
  user: string;
  groups: string[];
  role: string;
}

export interface HttpApiOptions {
  api: ObjectApi;
  watches: WatchStreams;
  logger: Logger;
  version: string;
  /** Returns who sent the request, or undefined: then the request is refused with 401. */
  authenticate: (authorization: string | undefined) => Identity | undefined;
  /** Whether the server is ready to serve (store open, bootstrap done). */
  ready: () => boolean;
  /** Reaches the agents for pods/log and pods/exec; without it those answer 503. */
  nodeProxy?: NodeProxy;
}

/** Paths anyone may read, as Kubernetes' system:public-info-viewer allows. */
const PUBLIC_ROUTES = new Set(['version', 'healthz', 'livez', 'readyz']);

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export function createHttpApi(options: HttpApiOptions): Handler {
  const { api, logger } = options;

  return async (request, response) => {
    const started = Date.now();
    try {
      const url = new URL(request.url ?? '/', 'http://pm8s.invalid');
      const target = route(url.pathname);
      if (!PUBLIC_ROUTES.has(target.type) && !options.authenticate(request.headers.authorization)) throw unauthorized();
      if (isMetricsPath(url.pathname)) await serveMetrics(request, response, url, options);
      else await serve(request, response, target, url.searchParams);
    } catch (error) {
      sendError(response, error, logger, request);
    } finally {
      if (request.method !== 'GET' || response.statusCode >= 400) {
        logger.debug('request', { method: request.method, path: request.url, code: response.statusCode, ms: Date.now() - started });
      }
    }
  };

  async function serve(request: IncomingMessage, response: ServerResponse, target: Route, query: URLSearchParams): Promise<void> {
    const method = request.method ?? 'GET';
    switch (target.type) {
      case 'version':
        return sendJson(response, 200, versionInfo(options.version));
      case 'healthz':
      case 'livez':
        return sendText(response, 200, 'ok');
      case 'readyz':
        return options.ready() ? sendText(response, 200, 'ok') : sendText(response, 503, 'not ready');
      case 'openapi-v2':
        // An empty protobuf document: kubectl's client-side validation finds no schema and passes (KUBECTL-PROTOCOL §4).
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' });
        response.end();
        return;
      case 'openapi-v3':
      case 'not-found':
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      case 'api-versions':
        return sendJson(response, 200, apiVersions(request.headers.host ?? '127.0.0.1'));
      case 'api-groups':
        return sendJson(response, 200, apiGroupList());
      case 'api-group': {
        const document = apiGroup(target.group);
        if (!document) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        return sendJson(response, 200, document);
      }
      case 'resource-list': {
        const document = apiResourceList(target.group, target.version);
        if (!document) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        return sendJson(response, 200, document);
      }
      case 'resource':
        return serveResource(request, response, method, target, query);
    }
  }

  async function serveResource(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    target: Extract<Route, { type: 'resource' }>,
    query: URLSearchParams,
  ): Promise<void> {
    const { info, namespace, name, subresource } = target;
    const dryRun = query.getAll('dryRun').length > 0 ? { dryRun: true } : {};
    const table = tableRequest(request, query);
    if (name === undefined) {
      const listOptions = listOptionsFromQuery(query);
      if (method === 'GET' && (target.watch || isTrue(query.get('watch')))) {
        return options.watches.serve(request, response, info, namespace, { ...listOptions, ...(table ? { table } : {}) });
      }
      if (method === 'GET') return sendObject(response, 200, await api.list(info, namespace, listOptions), info, table);
      // The all-namespaces path of a namespaced kind is for reading only, as in Kubernetes.
      if (info.namespaced && namespace === undefined) throw methodNotAllowed(method);
      if (method === 'POST') return sendJson(response, 201, await api.create(info, namespace, await readJsonBody(request), dryRun));
      if (method === 'DELETE') {
        const deleteOptions = parseDeleteOptions(await readOptionalJson(request), query);
        return sendJson(response, 200, await api.deleteCollection(info, namespace, listOptions, { ...deleteOptions, ...dryRun }));
      }
      throw methodNotAllowed(method);
    }
    if (target.watch) {
      const listOptions = listOptionsFromQuery(query);
      const fieldSelector = [`metadata.name=${name}`, listOptions.fieldSelector].filter(Boolean).join(',');
      return options.watches.serve(request, response, info, namespace, { ...listOptions, fieldSelector, ...(table ? { table } : {}) });
    }
    if (subresource !== undefined) return serveSubresource(request, response, method, target, name, subresource, query);
    switch (method) {
      case 'GET':
        return sendObject(response, 200, await api.get(info, namespace, name), info, table);
      case 'PUT':
        return sendJson(response, 200, await api.update(info, namespace, name, await readJsonBody(request), dryRun));
      case 'PATCH':
        return sendJson(response, 200, await api.patch(info, namespace, name, mediaType(request), await readJsonBody(request), dryRun));
      case 'DELETE': {
        const deleteOptions = parseDeleteOptions(await readOptionalJson(request), query);
        return sendJson(response, 200, await api.delete(info, namespace, name, { ...deleteOptions, ...dryRun }));
      }
      default:
        throw methodNotAllowed(method);
    }
  }

  async function serveSubresource(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    target: Extract<Route, { type: 'resource' }>,
    name: string,
    subresource: string,
    query: URLSearchParams,
  ): Promise<void> {
    const { info, namespace } = target;
    const dryRun = query.getAll('dryRun').length > 0 ? { dryRun: true } : {};
    if (!(info.subresources as readonly string[]).includes(subresource)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (subresource === 'status') {
      if (method === 'GET') return sendJson(response, 200, await api.get(info, namespace, name));
      if (method === 'PUT') return sendJson(response, 200, await api.update(info, namespace, name, await readJsonBody(request), { ...dryRun, subresource: 'status' }));
      if (method === 'PATCH') {
        return sendJson(response, 200, await api.patch(info, namespace, name, mediaType(request), await readJsonBody(request), { ...dryRun, subresource: 'status' }));
      }
      throw methodNotAllowed(method);
    }
    if (subresource === 'scale') {
      if (method === 'GET') return sendJson(response, 200, scaleOf(await api.get(info, namespace, name)));
      if (method === 'PUT') return sendJson(response, 200, await updateScale(api, info, namespace, name, { body: await readJsonBody(request) }, dryRun));
      if (method === 'PATCH') {
        const change = { contentType: mediaType(request), patch: await readJsonBody(request) };
        return sendJson(response, 200, await updateScale(api, info, namespace, name, change, dryRun));
      }
      throw methodNotAllowed(method);
    }
    if (subresource === 'binding' && method === 'POST') {
      await bindPod(api, info, namespace, name, await readJsonBody(request), dryRun);
      return sendJson(response, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource === 'eviction' && method === 'POST') {
      await evictPod(api, info, namespace, name, await readJsonBody(request), dryRun);
      return sendJson(response, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource === 'log' || subresource === 'exec') {
      const pod = await api.get(info, namespace, name);
      if (options.nodeProxy === undefined) throw new ApiError(503, 'ServiceUnavailable', `pods/${subresource} needs the node proxy, which this server does not run`);
      if (subresource === 'log' && method !== 'GET') throw methodNotAllowed(method);
      if (subresource === 'exec' && method !== 'POST' && method !== 'GET') throw methodNotAllowed(method);
      const forwarded = new URLSearchParams(query);
      const container = forwarded.get('container') ?? '';
      forwarded.delete('container');
      const path = `/${subresource === 'log' ? 'containerLogs' : 'exec'}/${encodeURIComponent(namespace ?? 'default')}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
      return options.nodeProxy.toPod(request, response, pod, path, forwarded);
    }
    throw methodNotAllowed(method);
  }
}

/** DeleteOptions bodies are optional; clients that send them may omit the Content-Type. */
async function readOptionalJson(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  return body.length === 0 ? undefined : parseJson(body);
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` asks for a Table (KUBECTL-PROTOCOL §6). */
function tableRequest(request: IncomingMessage, query: URLSearchParams): { includeObject: IncludeObject } | undefined {
  const accept = request.headers.accept ?? '';
  if (!/;\s*as=Table/.test(accept)) return undefined;
  const include = query.get('includeObject');
  const includeObject: IncludeObject = include === 'Object' || include === 'None' ? include : 'Metadata';
  return { includeObject };
}

function sendObject(response: ServerResponse, code: number, value: KubeObject | KubeList, info: ResourceInfo, table: { includeObject: IncludeObject } | undefined): void {
  if (!table) return sendJson(response, code, value);
  const objects = Array.isArray(value.items) ? (value as KubeList).items : [value as KubeObject];
  const rendered = toTable(info, objects, { includeObject: table.includeObject, resourceVersion: value.metadata.resourceVersion });
  // kubectl pages with limit=500 and follows `continue`: a Table without it would silently stop at 500.
  const next = (value as KubeList).metadata.continue;
  if (next) rendered.metadata.continue = next;
  sendJson(response, code, rendered);
}

export function sendJson(response: ServerResponse, code: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function sendText(response: ServerResponse, code: number, text: string): void {
  response.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: unknown, logger: Logger, request: IncomingMessage): void {
  const apiError = error instanceof ApiError ? error : internalError(`an internal error occurred: ${(error as Error)?.message ?? String(error)}`);
  if (!(error instanceof ApiError)) logger.error('request failed', { method: request.method, path: request.url, error });
  if (response.headersSent) {
    // A stream already under way (a watch) cannot change its status; end it.
    response.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (apiError.details?.retryAfterSeconds !== undefined) headers['retry-after'] = String(apiError.details.retryAfterSeconds);
  if (apiError.code === 401) headers['www-authenticate'] = 'Bearer realm="pm8s"';
  const body = JSON.stringify(apiError.toStatus());
  response.writeHead(apiError.code, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
