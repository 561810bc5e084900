/** What one probe attempt returns, and the small helpers the handlers share (timeouts, Go-style error texts). */

/**
 * `success` and `failure` count towards the thresholds; `unknown` is Kubernetes' "probe errored"
 * (unresolvable port, unsupported handler, aborted): reported, but thrown away by the prober.
 */
export type ProbeOutcome = 'success' | 'failure' | 'unknown';

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** What the Unhealthy event shows after "Liveness probe failed: ". */
  message: string;
  /** A success Kubernetes reports with a `ProbeWarning` event (a redirect to another host). */
  warning?: boolean;
}

/** Kubernetes: maxRespBodyLength and the exec probe's maxReadLength. */
export const PROBE_OUTPUT_LIMIT = 10 * 1024;

export function abortedResult(): ProbeResult {
  return { outcome: 'unknown', message: 'probe aborted' };
}

/** `host:port` as Go's net.JoinHostPort writes it (IPv6 in brackets), for messages and URLs. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's dial error texts (what users grep for), from Node's socket error codes. */
export function dialErrorMessage(error: NodeJS.ErrnoException, host: string, port: number): string {
  const address = `dial tcp ${joinHostPort(host, port)}`;
  switch (error.code) {
    case 'ECONNREFUSED': return `${address}: connect: connection refused`;
    case 'EHOSTUNREACH': return `${address}: connect: no route to host`;
    case 'ENETUNREACH': return `${address}: connect: network is unreachable`;
    case 'EADDRNOTAVAIL': return `${address}: connect: cannot assign requested address`;
    case 'ETIMEDOUT': return `${address}: connect: connection timed out`;
    case 'ENOTFOUND': return `dial tcp: lookup ${host}: no such host`;
    case 'EAI_AGAIN': return `dial tcp: lookup ${host}: temporary failure in name resolution`;
    case 'ECONNRESET': return error.message === 'socket hang up' ? 'EOF' : `read tcp ${joinHostPort(host, port)}: read: connection reset by peer`;
    case 'EPIPE': return `write tcp ${joinHostPort(host, port)}: write: broken pipe`;
    default: return error.message;
  }
}

/**
 * An AbortSignal that fires on the caller's abort or after `timeoutMs`, whichever comes first;
 * `dispose` clears the timer and the listener so nothing outlives the attempt.
 */
export function deadlineSignal(outer: AbortSignal, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const controller = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort(outer.reason);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new Error('deadline exceeded'));
  }, timeoutMs);
  outer.addEventListener('abort', onAbort, { once: true });
  if (outer.aborted) onAbort();
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}
