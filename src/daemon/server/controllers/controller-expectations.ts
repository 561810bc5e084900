/**
 * Kubernetes' ControllerExpectations, by name: the pods a controller created or deleted that its
 * informer has not shown yet. Until they show up (or the expectations expire) the controller must
 * not count pods again, or a stale cache would make it create or delete twice.
 */

/** As Kubernetes' ExpectationsTimeout: a lost watch event cannot wedge a controller for longer. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Pending {
  creates: Set<string>;
  deletes: Set<string>;
  setAtMs: number;
}

export class ControllerExpectations {
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = EXPECTATIONS_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  /** Call before issuing the creates; `names` are the objects' keys (namespace/name). */
  expectCreations(controllerKey: string, names: readonly string[], nowMs: number): void {
    this.#entry(controllerKey, nowMs).creates = new Set(names);
  }

  expectDeletions(controllerKey: string, names: readonly string[], nowMs: number): void {
    this.#entry(controllerKey, nowMs).deletes = new Set(names);
  }

  /** The informer showed the object, or its create failed and it never will. */
  creationObserved(controllerKey: string, name: string): void {
    this.#pending.get(controllerKey)?.creates.delete(name);
  }

  /** The informer showed the deletion (or the deletionTimestamp), or the delete failed. */
  deletionObserved(controllerKey: string, name: string): void {
    this.#pending.get(controllerKey)?.deletes.delete(name);
  }

  /** Whether the controller may act on its cache: nothing outstanding, or it is too old to wait for. */
  satisfied(controllerKey: string, nowMs: number): boolean {
    const pending = this.#pending.get(controllerKey);
    if (!pending) return true;
    if (pending.creates.size === 0 && pending.deletes.size === 0) return true;
    return nowMs - pending.setAtMs > this.#timeoutMs;
  }

  /** Milliseconds until unsatisfied expectations expire (for a requeue), or undefined when satisfied. */
  expiresInMs(controllerKey: string, nowMs: number): number | undefined {
    if (this.satisfied(controllerKey, nowMs)) return undefined;
    const pending = this.#pending.get(controllerKey)!;
    return Math.max(1, pending.setAtMs + this.#timeoutMs - nowMs + 1);
  }

  delete(controllerKey: string): void {
    this.#pending.delete(controllerKey);
  }

  #entry(controllerKey: string, nowMs: number): Pending {
    let pending = this.#pending.get(controllerKey);
    if (!pending) this.#pending.set(controllerKey, (pending = { creates: new Set(), deletes: new Set(), setAtMs: nowMs }));
    pending.setAtMs = nowMs;
    return pending;
  }
}
