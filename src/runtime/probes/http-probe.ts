/**
 * httpGet probe, after Kubernetes pkg/probe/http: 200–399 is healthy; redirects are followed only
 * to the same host name (up to 10), a redirect elsewhere is a success with a warning; HTTPS skips
 * certificate verification as the kubelet does; no keep-alive; at most 10 KiB of body is read;
 * the timeout covers the whole exchange and fails with Go's "context deadline exceeded" text.
 */
import http from 'node:http';
import https from 'node:https';
import type { ProbeResult } from './probe-result.js';
import { abortedResult, deadlineSignal, dialErrorMessage, joinHostPort, PROBE_OUTPUT_LIMIT } from './probe-result.js';

export interface HttpProbeOptions {
  scheme: 'HTTP' | 'HTTPS';
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
  timeoutMs: number;
  signal: AbortSignal;
}

/** Kubernetes sends `kube-probe/<version>`; apps filter their access logs on that prefix. */
export const PROBE_USER_AGENT = 'kube-probe/pm8s';
const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface Response {
  status: number;
  location: string | undefined;
  body: string;
}

type Exchange = { response: Response } | { error: string; duringBody: boolean };

export async function runHttpProbe(options: HttpProbeOptions): Promise<ProbeResult> {
  let url: URL;
  try {
    url = probeUrl(options);
  } catch (error) {
    return { outcome: 'unknown', message: `invalid probe URL: ${(error as Error).message}` };
  }
  const { headers, hostOverride } = requestHeaders(options.headers);
  const deadline = deadlineSignal(options.signal, options.timeoutMs);
  try {
    const firstHostname = url.hostname;
    let host = hostOverride;
    for (let redirects = 0; ; redirects += 1) {
      const exchange = await get(url, host === undefined ? headers : { ...headers, host }, deadline.signal);
      if (options.signal.aborted) return abortedResult();
      if ('error' in exchange) {
        if (!deadline.timedOut()) return { outcome: 'failure', message: `Get "${url.href}": ${exchange.error}` };
        const detail = exchange.duringBody ? 'Client.Timeout or context cancellation while reading body' : 'Client.Timeout exceeded while awaiting headers';
        // Kubernetes treats a body that cannot be read as a probe error, not as a failure.
        return { outcome: exchange.duringBody ? 'unknown' : 'failure', message: `Get "${url.href}": context deadline exceeded (${detail})` };
      }
      const { status, location, body } = exchange.response;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        const next = new URL(location, url);
        // Go's redirect checker: another host name ends the chain with the redirect itself as the response.
        if (next.hostname === firstHostname) {
          if (redirects + 1 >= MAX_REDIRECTS) return { outcome: 'failure', message: `Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects` };
          // Go keeps a custom Host header only through relative redirects.
          if (/^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith('//')) host = undefined;
          url = next;
          continue;
        }
      }
      return statusResult(status, body);
    }
  } finally {
    deadline.dispose();
  }
}

/** The kubelet's verdict on a final response (the failure text must not include the body: issue 99425). */
function statusResult(status: number, body: string): ProbeResult {
  if (status >= 200 && status < 300) return { outcome: 'success', message: body };
  if (status >= 300 && status < 400) return { outcome: 'success', warning: true, message: `Probe terminated redirects, Response body: ${body}` };
  return { outcome: 'failure', message: `HTTP probe failed with statuscode: ${status}` };
}

function probeUrl(options: HttpProbeOptions): URL {
  const scheme = options.scheme === 'HTTPS' ? 'https' : 'http';
  // A leading slash keeps a path such as "//x" from being read as a host name.
  const path = options.path.startsWith('/') ? options.path : `/${options.path}`;
  return new URL(`${scheme}://${joinHostPort(options.host, options.port)}${path}`);
}

/** User headers win over the defaults, case-insensitively; repeated names are all sent, as Go's Header.Add does. */
function requestHeaders(userHeaders: { name: string; value: string }[]): { headers: Record<string, string | string[]>; hostOverride: string | undefined } {
  const headers: Record<string, string | string[]> = {};
  let hostOverride: string | undefined;
  for (const { name, value } of userHeaders) {
    const key = name.toLowerCase();
    if (key === '') continue;
    if (key === 'host') {
      hostOverride ??= value;
      continue;
    }
    const existing = headers[key];
    headers[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  headers['user-agent'] ??= PROBE_USER_AGENT;
  headers['accept'] ??= '*/*';
  headers['connection'] = 'close';
  return { headers, hostOverride };
}

/** One GET; the body is read up to the limit and the connection then dropped. */
function get(url: URL, headers: Record<string, string | string[]>, signal: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    let responded = false;
    const settle = (exchange: Exchange) => {
      if (settled) return;
      settled = true;
      request.destroy();
      resolve(exchange);
    };
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const options: https.RequestOptions = { method: 'GET', headers, agent: false, signal, rejectUnauthorized: false };
    const request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      responded = true;
      const chunks: Buffer[] = [];
      let length = 0;
      const done = () => {
        const location = response.headers.location;
        settle({ response: { status: response.statusCode ?? 0, location, body: Buffer.concat(chunks).toString('utf8') } });
      };
      response.on('data', (chunk: Buffer) => {
        const room = PROBE_OUTPUT_LIMIT - length;
        if (room > 0) chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
        length += chunk.length;
        // Truncation is not an error for Kubernetes; stop reading rather than download an endless body.
        if (length >= PROBE_OUTPUT_LIMIT) done();
      });
      response.once('end', done);
      response.once('error', (error: NodeJS.ErrnoException) => settle({ error: dialErrorMessage(error, hostname, port), duringBody: true }));
      response.once('aborted', () => settle({ error: 'unexpected EOF', duringBody: true }));
    });
    request.once('error', (error: NodeJS.ErrnoException) => settle({ error: dialErrorMessage(error, hostname, port), duringBody: responded }));
    request.end();
  });
}
