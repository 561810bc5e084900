/** `pm8s describe`: a readable report of one or more objects, with the Events that mention them. */
import { resolveResource } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { formatError } from './errors.js';
import { describeEvents, describeObject } from './describers.js';
import { DescribeWriter } from './describe-writer.js';
import { namespaceFor, parseTargets } from './targets.js';

export interface DescribeFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  showEvents: boolean;
}

export async function runDescribe(args: string[], flags: DescribeFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const targets = parseTargets(args, 'describe');
  const { output } = context;
  await withClient(globals, async (client) => {
    const errors: string[] = [];
    const reports: string[] = [];
    for (const { info, names } of targets) {
      const namespace = namespaceFor(info, names.length > 0 ? { ...flags, allNamespaces: false } : flags, client.namespace);
      const objects: KubeObject[] = [];
      if (names.length === 0) {
        const list = await client.list(info, namespace, flags.selector ? { labelSelector: flags.selector } : {});
        objects.push(...list.items);
      }
      for (const name of names) {
        try {
          objects.push(await client.get(info, namespace, name));
        } catch (error) {
          errors.push(formatError(error));
        }
      }
      for (const object of objects) reports.push(await describe(client, object, info.namespaced, flags.showEvents));
    }
    output.out(reports.join('\n\n'));
    if (reports.length === 0 && errors.length === 0) output.err('No resources found\n');
    for (const line of errors) output.err(`${line}\n`);
    if (errors.length > 0) context.exitCode = 1;
  });
}

async function describe(client: HttpClient, object: KubeObject, namespaced: boolean, showEvents: boolean): Promise<string> {
  const w = new DescribeWriter();
  describeObject(object, namespaced, w);
  if (showEvents) describeEvents(await eventsFor(client, object), new Date(), w);
  return w.toString();
}

/** Events whose involvedObject is this object, selected as kubectl does (KUBECTL-PROTOCOL §9). */
async function eventsFor(client: HttpClient, object: KubeObject): Promise<KubeObject[]> {
  const events = resolveResource('events');
  if (!events) return [];
  const { name, namespace, uid } = object.metadata;
  const selector = [`involvedObject.name=${name ?? ''}`, ...(namespace ? [`involvedObject.namespace=${namespace}`] : []), ...(uid ? [`involvedObject.uid=${uid}`] : [])];
  // Cluster-scoped objects (nodes, namespaces) have their events in "default", as in Kubernetes.
  const list = await client.list(events, namespace ?? 'default', { fieldSelector: selector.join(',') });
  return list.items;
}
