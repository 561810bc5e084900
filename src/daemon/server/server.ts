/** The composition root of `pm8s server`: store, API, TLS, tokens, HTTP(S) listener, housekeeping. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { buildKubeconfig, loadKubeconfig, setServer, writeKubeconfig } from '../../client/kubeconfig.js';
import type { Logger } from '../../lib/logger.js';
import { createHttpApi } from './api/http-api.js';
import { createNodeProxy, type NodeProxy } from './api/node-proxy.js';
import { ObjectApi } from './api/object-api.js';
import { ensureServerCertificates } from './api/tls.js';
import { TokenStore } from './api/tokens.js';
import { createWatchStreams } from './api/watch-stream.js';
import { InProcessClient } from '../../client/in-process-client.js';
import type { ControllerConfig } from './controllers/controller.js';
import { DEFAULT_CONTROLLER_CONFIG } from './controllers/controller.js';
import { createControllers } from './controllers/index.js';
import type { ControllerManager } from './controllers/manager.js';
import { startControllers } from './controllers/manager.js';
import { openDatastore } from './datastore.js';
import type { Engine } from './store/engine.js';

export interface ServerOptions {
  dataDir: string;
  /** host:port; port 0 picks a free one. */
  listen: string;
  datastore?: string;
  tlsSans?: string[];
  /** Plain http: kubectl then sends no token, so only for loopback experiments. */
  insecureHttp?: boolean;
  logger: Logger;
  version: string;
  /** Housekeeping timers, tunable so tests run in seconds. */
  compactIntervalMs?: number;
  compactRetainRevisions?: number;
  expireIntervalMs?: number;
  eventTtlSeconds?: number;
  watchHeartbeatMs?: number;
  /** The scheduler and controllers, with their timers; `false` serves the API alone. */
  controllers?: false | Partial<ControllerConfig>;
}

export interface RunningServer {
  /** e.g. https://127.0.0.1:6443 */
  url: string;
  port: number;
  kubeconfigPath: string;
  engine: Engine;
  api: ObjectApi;
  /** Resolves when the scheduler and controllers run (absent when they are off). */
  controllersStarted?: Promise<void>;
  /** Whether an Authorization header carries a token this server accepts (node APIs ask it). */
  authenticate(header: string | undefined): boolean;
  nodeProxy: NodeProxy;
  /** Stops accepting, ends watches, lets in-flight requests finish, closes the store. */
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const engine = openDatastore(options.datastore ?? 'sqlite://state.db', options.dataDir);
  if ('pragmas' in engine && typeof engine.pragmas === 'function') logger.info('store opened', { engine: engine.name, pragmas: engine.pragmas() });
  let lastStoreFailure = 0;
  const api = new ObjectApi(engine, {
    ...(options.eventTtlSeconds === undefined ? {} : { eventTtlSeconds: options.eventTtlSeconds }),
    // Admission applies whether or not this server runs the controllers (Kubernetes: the API server's plugin).
    defaultTolerationSeconds: (options.controllers || {}).defaultTolerationSeconds ?? DEFAULT_CONTROLLER_CONFIG.defaultTolerationSeconds,
    onStoreUnavailable: () => (lastStoreFailure = Date.now()),
  });
  await api.bootstrap();
  const tokens = await TokenStore.open(path.join(options.dataDir, 'tokens.json'));
  const watches = createWatchStreams(engine, options.watchHeartbeatMs === undefined ? {} : { heartbeatMs: options.watchHeartbeatMs });
  let ready = false;
  // The server's own credential towards the agents' node APIs; it lives only in this process.
  const internalToken = randomBytes(32).toString('base64url');
  const internalHeader = Buffer.from(`Bearer ${internalToken}`);
  const authenticate = (header: string | undefined) => {
    if (header !== undefined && header.length === internalHeader.length && timingSafeEqual(Buffer.from(header), internalHeader)) {
      return { user: 'system:apiserver', groups: ['system:masters'], role: 'admin' as const };
    }
    return tokens.authenticate(header);
  };
  const nodeProxy = createNodeProxy(api, internalToken);
  const handler = createHttpApi({
    api,
    watches,
    logger,
    version: options.version,
    authenticate,
    ready: () => ready,
    nodeProxy,
  });

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const track = (request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    response.on('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    handler(request, response).catch((error: unknown) => logger.error('request handler failed', { error }));
  };

  const { host, port } = parseListen(options.listen);
  let server: Server;
  let caPem: string | undefined;
  if (options.insecureHttp) {
    logger.warn('serving plain HTTP: tokens travel in clear text and kubectl will not send them; use only on loopback', { listen: options.listen });
    server = http.createServer(track);
  } else {
    const certificates = await ensureServerCertificates(path.join(options.dataDir, 'tls'), { sans: options.tlsSans ?? [] });
    caPem = certificates.caCertPem;
    server = https.createServer({ cert: certificates.certPem, key: certificates.keyPem }, track);
  }
  // Every TCP connection, tracked from its first byte: the HTTP layer only knows a TLS connection
  // once its handshake is done, and a stop must not wait on one it cannot see (a client that never
  // completes its handshake, or one that completes it after the stop began and keeps it alive).
  const sockets = new Set<Socket>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Bad bytes on a socket must never crash the daemon.
  server.on('clientError', (error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
    logger.debug('client error', { error });
  });
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const clientHost = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const url = `${options.insecureHttp ? 'http' : 'https'}://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${actualPort}`;
  const kubeconfigPath = path.join(options.dataDir, 'admin.kubeconfig');
  await ensureAdminKubeconfig(kubeconfigPath, tokens, url, caPem, options.insecureHttp === true, logger);

  // Compact only to the revision that was current one interval ago (and keep --compact-retain more):
  // history then always spans at least one interval, so watches that reconnect within it resume.
  let previousTick = 0;
  const compaction = async () => {
    const current = await engine.currentRevision();
    await compact(engine, Math.min(previousTick, current - (options.compactRetainRevisions ?? 1000)), logger);
    previousTick = current;
  };
  const timers = [
    setInterval(() => void compaction(), options.compactIntervalMs ?? 5 * 60_000),
    setInterval(() => void expire(engine, logger), options.expireIntervalMs ?? 60_000),
  ];
  for (const timer of timers) timer.unref();
  let controllers: ControllerManager | undefined;
  if (options.controllers !== false) {
    const config: ControllerConfig = { ...DEFAULT_CONTROLLER_CONFIG, ...options.controllers };
    controllers = startControllers({
      client: new InProcessClient(api),
      controllers: createControllers(),
      config,
      logger,
      storeHealthy: () => Date.now() - lastStoreFailure > config.nodeMonitorGracePeriodMs,
    });
  }
  ready = true;
  logger.info('pm8s server listening', { url, dataDir: options.dataDir, kubeconfig: kubeconfigPath });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      ready = false;
      for (const timer of timers) clearInterval(timer);
      await controllers?.stop();
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      watches.closeAll();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((resolve) => (drained = resolve)), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      }
      // Every connection, HTTP-visible or not (closeAllConnections would miss TLS handshakes).
      for (const socket of sockets) socket.destroy();
      await closed;
      await engine.close();
      logger.info('pm8s server stopped');
    })());

  return { url, port: actualPort, kubeconfigPath, engine, api, authenticate: (header) => authenticate(header) !== undefined, nodeProxy, ...(controllers ? { controllersStarted: controllers.started } : {}), stop };
}

