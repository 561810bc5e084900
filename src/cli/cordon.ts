/** `pm8s cordon|uncordon`: sets or clears a Node's `spec.unschedulable`, as kubectl does. */
import { resolveResource } from '../api/resources.js';
import { rec } from '../api/tables/fields.js';
import type { KubeObject } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError, formatError } from './errors.js';
import type { Output } from './output.js';

const nodes = resolveResource('nodes')!;

export interface CordonFlags {
  selector?: string;
}

export async function runCordon(unschedulable: boolean, names: string[], flags: CordonFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  if (names.length === 0 && flags.selector === undefined) throw new CliError('Usage', 'You must provide one or more resources by argument or filename.');
  if (names.length > 0 && flags.selector !== undefined) throw new CliError('Usage', 'cannot specify both a node name and a --selector option');
  await withClient(globals, async (client) => {
    const errors: string[] = [];
    const targets: KubeObject[] = [];
    if (flags.selector !== undefined) {
      targets.push(...(await client.list(nodes, undefined, { labelSelector: flags.selector })).items);
      if (targets.length === 0) context.output.err('No resources found\n');
    }
    for (const name of names) {
      try {
        targets.push(await client.get(nodes, undefined, name));
      } catch (error) {
        errors.push(formatError(error));
      }
    }
    for (const node of targets) {
      try {
        await setUnschedulable(client, node, unschedulable, context.output);
      } catch (error) {
        errors.push(formatError(error));
      }
    }
    for (const line of errors) context.output.err(`${line}\n`);
    if (errors.length > 0) context.exitCode = 1;
  });
}

/** Patches the node unless it already is as asked; prints `node/n1 cordoned` or `node/n1 already cordoned`. */
export async function setUnschedulable(client: HttpClient, node: KubeObject, unschedulable: boolean, output: Output): Promise<void> {
  const name = node.metadata.name ?? '';
  const verb = unschedulable ? 'cordoned' : 'uncordoned';
  if ((rec(node.spec).unschedulable === true) === unschedulable) {
    output.out(`node/${name} already ${verb}\n`);
    return;
  }
  // kubectl removes the field to uncordon rather than writing false.
  await client.patch(nodes, undefined, name, 'application/merge-patch+json', { spec: { unschedulable: unschedulable ? true : null } });
  output.out(`node/${name} ${verb}\n`);
}
