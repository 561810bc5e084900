/**
 * The ApiClient over HTTP(S), as the CLI and agents use it: one keep-alive agent per client with
 * the cluster CA pinned, Status bodies turned back into ApiErrors, newline-delimited JSON watches.
 */
import http from 'node:http';
import https from 'node:https';
import type { ResourceInfo } from '../api/resources.js';
import type { Table } from '../api/tables/index.js';
import type { KubeList, KubeObject, WatchEvent } from '../api/types.js';
import { isRecord } from '../api/types.js';
import type { ApiClient, DeleteQuery, ListQuery, PatchType, WatchHandle, WatchQuery, WriteQuery } from './api-client.js';
import { apiErrorFromResponse, ConnectionError } from './http-errors.js';
import { defaultKubeconfigPath, loadKubeconfig, resolveContextWithFiles } from './kubeconfig.js';
import { bindingOf } from './in-process-client.js';

/** A watch that hears nothing (not even a keep-alive) for this long is cut and must be restarted. */
const WATCH_IDLE_TIMEOUT_MS = 30_000;

export { ConnectionError, type ConnectionErrorCode } from './http-errors.js';

export interface HttpClientOptions {
  server: string;
  token?: string;
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  /** The context's default namespace. */
  namespace?: string;
  /** Milliseconds before a non-watch request is abandoned (default 30 s). */
  requestTimeoutMs?: number;
}

export interface WatchOptions {
  /** Ask for each event's object as a one-row Table (`get -w`). */
  table?: boolean;
}

/** kubectl's Accept for tables (KUBECTL-PROTOCOL §6); plain JSON last so any server answers. */
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

