/** `pm8s delete`: by file, by name, by label selector or --all; waits until the objects are gone. */
import type { ApiError } from '../api/errors.js';
import type { ResourceInfo } from '../api/resources.js';
import { resourceForKind } from '../api/resources.js';
import type { DeleteQuery, WatchHandle } from '../client/api-client.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError, formatError } from './errors.js';
import { readManifests } from './manifests.js';
import { parseDuration, quotedName } from './printers.js';
import { namespaceFor, parseTargets } from './targets.js';

export interface DeleteFlags {
  filename: string[];
  recursive?: boolean;
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  all?: boolean;
  cascade: string;
  gracePeriod: number;
  force?: boolean;
  wait: boolean;
  timeout: string;
  ignoreNotFound?: boolean;
  dryRun: string;
  output?: string;
}

interface Doomed {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

const POLICIES = { background: 'Background', foreground: 'Foreground', orphan: 'Orphan', true: 'Background', false: 'Orphan' } as const;

export async function runDelete(args: string[], flags: DeleteFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const policy = POLICIES[flags.cascade as keyof typeof POLICIES];
  if (!policy) throw new CliError('Usage', `invalid cascade value (${flags.cascade}). Must be "background", "foreground", or "orphan".`);
  if (!['none', 'server', 'client'].includes(flags.dryRun)) throw new CliError('Usage', `Invalid dry-run value (${flags.dryRun}). Must be "none", "server", or "client".`);
  if (flags.output !== undefined && flags.output !== 'name') throw new CliError('Usage', `unexpected -o output mode: ${flags.output}, the flag 'output' must be one of 'name'`);
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const options: DeleteQuery & { dryRun?: boolean } = { propagationPolicy: policy };
  if (flags.force === true && flags.gracePeriod < 0) options.gracePeriodSeconds = 0;
  else if (flags.gracePeriod >= 0) options.gracePeriodSeconds = flags.gracePeriod;
  if (flags.dryRun === 'server') options.dryRun = true;
  const { output } = context;
  const fromFiles = flags.filename.length > 0;
  if (fromFiles && args.length > 0) throw new CliError('Usage', 'when -f is given, no resource types or names may be given as arguments');
  const manifests = fromFiles ? await readManifests(flags.filename, { recursive: flags.recursive === true, readStdin: context.readStdin }) : [];

  await withClient(globals, async (client) => {
    const errors: string[] = [];
    const doomed = fromFiles ? fromManifests(manifests, flags, client.namespace, errors) : await fromArgs(args, flags, client, errors, context);
    const deleted: Doomed[] = [];
    const suffix = flags.dryRun === 'server' ? ' (server dry run)' : flags.dryRun === 'client' ? ' (dry run)' : '';
    for (const item of doomed) {
      try {
        if (flags.dryRun === 'client') await client.get(item.info, item.namespace, item.name);
        else await client.delete(item.info, item.namespace, item.name, options);
        output.out(flags.output === 'name' ? `${item.info.singular}${item.info.group ? `.${item.info.group}` : ''}/${item.name}\n` : `${quotedName(item.info, item.name)} deleted${suffix}\n`);
        deleted.push(item);
      } catch (error) {
        if (flags.ignoreNotFound === true && (error as ApiError).code === 404) continue;
        errors.push(formatError(error));
      }
    }
    if (flags.wait && flags.dryRun === 'none') {
      const deadline = Date.now() + timeoutMs;
      for (const item of deleted) {
        try {
          await waitUntilGone(client, item, deadline);
        } catch (error) {
          errors.push(formatError(error));
        }
      }
    }
    for (const line of errors) output.err(`${line}\n`);
    if (errors.length > 0) context.exitCode = 1;
  });
}

function fromManifests(manifests: Awaited<ReturnType<typeof readManifests>>, flags: DeleteFlags, contextNamespace: string, errors: string[]): Doomed[] {
  const doomed: Doomed[] = [];
  for (const { object, source } of manifests) {
    const info = resourceForKind(object.apiVersion, object.kind);
    if (!info) {
      errors.push(`error: resource mapping not found for name: "${object.metadata.name ?? ''}" from "${source}": no matches for kind "${object.kind}" in version "${object.apiVersion}"`);
      continue;
    }
    const own = typeof object.metadata.namespace === 'string' && object.metadata.namespace !== '' ? object.metadata.namespace : undefined;
    const namespace = info.namespaced ? (own ?? flags.namespace ?? contextNamespace) : undefined;
    doomed.push({ info, namespace, name: object.metadata.name ?? '' });
  }
  return doomed;
}

async function fromArgs(args: string[], flags: DeleteFlags, client: HttpClient, errors: string[], context: CliContext): Promise<Doomed[]> {
  if (args.length === 0) throw new CliError('Usage', 'You must provide one or more resources by argument or filename.');
  const targets = parseTargets(args, 'delete');
  const collection = flags.all === true || flags.selector !== undefined;
  const doomed: Doomed[] = [];
  for (const { info, names } of targets) {
    if (names.length > 0) {
      if (collection) throw new CliError('Usage', 'name cannot be provided when a selector or --all is specified');
      const namespace = namespaceFor(info, { ...flags, allNamespaces: false }, client.namespace);
      for (const name of names) doomed.push({ info, namespace, name });
      continue;
    }
    if (!collection) throw new CliError('Usage', `resource(s) were provided, but no name was specified; use --all to delete every ${info.resource} or -l to select some`);
    const list = await client.list(info, namespaceFor(info, flags, client.namespace), flags.selector ? { labelSelector: flags.selector } : {});
    for (const item of list.items) doomed.push({ info, namespace: item.metadata.namespace, name: item.metadata.name ?? '' });
  }
  if (doomed.length === 0 && errors.length === 0) context.output.err('No resources found\n');
  return doomed;
}

/** Returns once the object is gone (404), watching for its DELETED event; throws at the deadline. */
async function waitUntilGone(client: HttpClient, item: Doomed, deadline: number): Promise<void> {
  let resourceVersion: string;
  try {
    resourceVersion = (await client.get(item.info, item.namespace, item.name)).metadata.resourceVersion ?? '';
  } catch (error) {
    if ((error as ApiError).code === 404) return;
    throw error;
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timeoutError(item);
  let gone = false;
  let handle: WatchHandle | undefined;
  const watch = await client.watch(item.info, item.namespace, { fieldSelector: `metadata.name=${item.name}`, resourceVersion }, (event) => {
    if (event.type === 'DELETED') {
      gone = true;
      handle?.stop();
    }
  });
  handle = watch;
  if (gone) watch.stop();
  const timer = setTimeout(() => watch.stop(), remaining);
  try {
    await watch.done;
  } finally {
    clearTimeout(timer);
  }
  if (gone) return;
  // The stream ended for another reason (timeout, server restart): one last look decides.
  try {
    await client.get(item.info, item.namespace, item.name);
  } catch (error) {
    if ((error as ApiError).code === 404) return;
    throw error;
  }
  if (Date.now() >= deadline) throw timeoutError(item);
  return waitUntilGone(client, item, deadline);
}

function timeoutError(item: Doomed): CliError {
  return new CliError('Timeout', `timed out waiting for the condition on ${item.info.resource}/${item.name}`);
}
