/** `pm8s rollout history|undo|restart|pause|resume`: kubectl's rollout verbs on Deployments (and restart on StatefulSets and DaemonSets). */
import type { ResourceInfo } from '../api/resources.js';
import { qualifiedName } from '../api/resources.js';
import { rec } from '../api/tables/fields.js';
import type { KubeObject } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError, formatError } from './errors.js';
import { displayName } from './printers.js';
import { deploymentHistory, undoDeployment } from './rollout-history.js';
import { namespaceFor, parseNamedTargets } from './targets.js';
import { rfc3339 } from '../api/meta.js';

export type RolloutVerb = 'history' | 'undo' | 'restart' | 'pause' | 'resume';

export interface RolloutFlags {
  namespace?: string;
  /** history: show this revision's pod template. */
  revision?: number;
  /** undo: the revision to return to (0: the previous one). */
  toRevision?: number;
}

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
const RESTARTABLE = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export async function runRollout(verb: RolloutVerb, args: string[], flags: RolloutFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const targets = parseNamedTargets(args, verb === 'history' ? 'view the history of' : verb);
  await withClient(globals, async (client) => {
    const errors: string[] = [];
    for (const { info, name } of targets) {
      try {
        const object = await client.get(info, namespaceFor(info, flags, client.namespace), name);
        const result = await ROLLOUT_VERBS[verb](client, info, object, flags);
        context.output.out(`${displayName(info, name)} ${result}\n`);
      } catch (error) {
        errors.push(formatError(error));
      }
    }
    for (const line of errors) context.output.err(`${line}\n`);
    if (errors.length > 0) context.exitCode = 1;
  });
}

type VerbImplementation = (client: HttpClient, info: ResourceInfo, object: KubeObject, flags: RolloutFlags) => Promise<string>;

const ROLLOUT_VERBS: Record<RolloutVerb, VerbImplementation> = {
  history: async (client, info, object, flags) => {
    requireDeployment(info, 'rollout history');
    return deploymentHistory(client, object, flags.revision ?? 0);
  },
  undo: async (client, info, object, flags) => {
    requireDeployment(info, 'rollout undo');
    return undoDeployment(client, object, flags.toRevision ?? 0);
  },
  restart: async (client, info, object) => {
    if (!RESTARTABLE.has(info.kind)) throw new CliError('NotSupported', `${qualifiedName(info)} "${object.metadata.name ?? ''}" restarting is not supported`);
    if (rec(object.spec).paused === true) throw new CliError('NotSupported', `${qualifiedName(info)} "${object.metadata.name ?? ''}" can't restart paused deployment (run rollout resume first)`);
    // A new template annotation is a new template: the controller rolls every pod, as kubectl's restart does.
    const restartedAt = rfc3339();
    const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
    await client.patch(info, object.metadata.namespace, object.metadata.name ?? '', 'application/strategic-merge-patch+json', patch);
    return 'restarted';
  },
  pause: async (client, info, object) => setPaused(client, info, object, true),
  resume: async (client, info, object) => setPaused(client, info, object, false),
};

async function setPaused(client: HttpClient, info: ResourceInfo, object: KubeObject, paused: boolean): Promise<string> {
  const name = object.metadata.name ?? '';
  if (info.kind !== 'Deployment') throw new CliError('NotSupported', `${qualifiedName(info)} "${name}" ${paused ? 'pausing' : 'resuming'} is not supported`);
  const current = rec(object.spec).paused === true;
  if (current === paused) throw new CliError('NotSupported', `${qualifiedName(info)} "${name}" ${paused ? 'is already paused' : 'is not paused'}`);
  await client.patch(info, object.metadata.namespace, name, 'application/merge-patch+json', { spec: { paused: paused ? true : null } });
  return paused ? 'paused' : 'resumed';
}

/** pm8s keeps no ControllerRevisions, so StatefulSet and DaemonSet history is not recorded. */
function requireDeployment(info: ResourceInfo, verb: string): void {
  if (info.kind !== 'Deployment') {
    throw new CliError('NotSupported', `${verb} is only available for deployments in pm8s (statefulsets and daemonsets keep no revision history)`);
  }
}
