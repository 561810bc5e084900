/** `pm8s scale`: writes `spec.replicas` through the scale subresource, as kubectl does. */
import type { ApiError } from '../api/errors.js';
import { isRecord } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError, formatError } from './errors.js';
import { displayName } from './printers.js';
import { namespaceFor, parseNamedTargets, type NamedTarget } from './targets.js';

export interface ScaleFlags {
  replicas?: number;
  currentReplicas?: number;
  namespace?: string;
}

/** A precondition that loses a race with another writer is checked again this many times. */
const CONFLICT_RETRIES = 5;

export async function runScale(args: string[], flags: ScaleFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const { replicas } = flags;
  if (replicas === undefined || replicas < 0) throw new CliError('Usage', 'The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  const targets = parseNamedTargets(args, 'scale');
  for (const { info } of targets) {
    if (!info.subresources.includes('scale')) throw new CliError('NotSupported', `${info.resource} cannot be scaled: only deployments, replicasets and statefulsets have a scale subresource`);
  }
  await withClient(globals, async (client) => {
    const errors: string[] = [];
    for (const target of targets) {
      try {
        await scaleOne(client, target, namespaceFor(target.info, flags, client.namespace), replicas, flags.currentReplicas);
        context.output.out(`${displayName(target.info, target.name)} scaled\n`);
      } catch (error) {
        errors.push(formatError(error));
      }
    }
    for (const line of errors) context.output.err(`${line}\n`);
    if (errors.length > 0) context.exitCode = 1;
  });
}

async function scaleOne(client: HttpClient, { info, name }: NamedTarget, namespace: string | undefined, replicas: number, currentReplicas: number | undefined): Promise<void> {
  const patch = { spec: { replicas } };
  if (currentReplicas === undefined) {
    await client.patch(info, namespace, name, 'application/merge-patch+json', patch, { subresource: 'scale' });
    return;
  }
  for (let attempt = 0; ; attempt++) {
    const object = await client.get(info, namespace, name);
    const spec = isRecord(object.spec) ? object.spec : {};
    const actual = typeof spec.replicas === 'number' ? spec.replicas : 1;
    if (actual !== currentReplicas) throw new CliError('PreconditionFailed', `Expected replicas to be ${currentReplicas}, was ${actual}`);
    try {
      // The resourceVersion makes the check and the write one atomic step.
      await client.patch(info, namespace, name, 'application/merge-patch+json', { ...patch, metadata: { resourceVersion: object.metadata.resourceVersion } }, { subresource: 'scale' });
      return;
    } catch (error) {
      if ((error as ApiError).code !== 409 || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
}