/**
 * The admin token exists only as a hash, so its one plaintext copy is the kubeconfig written when
 * it is created; later starts only refresh that file's server URL and CA.
 */
async function ensureAdminKubeconfig(file: string, tokens: TokenStore, url: string, caPem: string | undefined, insecure: boolean, logger: Logger): Promise<void> {
  let existing;
  try {
    existing = await loadKubeconfig(file);
  } catch (error) {
    if ((error as { code?: string }).code !== 'KubeconfigNotFound') throw error;
  }
  const hasAdmin = tokens.list().some((token) => token.role === 'admin');
  if (existing && hasAdmin) {
    let config = setServer(existing, url);
    const cluster = config.clusters[0]?.cluster;
    if (cluster) {
      if (caPem) cluster['certificate-authority-data'] = Buffer.from(caPem).toString('base64');
      else delete cluster['certificate-authority-data'];
      if (insecure) cluster['insecure-skip-tls-verify'] = true;
      else delete cluster['insecure-skip-tls-verify'];
    }
    await writeKubeconfig(file, config);
    return;
  }
  const { token } = await tokens.create({ user: 'admin', role: 'admin', groups: ['system:masters'] });
  const config = buildKubeconfig({ server: url, token, ...(caPem ? { caPem } : {}), ...(insecure ? { insecureSkipTlsVerify: true } : {}) });
  await writeKubeconfig(file, config);
  logger.info('created the admin token and its client config', { kubeconfig: file });
}

async function compact(engine: Engine, target: number, logger: Logger): Promise<void> {
  try {
    if (target > (await engine.compactedRevision())) await engine.compact(target);
  } catch (error) {
    logger.warn('compaction failed; will retry', { error });
  }
}

async function expire(engine: Engine, logger: Logger): Promise<void> {
  try {
    await engine.expire();
  } catch (error) {
    logger.warn('expiring events failed; will retry', { error });
  }
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!match) throw new Error(`--listen ${JSON.stringify(listen)} must be HOST:PORT, e.g. 0.0.0.0:6443`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`--listen port ${port} is out of range`);
  return { host: match[1] ?? match[2] ?? '', port };
}
