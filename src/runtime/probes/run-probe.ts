/**
 * One probe attempt, as Kubernetes' prober runs it (pkg/kubelet/prober/prober.go): the handler is
 * chosen from the spec, a named port is resolved against the container's ports, and the result is
 * data — a failing or erroring probe is never an exception.
 */
import type { Probe } from '../../api/kinds/container.js';
import { runExecProbe } from './exec-probe.js';
import { runHttpProbe } from './http-probe.js';
import { runTcpProbe } from './tcp-probe.js';
import type { ProbeResult } from './probe-result.js';
import { abortedResult } from './probe-result.js';

export type { ProbeOutcome, ProbeResult } from './probe-result.js';

export interface ProbeTarget {
  /** Where httpGet and tcpSocket connect when the probe names no host (the pod IP; 127.0.0.1 here). */
  host: string;
  /** The container's named ports, so `port: "http"` resolves. */
  ports: Record<string, number>;
  /** The container's full environment, for exec probes (the agent's own is not inherited). */
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  signal: AbortSignal;
}

export interface RunProbeOptions {
  /** Overrides `timeoutSeconds` (test scaling); defaults to timeoutSeconds × 1000, at least 1 s as in Kubernetes. */
  timeoutMs?: number;
}

/** Runs one attempt of `probe` against `target`; resolves, never rejects. */
export async function runProbe(probe: Probe, target: ProbeTarget, options: RunProbeOptions = {}): Promise<ProbeResult> {
  if (target.signal.aborted) return abortedResult();
  // A zero timeout in the spec is defaulted to 1 s by the API, and the kubelet never probes with less.
  const timeoutMs = options.timeoutMs ?? Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) {
    return runExecProbe(probe.exec.command ?? [], { env: target.env, cwd: target.cwd, uid: target.uid, gid: target.gid, timeoutMs, signal: target.signal });
  }
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, target.ports);
    if (typeof port === 'string') return { outcome: 'unknown', message: port };
    return runHttpProbe({
      scheme: probe.httpGet.scheme ?? 'HTTP',
      host: probe.httpGet.host || target.host,
      port,
      path: probe.httpGet.path || '/',
      headers: (probe.httpGet.httpHeaders ?? []).map((header) => ({ name: header.name, value: header.value ?? '' })),
      timeoutMs,
      signal: target.signal,
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, target.ports);
    if (typeof port === 'string') return { outcome: 'unknown', message: port };
    return runTcpProbe({ host: probe.tcpSocket.host || target.host, port, timeoutMs, signal: target.signal });
  }
  // grpc needs an HTTP/2 gRPC client we do not carry; Kubernetes reports a handler it cannot run as an error.
  const handler = probe.grpc ? 'grpc' : 'unknown';
  return { outcome: 'unknown', message: `missing probe handler: ${handler} probes are not supported by pm8s` };
}

/** A port number, or the error message Kubernetes gives when a named port does not exist. */
export function resolvePort(port: number | string, ports: Record<string, number>): number | string {
  const number = typeof port === 'number' ? port : Object.hasOwn(ports, port) ? ports[port] : undefined;
  if (number === undefined) return `port ${port} not found`;
  if (!Number.isInteger(number) || number < 1 || number > 65535) return `invalid port number: ${number}`;
  return number;
}
