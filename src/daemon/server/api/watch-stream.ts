/** Serves a watch over HTTP: newline-delimited JSON events, heartbeats, timeouts and clean shutdown. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../../api/errors.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { apiVersionOf } from '../../../api/resources.js';
import type { IncludeObject } from '../../../api/tables/index.js';
import { toTable } from '../../../api/tables/index.js';
import type { WatchEvent } from '../../../api/types.js';
import type { Engine } from '../store/engine.js';
import type { WatchOptions } from './list-options.js';
import { watchObjects } from './object-watch.js';

export interface WatchStreamOptions extends WatchOptions {
  timeoutSeconds?: number;
  table?: { includeObject: IncludeObject };
}

export interface WatchStreams {
  serve(request: IncomingMessage, response: ServerResponse, info: ResourceInfo, namespace: string | undefined, options: WatchStreamOptions): Promise<void>;
  /** Ends every open watch (server shutdown); clients see a clean end of stream and re-watch. */
  closeAll(): void;
  readonly size: number;
}

/** A watcher further behind than this is cut off; the client re-watches from its last revision. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

export function createWatchStreams(engine: Engine, options: { heartbeatMs?: number } = {}): WatchStreams {
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const open = new Set<() => void>();

  return {
    get size() {
      return open.size;
    },
    closeAll() {
      for (const close of [...open]) close();
    },
    async serve(request, response, info, namespace, watchOptions) {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
      response.flushHeaders();
      let closed = false;
      const timers: NodeJS.Timeout[] = [];
      let watch: { close(): void; readonly revision: number } | undefined;
      const close = () => {
        if (closed) return;
        closed = true;
        open.delete(close);
        for (const timer of timers) clearTimeout(timer);
        watch?.close();
        if (!response.writableEnded) response.end();
      };
      open.add(close);
      request.on('close', close);
      response.on('close', close);
      response.on('error', close);
      const write = (event: WatchEvent | Record<string, unknown>) => {
        if (closed) return;
        response.write(`${JSON.stringify(wrap(event))}\n`);
        if (response.writableLength > MAX_BUFFERED_BYTES) close();
      };
      const wrap = (event: WatchEvent | Record<string, unknown>) => {
        const table = watchOptions.table;
        if (!table || event.type === 'ERROR' || event.type === 'BOOKMARK') return event;
        const object = (event as WatchEvent).object;
        return { type: event.type, object: toTable(info, [object], { includeObject: table.includeObject, resourceVersion: object.metadata.resourceVersion }) };
      };
      try {
        watch = await watchObjects(engine, info, namespace, watchOptions, write, close);
      } catch (error) {
        if (error instanceof ApiError) {
          write({ type: 'ERROR', object: error.toStatus() });
          close();
          return;
        }
        close();
        throw error;
      }
      if (closed) {
        watch.close();
        return;
      }
      const heartbeat = setInterval(() => {
        if (watchOptions.allowWatchBookmarks && watch) {
          write({ type: 'BOOKMARK', object: { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(watch.revision) } } });
        } else if (!closed) {
          response.write('\n');
        }
      }, heartbeatMs);
      timers.push(heartbeat);
      if (watchOptions.timeoutSeconds !== undefined && watchOptions.timeoutSeconds > 0) {
        timers.push(setTimeout(close, watchOptions.timeoutSeconds * 1000));
      }
    },
  };
}
