/**
 * The API client for code running inside `pm8s server` (scheduler, controllers): it calls the same
 * ObjectApi handlers the HTTP layer calls, so validation, defaulting and admission apply alike.
 */
import { ApiError, badRequest } from '../api/errors.js';
import type { ResourceInfo } from '../api/resources.js';
import { apiVersionOf } from '../api/resources.js';
import type { KubeList, KubeObject, WatchEvent } from '../api/types.js';
import type { ObjectApi } from '../daemon/server/api/object-api.js';
import type { ObjectWatch } from '../daemon/server/api/object-watch.js';
import { watchObjects } from '../daemon/server/api/object-watch.js';
import { bindPod, updateScale } from '../daemon/server/api/subresources.js';
import type { ApiClient, DeleteQuery, ListQuery, PatchType, WatchHandle, WatchQuery, WriteQuery } from './api-client.js';

export interface InProcessClientOptions {
  /** How often a watch with `allowWatchBookmarks` gets a BOOKMARK (default 5 s, as the HTTP server). */
  bookmarkIntervalMs?: number;
}

export class InProcessClient implements ApiClient {
  readonly #api: ObjectApi;
  readonly #bookmarkIntervalMs: number;

  constructor(api: ObjectApi, options: InProcessClientOptions = {}) {
    this.#api = api;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 5000;
  }

  get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.#api.get(info, scopeOf(info, namespace), name);
  }

  list(info: ResourceInfo, namespace: string | undefined, query: ListQuery = {}): Promise<KubeList> {
    return this.#api.list(info, namespace, query);
  }

  create(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query: WriteQuery = {}): Promise<KubeObject> {
    return this.#api.create(info, namespace, object, writeOptions(query));
  }

  async update(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query: WriteQuery & { subresource?: 'status' } = {}): Promise<KubeObject> {
    checkSubresource(info, query.subresource);
    const name = object.metadata.name;
    if (!name) throw badRequest('an update needs metadata.name');
    const options = query.subresource === undefined ? writeOptions(query) : { ...writeOptions(query), subresource: query.subresource };
    return this.#api.update(info, scopeOf(info, namespace ?? object.metadata.namespace), name, object, options);
  }

  async patch(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    query: WriteQuery & { subresource?: 'status' | 'scale' } = {},
  ): Promise<KubeObject> {
    checkSubresource(info, query.subresource);
    if (query.subresource === 'scale') {
      // A Scale is an autoscaling/v1 object, not one of the registry's kinds, but has the KubeObject shape.
      const scale = await updateScale(this.#api, info, scopeOf(info, namespace), name, { contentType: type, patch }, writeOptions(query));
      return scale as unknown as KubeObject;
    }
    const options = query.subresource === 'status' ? { ...writeOptions(query), subresource: 'status' as const } : writeOptions(query);
    return this.#api.patch(info, scopeOf(info, namespace), name, type, patch, options);
  }

  delete(info: ResourceInfo, namespace: string | undefined, name: string, query: DeleteQuery & WriteQuery = {}): Promise<KubeObject> {
    const { fieldManager: _fieldManager, ...options } = query;
    return this.#api.delete(info, scopeOf(info, namespace), name, options);
  }

  /** The scheduler's `pods/binding` POST. */
  async bind(info: ResourceInfo, namespace: string | undefined, name: string, nodeName: string, query: WriteQuery & { uid?: string } = {}): Promise<void> {
    checkSubresource(info, 'binding');
    const scope = scopeOf(info, namespace);
    await bindPod(this.#api, info, scope, name, bindingOf(scope, name, nodeName, query.uid), writeOptions(query));
  }

  /**
   * Events reach `onEvent` from a queue drained on a later tick, never from inside the store's
   * write, so a slow or re-entrant consumer cannot stall or reorder writers. A start that fails
   * with an ApiError (410 for a compacted revision) arrives as an ERROR event, as over HTTP.
   */
  async watch(info: ResourceInfo, namespace: string | undefined, query: WatchQuery, onEvent: (event: WatchEvent) => void): Promise<WatchHandle> {
    const queue: WatchEvent[] = [];
    let draining = false;
    let stopped = false;
    let objectWatch: ObjectWatch | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let settle!: { resolve: () => void; reject: (error: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

    const finish = (error?: unknown) => {
      if (stopped) return;
      stopped = true;
      clearTimeout(bookmarkTimer);
      clearTimeout(timeoutTimer);
      objectWatch?.close();
      queue.length = 0;
      if (error === undefined) settle.resolve();
      else settle.reject(error);
    };
    const drain = () => {
      draining = false;
      for (let event = queue.shift(); event && !stopped; event = queue.shift()) {
        try {
          onEvent(event);
        } catch (error) {
          // The consumer's failure ends this watch; its owner learns why through `done`.
          finish(error);
        }
      }
    };
    const send = (event: WatchEvent) => {
      if (stopped) return;
      queue.push(event);
      if (draining) return;
      draining = true;
      setImmediate(drain);
    };
    const handle: WatchHandle = { stop: () => finish(), done };

    try {
      // The store closing ends the watch after what is already queued, as a server shutdown ends a stream.
      objectWatch = await watchObjects(this.#api.engine, info, namespace, query, send, () => setImmediate(() => finish()));
      // Stopped while the watch was starting: nothing will close it later.
      if (stopped) objectWatch.close();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      send({ type: 'ERROR', object: error.toStatus() as unknown as KubeObject });
      // The ERROR event is delivered before `done` settles, as an HTTP stream ends after its last line.
      setImmediate(() => finish());
      return handle;
    }
    if (query.allowWatchBookmarks) {
      const bookmark = () => {
        if (stopped || !objectWatch) return;
        send({ type: 'BOOKMARK', object: { apiVersion: apiVersionOf(info), kind: info.kind, metadata: { resourceVersion: String(objectWatch.revision) } } });
        bookmarkTimer = setTimeout(bookmark, this.#bookmarkIntervalMs);
      };
      bookmarkTimer = setTimeout(bookmark, this.#bookmarkIntervalMs);
    }
    if (query.timeoutSeconds !== undefined && query.timeoutSeconds > 0) {
      // Ends after what is already queued, like the server closing a stream at its timeout.
      // setTimeout overflows past ~24.8 days; no watch needs more than a day.
      timeoutTimer = setTimeout(() => setImmediate(() => finish()), Math.min(query.timeoutSeconds, 86_400) * 1000);
    }
    return handle;
  }
}

export function bindingOf(namespace: string | undefined, name: string, nodeName: string, uid?: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, ...(uid ? { uid } : {}) }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
}

/** One object of a namespaced kind always lives in a namespace: `default` when none is named, as over HTTP with a default context. */
function scopeOf(info: ResourceInfo, namespace: string | undefined): string | undefined {
  return info.namespaced ? (namespace ?? 'default') : undefined;
}

function writeOptions(query: WriteQuery): { dryRun?: boolean } {
  return query.dryRun ? { dryRun: true } : {};
}

function checkSubresource(info: ResourceInfo, subresource: string | undefined): void {
  if (subresource !== undefined && !(info.subresources as readonly string[]).includes(subresource)) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
}
