/**
 * `GET /containerLogs/<namespace>/<pod>/<container>?follow&previous&tailLines&sinceSeconds&sinceTime&limitBytes&timestamps`
 * (the kubelet's path and query): streams a container's log file as text/plain. A follow ends when
 * the container's current run ends or the client goes away; errors come before the first byte.
 */
import { badRequest, forbidden, ApiError } from '../../api/errors.js';
import { CodedError } from '../../lib/coded-error.js';
import { podLogDir, podsLogRoot } from '../../runtime/logs/log-paths.js';
import { readLogs, type ReadLogsOptions } from '../../runtime/logs/read-logs.js';
import type { PodRunner } from '../../runtime/runner/pod-runner.js';
import type { NodeApiHandler } from './node-api.js';
import { findPod, pickContainer } from './node-api.js';
import { podIdentity } from './adoption-records.js';

export const serveContainerLogs: NodeApiHandler = async (request, response, segments, query, context) => {
  const [namespace, podName, containerName] = segments;
  const found = findPod(context, namespace, podName);
  const container = pickContainer(found, containerName);
  const options: ReadLogsOptions = {
    root: podsLogRoot(context.dataDir),
    follow: isTrue(query.get('follow')),
    previous: isTrue(query.get('previous')),
    timestamps: isTrue(query.get('timestamps')),
    ...integer(query, 'tailLines'),
    ...integer(query, 'sinceSeconds'),
    ...integer(query, 'limitBytes'),
    ...(query.get('sinceTime') ? { sinceTime: query.get('sinceTime')! } : {}),
  };
  const abort = new AbortController();
  response.on('close', () => abort.abort());
  const current = found.runner.container(container)?.status();
  if (current?.state.waiting !== undefined && current.lastState.terminated === undefined && !options.previous) {
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${current.state.waiting.reason}`);
  }
  let stream;
  try {
    stream = await readLogs(podLogDir(context.dataDir, podIdentity(found.pod)), container, {
      ...options,
      signal: abort.signal,
      ...(options.follow ? { done: runEnded(found.runner, container, abort.signal) } : {}),
    });
  } catch (error) {
    throw logError(error, container, podName ?? '');
  }
  response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
  response.flushHeaders();
  try {
    for await (const chunk of stream) {
      if (!response.write(chunk)) await new Promise<void>((resolve) => response.once('drain', resolve).once('close', resolve));
      if (abort.signal.aborted) break;
    }
  } finally {
    abort.abort();
    // A reader slower than the writer loses what rotation shifted out of the copies before it got
    // there: say so, as the stream itself cannot.
    if (stream.lostBytes > 0) {
      context.logger.info('log stream skipped bytes rotated away before it read them', { namespace, pod: podName, container, lostBytes: stream.lostBytes });
    }
  }
  response.end();
};

/** Resolves when the container's current run ends (its containerID changes or it stops running). */
function runEnded(runner: PodRunner, container: string, signal: AbortSignal): Promise<void> {
  const first = runner.container(container)?.status();
  return new Promise((resolve) => {
    const check = setInterval(() => {
      const now = runner.container(container)?.status();
      if (signal.aborted || now === undefined || now.state.running === undefined || now.containerID !== first?.containerID) {
        clearInterval(check);
        resolve();
      }
    }, 250);
    check.unref();
  });
}

function logError(error: unknown, container: string, podName: string): unknown {
  if (!(error instanceof CodedError)) return error;
  switch (error.code) {
    case 'LogNotFound':
      return badRequest(`container "${container}" in pod "${podName}" has no logs yet`);
    case 'PreviousLogNotFound':
      return badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    case 'UnsafeLogPath':
      return forbidden(`refusing to read the log of container "${container}": ${error.message}`);
    case 'TimestampsUnsupported':
    case 'InvalidLogOptions':
    case 'InvalidLogName':
      return badRequest(error.message);
    default:
      return new ApiError(500, 'InternalError', error.message);
  }
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function integer(query: URLSearchParams, name: 'tailLines' | 'sinceSeconds' | 'limitBytes'): Partial<ReadLogsOptions> {
  const text = query.get(name);
  if (text === null || text === '') return {};
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw badRequest(`${name}: invalid value "${text}": must be an integer`);
  return { [name]: value };
}
