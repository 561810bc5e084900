/**
 * The probes of one container together: the startup probe gates the others (liveness and
 * readiness do not run until startup succeeded), as in Kubernetes. A failed startup probe ends
 * probing; the caller restarts the container and starts a new set.
 */
import type { Probe } from '../../api/kinds/container.js';
import type { ProbeKind, ProberOptions } from './prober.js';
import { Prober } from './prober.js';

export interface ContainerProbesOptions extends Omit<ProberOptions, 'kind' | 'probe'> {
  probes: { startup?: Probe | undefined; liveness?: Probe | undefined; readiness?: Probe | undefined };
}

export interface ContainerProbes {
  /** The probers running now (startup alone until it succeeds). */
  probers(): Prober[];
  /** Resolves when every prober has ended (abort, startup or liveness failure). */
  done: Promise<void>;
}

export function startContainerProbes(options: ContainerProbesOptions): ContainerProbes {
  const { probes, ...common } = options;
  let active: Prober[] = [];
  const run = (kinds: ProbeKind[]) => {
    active = kinds.flatMap((kind) => {
      const probe = probes[kind];
      return probe === undefined ? [] : [new Prober({ ...common, kind, probe })];
    });
    return Promise.all(active.map((prober) => prober.run()));
  };
  const done = (async () => {
    if (probes.startup !== undefined) {
      await run(['startup']);
      const startup = active[0];
      if (options.signal.aborted || startup?.healthy !== true) return;
    }
    await run(['liveness', 'readiness']);
  })();
  return { probers: () => [...active], done };
}
