/**
 * One probe kind of one container, as Kubernetes' probe worker (pkg/kubelet/prober/worker.go) runs
 * it: wait out initialDelaySeconds (measured from the container's start), probe every
 * periodSeconds, count consecutive successes and failures against the thresholds, and report only
 * changes of state. Errored probes (`unknown`) are thrown away, as the kubelet does.
 */
import type { Probe } from '../../api/kinds/container.js';
import { sleep } from '../../lib/backoff.js';
import type { ProbeResult } from './probe-result.js';
import type { ProbeTarget } from './run-probe.js';
import { runProbe } from './run-probe.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProberOptions {
  kind: ProbeKind;
  probe: Probe;
  target: Omit<ProbeTarget, 'signal'>;
  /** Ends the prober; nothing (timer, socket, process) outlives it. */
  signal: AbortSignal;
  /**
   * Called only when the state changes. Readiness starts not ready, so its first call is `true`;
   * liveness and startup start unknown, so their first result is always reported.
   * `healthy: false` from liveness or startup means "restart the container".
   */
  onResult: (kind: ProbeKind, healthy: boolean, message: string) => void;
  /** Every attempt, for Kubernetes' per-failure `Unhealthy` events (see `probeEvent`). */
  onAttempt?: (kind: ProbeKind, result: ProbeResult) => void;
  /** Multiplies every duration of the spec (0.01 turns a 10 s period into 100 ms); for tests. */
  timeScale?: number;
  /** When the container started (epoch ms); the initial delay counts from here. Default: now. */
  startedAt?: number;
}

export interface ProbeTimings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The spec's numbers with Kubernetes' defaults (period 10 s, timeout 1 s, thresholds 1 and 3), scaled. */
export function probeTimings(probe: Probe, timeScale = 1): ProbeTimings {
  const ms = (seconds: number) => seconds * 1000 * timeScale;
  return {
    initialDelayMs: ms(probe.initialDelaySeconds ?? 0),
    // Zero means "unset" in the API, which then defaults it; the kubelet never runs faster than 1 s.
    periodMs: ms(Math.max(1, probe.periodSeconds || 10)),
    timeoutMs: ms(Math.max(1, probe.timeoutSeconds || 1)),
    successThreshold: Math.max(1, probe.successThreshold || 1),
    failureThreshold: Math.max(1, probe.failureThreshold || 3),
  };
}

export class Prober {
  readonly kind: ProbeKind;
  readonly #options: ProberOptions;
  #healthy: boolean | undefined;

  constructor(options: ProberOptions) {
    this.kind = options.kind;
    this.#options = options;
    this.#healthy = options.kind === 'readiness' ? false : undefined;
  }

  /** The current state: undefined until liveness or startup first crosses a threshold. */
  get healthy(): boolean | undefined {
    return this.#healthy;
  }

  /**
   * Probes until aborted — or, like the kubelet, until there is nothing left to learn: startup
   * stops once it succeeded, and liveness or startup stop at the failure that restarts the
   * container (the next container instance gets a new prober).
   */
  async run(): Promise<void> {
    const { kind, probe, signal } = this.#options;
    const timings = probeTimings(probe, this.#options.timeScale);
    const target: ProbeTarget = { ...this.#options.target, signal };
    const startedAt = this.#options.startedAt ?? Date.now();
    await sleep(Math.max(0, startedAt + timings.initialDelayMs - Date.now()), signal);
    let last: boolean | undefined;
    let run = 0;
    while (!signal.aborted) {
      const began = Date.now();
      const result = await runProbe(probe, target, { timeoutMs: timings.timeoutMs });
      if (signal.aborted) return;
      this.#options.onAttempt?.(kind, result);
      if (result.outcome !== 'unknown') {
        const success = result.outcome === 'success';
        run = success === last ? run + 1 : 1;
        last = success;
        if (run >= (success ? timings.successThreshold : timings.failureThreshold) && this.#healthy !== success) {
          this.#healthy = success;
          this.#options.onResult(kind, success, result.message);
        }
        if (this.#healthy === success && ((kind === 'startup' && success) || (kind !== 'readiness' && !success))) return;
      }
      await sleep(Math.max(0, timings.periodMs - (Date.now() - began)), signal);
    }
  }
}

export interface ProbeEvent {
  type: 'Warning';
  reason: 'Unhealthy' | 'ProbeWarning';
  message: string;
}

const KIND_TITLES: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** The event the kubelet records for one attempt: `Liveness probe failed: HTTP probe failed with statuscode: 500`. */
export function probeEvent(kind: ProbeKind, result: ProbeResult): ProbeEvent | undefined {
  const title = KIND_TITLES[kind];
  if (result.outcome === 'failure') return { type: 'Warning', reason: 'Unhealthy', message: `${title} probe failed: ${result.message}` };
  if (result.outcome === 'unknown') return { type: 'Warning', reason: 'Unhealthy', message: `${title} probe errored: ${result.message}` };
  if (result.warning) return { type: 'Warning', reason: 'ProbeWarning', message: `${title} probe warning: ${result.message}` };
  return undefined;
}
