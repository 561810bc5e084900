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
import { serializedEvent, watchObjects } from './object-watch.js';

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
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** setTimeout cannot wait longer than about 24.8 days; no watch needs more than a day. */
const MAX_TIMEOUT_SECONDS = 86_400;

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
      // The initial ADDED replay is already in memory (it comes from one list), so it is not capped;
      // after it, a watcher that stops reading is cut off rather than buffered without bound.
      let replaying = true;
      const table = watchOptions.table;
      const form = table ? `table/${table.includeObject}` : 'json';
      const render = (event: WatchEvent): unknown =>
        table
          ? { type: event.type, object: toTable(info, [event.object], { includeObject: table.includeObject, resourceVersion: event.object.metadata.resourceVersion }) }
          : event;
      let corked = false;
      const writeLine = (line: string) => {
        if (closed) return;
        // Events of one group commit arrive together: send them as one TLS record, not one each.
        if (!corked) {
          corked = true;
          response.cork();
          setImmediate(() => {
            corked = false;
            if (!response.destroyed) response.uncork();
          });
        }
        response.write(line);
        if (!replaying && response.writableLength > MAX_BUFFERED_BYTES) {
          // destroy, not end: end() would keep the whole backlog in memory until the client reads it.
          response.destroy();
          close();
        }
      };
      const write = (event: WatchEvent) => writeLine(serializedEvent(event, form, render));
      const writeControl = (event: Record<string, unknown>) => writeLine(`${JSON.stringify(event)}\n`);
      try {
        watch = await watchObjects(engine, info, namespace, watchOptions, write, close);
        replaying = false;
      } catch (error) {
        if (error instanceof ApiError) {
          writeControl({ type: 'ERROR', object: error.toStatus() });
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
          writeControl({ type: 'BOOKMARK', object: { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(watch.revision) } } });
        } else if (!closed) {
          response.write('\n');
        }
      }, heartbeatMs);
      timers.push(heartbeat);
      if (watchOptions.timeoutSeconds !== undefined && watchOptions.timeoutSeconds > 0) {
        timers.push(setTimeout(close, Math.min(watchOptions.timeoutSeconds, MAX_TIMEOUT_SECONDS) * 1000));
      }
    },
  };
}
