/**
 * The one client interface every component uses: the CLI and agents over HTTP, the scheduler and
 * controllers in-process. Failures are `ApiError`s carrying the server's Status.
 */
import type { ResourceInfo } from '../api/resources.js';
import type { KubeList, KubeObject, WatchEvent } from '../api/types.js';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  /** Events after this revision; without it, ADDED for every current object first. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface DeleteQuery {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface WriteQuery {
  dryRun?: boolean;
  fieldManager?: string;
}

export type PatchType = 'application/merge-patch+json' | 'application/json-patch+json' | 'application/strategic-merge-patch+json';

/** A running watch: events arrive through the callback; `done` settles when the stream ends (error = why). */
export interface WatchHandle {
  stop(): void;
  readonly done: Promise<void>;
}

export interface ApiClient {
  get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject>;
  list(info: ResourceInfo, namespace: string | undefined, query?: ListQuery): Promise<KubeList>;
  create(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query?: WriteQuery): Promise<KubeObject>;
  update(info: ResourceInfo, namespace: string | undefined, object: KubeObject, query?: WriteQuery & { subresource?: 'status' }): Promise<KubeObject>;
  patch(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    query?: WriteQuery & { subresource?: 'status' | 'scale' },
  ): Promise<KubeObject>;
  delete(info: ResourceInfo, namespace: string | undefined, name: string, query?: DeleteQuery & WriteQuery): Promise<KubeObject>;
  /** The scheduler's `pods/binding`: sets `spec.nodeName` once; a pod bound elsewhere is 409. */
  bind(info: ResourceInfo, namespace: string | undefined, name: string, nodeName: string, query?: WriteQuery & { uid?: string }): Promise<void>;
  /** Calls `onEvent` for each event (ERROR events included, as sent); `done` rejects on transport failure. */
  watch(info: ResourceInfo, namespace: string | undefined, query: WatchQuery, onEvent: (event: WatchEvent) => void): Promise<WatchHandle>;
}
