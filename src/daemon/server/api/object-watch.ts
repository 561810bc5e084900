/** Watch on objects: store events turned into Kubernetes watch events, filtered by selectors. */
import { ApiError, badRequest, gone } from '../../../api/errors.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject, WatchEvent } from '../../../api/types.js';
import type { Engine, StoreEvent, Watcher } from '../store/engine.js';
import { StoreError } from '../store/engine.js';
import type { WatchOptions } from './list-options.js';
import { MATCH_ALL, matcherFor } from './list-options.js';
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
    // A revision this store never reached (a client from before a restore): following from it would
    // skip events, so refuse and let the client re-list, as Kubernetes does.
    const current = await engine.currentRevision();
    if (revision > current) throw new ApiError(504, 'Timeout', `Too large resource version: ${revision}, current: ${current}`);
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

/**
 * Each store event is decoded once, however many watchers receive it: watchers share the decoded
 * object (read-only) and, through `serializedEvent`, its serialized line.
 */
const decodedEvents = new WeakMap<StoreEvent, { object: KubeObject; previous?: KubeObject }>();

function decodedOf(event: StoreEvent): { object: KubeObject; previous?: KubeObject } {
  let decoded = decodedEvents.get(event);
  if (!decoded) {
    decoded = { object: decode({ key: event.key, value: event.value, revision: event.revision, createRevision: 0 }) };
    decodedEvents.set(event, decoded);
  }
  return decoded;
}

function previousOf(event: StoreEvent, decoded: { object: KubeObject; previous?: KubeObject }): KubeObject | undefined {
  if (event.prevValue === undefined) return undefined;
  decoded.previous ??= JSON.parse(event.prevValue) as KubeObject;
  return decoded.previous;
}

/** An update that moves an object into or out of the selection is ADDED or DELETED for this watcher. */
function convert(event: StoreEvent, matches: (object: KubeObject) => boolean): WatchEvent | undefined {
  const decoded = decodedOf(event);
  const { object } = decoded;
  if (event.type === 'create') return matches(object) ? { type: 'ADDED', object } : undefined;
  if (event.type === 'delete') return matches(object) ? { type: 'DELETED', object } : undefined;
  if (matches === MATCH_ALL) return { type: 'MODIFIED', object };
  const now = matches(object);
  const previous = previousOf(event, decoded);
  const before = previous === undefined ? now : matches(previous);
  if (now && before) return { type: 'MODIFIED', object };
  if (now) return { type: 'ADDED', object };
  if (before) return { type: 'DELETED', object };
  return undefined;
}

const serialized = new WeakMap<KubeObject, Map<string, string>>();

/**
 * The wire line of a watch event, built once per (object, event type, form) and shared by every
 * watcher that sends the same thing. `form` names the rendering (plain JSON, or a Table variant).
 */
export function serializedEvent(event: WatchEvent, form: string, render: (event: WatchEvent) => unknown): string {
  let forms = serialized.get(event.object);
  if (!forms) serialized.set(event.object, (forms = new Map()));
  const key = `${event.type}/${form}`;
  let line = forms.get(key);
  if (line === undefined) {
    line = `${JSON.stringify(render(event))}\n`;
    forms.set(key, line);
  }
  return line;
}