const USER_AGENT = 'pm8s-client';
const DEFAULT_TIMEOUT_MS = 30_000;

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export class HttpClient implements ApiClient {
  readonly server: string;
  readonly namespace: string;
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;

  constructor(options: HttpClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.#base = new URL(this.server);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') {
      throw new ConnectionError('ConnectionFailed', this.server, `unsupported protocol ${this.#base.protocol} (use https:// or http://)`);
    }
    this.namespace = options.namespace || 'default';
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#agent =
      this.#base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ...(options.caPem ? { ca: options.caPem } : {}),
            rejectUnauthorized: options.insecureSkipTlsVerify !== true,
          })
        : new http.Agent({ keepAlive: true });
  }

  /** A client for a kubeconfig context (default: $PM8S_CONFIG, ~/.pm8s/config; its current context). */
  static async fromKubeconfig(options: { kubeconfig?: string; context?: string } = {}): Promise<HttpClient> {
    const file = options.kubeconfig ?? defaultKubeconfigPath();
    const context = await resolveContextWithFiles(await loadKubeconfig(file), options.context, file);
    return new HttpClient({
      server: context.server,
      ...(context.token ? { token: context.token } : {}),
      ...(context.caPem ? { caPem: context.caPem } : {}),
      insecureSkipTlsVerify: context.insecureSkipTlsVerify,
      namespace: context.namespace,
    });
  }

  /** Drops pooled connections so a short-lived process can exit at once. */
  close(): void {
    this.#agent.destroy();
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    return (await this.#request('GET', this.#path(info, this.#objectNamespace(info, namespace), name))) as KubeObject;
  }

  async list(info: ResourceInfo, namespace: string | undefined, query: ListQuery = {}): Promise<KubeList> {
    return (await this.#request('GET', this.#path(info, namespace), { query: { ...query } })) as KubeList;
  }

  /** A list or a single object as the server's Table, as `kubectl get` asks for it. */
  async requestTable(info: ResourceInfo, namespace: string | undefined, name: string | undefined, query: ListQuery = {}): Promise<Table> {
    const where = name === undefined ? namespace : this.#objectNamespace(info, namespace);
    const result = await this.#request('GET', this.#path(info, where, name), { query: name === undefined ? { ...query } : {}, accept: TABLE_ACCEPT });
    if (!isRecord(result) || result.kind !== 'Table') {
      throw new ConnectionError('BadResponse', this.server, `asked for a Table of ${info.resource}, got ${isRecord(result) ? String(result.kind) : typeof result}`);
    }
    return result as unknown as Table;
  }

  async create(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query: WriteQuery = {}): Promise<KubeObject> {
    const where = this.#objectNamespace(info, namespace ?? object.metadata.namespace);
    return (await this.#request('POST', this.#path(info, where), { body: object, query: writeQuery(query) })) as KubeObject;
  }

  async update(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query: WriteQuery & { subresource?: 'status' } = {}): Promise<KubeObject> {
    const where = this.#objectNamespace(info, namespace ?? object.metadata.namespace);
    const name = object.metadata.name ?? '';
    return (await this.#request('PUT', this.#path(info, where, name, query.subresource), { body: object, query: writeQuery(query) })) as KubeObject;
  }

  async patch(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    query: WriteQuery & { subresource?: 'status' | 'scale' } = {},
  ): Promise<KubeObject> {
    const path = this.#path(info, this.#objectNamespace(info, namespace), name, query.subresource);
    return (await this.#request('PATCH', path, { body: patch, contentType: type, query: writeQuery(query) })) as KubeObject;
  }

  async bind(info: ResourceInfo, namespace: string | undefined, name: string, nodeName: string, query: WriteQuery & { uid?: string } = {}): Promise<void> {
    const path = this.#path(info, this.#objectNamespace(info, namespace), name, 'binding');
    const { uid, ...write } = query;
    await this.#request('POST', path, { body: bindingOf(namespace, name, nodeName, uid), query: writeQuery(write) });
  }

  /** `pods/eviction`: a policy/v1 Eviction, a graceful delete of the pod with these options (as `kubectl drain` sends it). */
  async evict(info: ResourceInfo, namespace: string | undefined, name: string, options: Pick<DeleteQuery, 'gracePeriodSeconds'> = {}, query: WriteQuery = {}): Promise<void> {
    const where = this.#objectNamespace(info, namespace);
    const deleteOptions = options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds };
    const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, ...(where ? { namespace: where } : {}) }, deleteOptions };
    await this.#request('POST', this.#path(info, where, name, 'eviction'), { body, query: writeQuery(query) });
  }

  async delete(info: ResourceInfo, namespace: string | undefined, name: string, query: DeleteQuery & WriteQuery = {}): Promise<KubeObject> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (query.propagationPolicy !== undefined) body.propagationPolicy = query.propagationPolicy;
    if (query.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = query.gracePeriodSeconds;
    if (query.preconditions !== undefined) body.preconditions = query.preconditions;
    const path = this.#path(info, this.#objectNamespace(info, namespace), name);
    return (await this.#request('DELETE', path, { body, query: writeQuery(query) })) as KubeObject;
  }

  watch(info: ResourceInfo, namespace: string | undefined, query: WatchQuery, onEvent: (event: WatchEvent) => void, options: WatchOptions = {}): Promise<WatchHandle> {
    return this.#watch(info, namespace, query, onEvent as (event: WatchEvent<unknown>) => void, options.table === true);
  }

  /** `get -w`: each event's object arrives as a one-row Table (ERROR events carry a Status). */
  watchTable(info: ResourceInfo, namespace: string | undefined, query: WatchQuery, onEvent: (event: WatchEvent<Table | KubeObject>) => void): Promise<WatchHandle> {
    return this.#watch(info, namespace, query, onEvent as (event: WatchEvent<unknown>) => void, true);
  }

  #watch(info: ResourceInfo, namespace: string | undefined, query: WatchQuery, onEvent: (event: WatchEvent<unknown>) => void, table: boolean): Promise<WatchHandle> {
    const url = this.#url(this.#path(info, namespace), { ...query, watch: true });
    return new Promise<WatchHandle>((resolve, reject) => {
      let stopped = false;
      let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
      const done = new Promise<void>((resolveDone, rejectDone) => {
        settle = { resolve: resolveDone, reject: rejectDone };
      });
      // A caller that never awaits `done` must not see an unhandled rejection.
      done.catch(() => undefined);
      const request = this.#send('GET', url, { accept: table ? TABLE_ACCEPT : 'application/json' }, undefined);
      // The server sends a keep-alive every 5 s: silence for much longer means a half-open connection.
      request.setTimeout(WATCH_IDLE_TIMEOUT_MS, () => {
        request.destroy(new ConnectionError('Timeout', this.server, `the watch was silent for ${WATCH_IDLE_TIMEOUT_MS / 1000}s`));
      });
      request.on('error', (error) => {
        if (stopped) return settle?.resolve();
        const failure = this.#connectionError(error);
        reject(failure);
        settle?.reject(failure);
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          readAll(response).then((text) => reject(apiErrorFromResponse(status, text)), reject);
          return;
        }
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            // Blank lines are the server's keep-alives.
            if (line === '' || stopped) continue;
            let event: unknown;
            try {
              event = JSON.parse(line);
            } catch {
              request.destroy(new ConnectionError('BadResponse', this.server, `a watch sent a line that is not JSON: ${line.slice(0, 200)}`));
              return;
            }
            if (!isRecord(event) || typeof event.type !== 'string') continue;
            try {
              onEvent(event as unknown as WatchEvent<unknown>);
            } catch (error) {
              // The consumer's failure ends this watch, and its owner learns why through `done`.
              stopped = true;
              request.destroy();
              settle?.reject(error);
              return;
            }
          }
        });
        response.on('end', () => settle?.resolve());
        response.on('error', (error) => (stopped ? settle?.resolve() : settle?.reject(this.#connectionError(error))));
        response.on('aborted', () => (stopped ? settle?.resolve() : settle?.reject(new ConnectionError('ConnectionFailed', this.server, 'the watch connection was cut'))));
        resolve({
          stop: () => {
            stopped = true;
            request.destroy();
            settle?.resolve();
          },
          done,
        });
      });
      request.end();
    });
  }

  /**
   * A raw streaming request (pods/log, pods/exec): resolves with the response once it is 2xx, its
   * body left for the caller; a 4xx/5xx rejects with the server's Status. Repeated query keys are
   * passed as arrays (exec's `command`).
   */
  stream(method: 'GET' | 'POST', path: string, query: Record<string, string | string[] | undefined> = {}): Promise<{ response: http.IncomingMessage; cancel: () => void }> {
    const url = this.#url(path, {});
    for (const [key, value] of Object.entries(query)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) url.searchParams.append(key, item);
    }
    return new Promise((resolve, reject) => {
      const request = this.#send(method, url, { accept: '*/*' }, undefined);
      request.on('error', (error) => reject(this.#connectionError(error)));
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          readAll(response).then((text) => reject(apiErrorFromResponse(status, text)), reject);
          return;
        }
        resolve({ response, cancel: () => request.destroy() });
      });
      request.end();
    });
  }

  async #request(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const url = this.#url(path, options.query ?? {});
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return new Promise<unknown>((resolve, reject) => {
      const request = this.#send(method, url, { accept: options.accept ?? 'application/json', contentType: options.contentType ?? 'application/json' }, body);
      const timer = setTimeout(() => {
        request.destroy(new ConnectionError('Timeout', this.server, `${method} ${path} timed out after ${this.#timeoutMs / 1000}s`));
      }, this.#timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(this.#connectionError(error));
      });
      request.on('response', (response) => {
        readAll(response).then(
          (text) => {
            clearTimeout(timer);
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300) return reject(apiErrorFromResponse(status, text));
            try {
              resolve(text === '' ? {} : JSON.parse(text));
            } catch {
              reject(new ConnectionError('BadResponse', this.server, `${method} ${path} answered with a body that is not JSON`));
            }
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(this.#connectionError(error));
          },
        );
      });
      request.end(body);
    });
  }

  #send(method: string, url: URL, headers: { accept: string; contentType?: string }, body: string | undefined): http.ClientRequest {
    const requestHeaders: http.OutgoingHttpHeaders = { accept: headers.accept, 'user-agent': USER_AGENT };
    if (this.#token !== undefined) requestHeaders.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) {
      requestHeaders['content-type'] = headers.contentType ?? 'application/json';
      requestHeaders['content-length'] = Buffer.byteLength(body);
    }
    const transport = url.protocol === 'https:' ? https : http;
    return transport.request(url, { method, agent: this.#agent, headers: requestHeaders });
  }

  #connectionError(error: unknown): ConnectionError {
    if (error instanceof ConnectionError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new ConnectionError('ConnectionFailed', this.server, detail, { cause: error });
  }

  /** Namespaced objects always live in a namespace: the context's when none is given. */
  #objectNamespace(info: ResourceInfo, namespace: string | undefined): string | undefined {
    return info.namespaced ? (namespace ?? this.namespace) : undefined;
  }

  #path(info: ResourceInfo, namespace: string | undefined, name?: string, subresource?: string): string {
    const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const scope = info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const object = name === undefined ? '' : `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
    return `${base}${scope}/${info.resource}${object}`;
  }

  #url(path: string, query: Query): URL {
    const url = new URL(path, `${this.server}/`);
    url.pathname = `${this.#base.pathname.replace(/\/$/, '')}${path}`;
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    return url;
  }
}

function writeQuery(query: WriteQuery): Query {
  return { ...(query.dryRun ? { dryRun: 'All' } : {}), ...(query.fieldManager ? { fieldManager: query.fieldManager } : {}) };
}

function readAll(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('the server closed the connection mid-response')));
  });
}
