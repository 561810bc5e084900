/** Watch on objects: store events turned into Kubernetes watch events, filtered by selectors. */
import { badRequest, gone } from '../../../api/errors.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject, WatchEvent } from '../../../api/types.js';
import type { Engine, StoreEvent, Watcher } from '../store/engine.js';
import { StoreError } from '../store/engine.js';
import type { WatchOptions } from './list-options.js';
import { matcherFor } from './list-options.js';
import { decode } from './object-codec.js';
import { storagePrefix } from './storage-key.js';

export interface ObjectWatch {
  /** The revision of the newest event sent (or the start revision): what a BOOKMARK reports. */
  readonly revision: number;
  close(): void;
}

/**
 * Starts a watch. Without a resourceVersion (or "0") it first sends ADDED for every current match,
 * as Kubernetes does; with one it sends exactly the events after it. A compacted one fails 410.
 */
export async function watchObjects(
  engine: Engine,
  info: ResourceInfo,
  namespace: string | undefined,
  options: WatchOptions,
  send: (event: WatchEvent) => void,
  /** Called when the store closes under the watch (server shutdown). */
  onClosed?: () => void,
): Promise<ObjectWatch> {
  const matches = matcherFor(options);
  const prefix = storagePrefix(info, namespace);
  let revision: number;
  const asked = options.resourceVersion;
  if (asked === undefined || asked === '' || asked === '0') {
    const list = await engine.list(prefix);
    for (const record of list.items) {
      const object = decode(record);
      if (matches(object)) send({ type: 'ADDED', object });
    }
    revision = list.revision;
  } else {
    revision = Number(asked);
    if (!Number.isSafeInteger(revision) || revision < 0) throw badRequest(`invalid resourceVersion ${JSON.stringify(asked)}`);
  }
  let watcher: Watcher;
  try {
    watcher = await engine.watch(prefix, revision, (event) => {
      revision = event.revision;
      const converted = convert(event, matches);
      if (converted) send(converted);
    }, onClosed);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'too-old') throw gone(`too old resource version: ${asked ?? revision} (${error.message})`);
    throw error;
  }
  return {
    get revision() {
      return Math.max(revision, watcher.progressRevision());
    },
    close: () => watcher.close(),
  };
}

/** An update that moves an object into or out of the selection is ADDED or DELETED for this watcher. */
function convert(event: StoreEvent, matches: (object: KubeObject) => boolean): WatchEvent | undefined {
  const object = decode({ key: event.key, value: event.value, revision: event.revision, createRevision: 0 });
  if (event.type === 'create') return matches(object) ? { type: 'ADDED', object } : undefined;
  if (event.type === 'delete') return matches(object) ? { type: 'DELETED', object } : undefined;
  const now = matches(object);
  const before = event.prevValue === undefined ? now : matches(JSON.parse(event.prevValue) as KubeObject);
  if (now && before) return { type: 'MODIFIED', object };
  if (now) return { type: 'ADDED', object };
  if (before) return { type: 'DELETED', object };
  return undefined;
}
