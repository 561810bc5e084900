/**
 * `pm8s apply`: kubectl's client-side apply, all or nothing. Every document is parsed, then every
 * write is tried as a server-side dry run; only when all pass is anything written.
 *
 * Objects in a namespace that this same apply creates cannot be dry-run before that namespace
 * exists. For those, the new namespaces are created first (after their own dry run), the rest is
 * dry-run, and on any failure the namespaces just created are deleted again before reporting.
 */
import type { ApiError } from '../api/errors.js';
import { applyStrategicMergePatch } from '../api/patch/index.js';
import type { ResourceInfo } from '../api/resources.js';
import { resourceForKind } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError, formatError } from './errors.js';
import { readManifests, type Manifest } from './manifests.js';
import { displayName, formatObjects, parseOutputFormat } from './printers.js';
import { readLastApplied, threeWayPatch, withLastApplied } from './three-way-patch.js';

export interface ApplyFlags {
  filename: string[];
  recursive?: boolean;
  namespace?: string;
  dryRun: string | boolean;
  output?: string;
}

type DryRunMode = 'none' | 'client' | 'server';

const FIELD_MANAGER = 'kubectl-client-side-apply';

interface Planned {
  manifest: Manifest;
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
  action: 'create' | 'patch' | 'unchanged';
  body: KubeObject | Record<string, unknown>;
  live?: KubeObject;
  result?: KubeObject;
}

export async function runApply(flags: ApplyFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const mode = dryRunMode(flags.dryRun);
  const format = parseOutputFormat(flags.output, ['yaml', 'json', 'name']);
  const manifests = await readManifests(flags.filename, { recursive: flags.recursive === true, readStdin: context.readStdin });
  if (manifests.length === 0) throw new CliError('ManifestInvalid', 'no objects passed to apply');
  const { output } = context;
  const fail = (lines: string[]) => {
    for (const line of lines) output.err(`${line}\n`);
    context.exitCode = 1;
  };

  await withClient(globals, async (client) => {
    const resolved = resolveAll(manifests, flags.namespace, client.namespace);
    if (resolved.errors.length > 0) return fail(resolved.errors);
    const plans: Planned[] = [];
    const errors: string[] = [];
    for (const item of resolved.items) {
      try {
        const plan = await planOne(item, client);
        plans.push(plan);
        if (plan.live && readLastApplied(plan.live) === undefined && plan.action !== 'unchanged') {
          output.err(
            `Warning: resource ${item.info.resource}/${item.name} is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by pm8s apply. The missing annotation will be patched automatically.\n`,
          );
        }
      } catch (error) {
        errors.push(formatError(error, `error when retrieving current configuration of ${displayName(item.info, item.name)} from "${item.manifest.source}"`));
      }
    }
    if (errors.length > 0) return fail(errors);
    // Namespaces first, so objects in them can be created; otherwise the files' order.
    plans.sort((a, b) => Number(b.info.kind === 'Namespace') - Number(a.info.kind === 'Namespace') || a.manifest.index - b.manifest.index);

    if (mode === 'client') {
      for (const plan of plans) plan.result = locallyApplied(plan);
      return report(plans, mode, format, context);
    }
    const newNamespaces = new Set(plans.filter((plan) => plan.info.kind === 'Namespace' && plan.action === 'create').map((plan) => plan.name));
    const waiting = (plan: Planned) => mode === 'none' && plan.info.namespaced && plan.namespace !== undefined && newNamespaces.has(plan.namespace);
    const first = plans.filter((plan) => !waiting(plan));
    const later = plans.filter(waiting);

    const firstErrors = await dryRunAll(first, client);
    if (firstErrors.length > 0) return fail(firstErrors);
    if (mode === 'server') return report(plans, mode, format, context);

    const written = new Set<Planned>();
    if (later.length > 0) {
      const namespaces = first.filter((plan) => plan.info.kind === 'Namespace' && plan.action === 'create');
      const writeErrors = await writeAll(namespaces, client, written);
      const laterErrors = writeErrors.length > 0 ? writeErrors : await dryRunAll(later, client);
      if (laterErrors.length > 0) {
        await rollBack(namespaces.filter((plan) => written.has(plan)), client, laterErrors);
        return fail(laterErrors);
      }
    }
    const writeErrors = await writeAll(plans.filter((plan) => !written.has(plan)), client, written);
    report(plans.filter((plan) => written.has(plan) || plan.action === 'unchanged'), mode, format, context);
    if (writeErrors.length > 0) fail(writeErrors);
  });
}

function dryRunMode(value: string | boolean): DryRunMode {
  // A bare --dry-run is kubectl's deprecated spelling of client.
  if (value === true || value === 'true') return 'client';
  if (value === false || value === 'false' || value === 'none') return 'none';
  if (value === 'client' || value === 'server') return value;
  throw new CliError('Usage', `Invalid dry-run value (${String(value)}). Must be "none", "server", or "client".`);
}

interface Resolved {
  manifest: Manifest;
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

function resolveAll(manifests: Manifest[], flagNamespace: string | undefined, defaultNamespace: string): { items: Resolved[]; errors: string[] } {
  const items: Resolved[] = [];
  const errors: string[] = [];
  for (const manifest of manifests) {
    const { object, source } = manifest;
    const info = resourceForKind(object.apiVersion, object.kind);
    const name = object.metadata.name;
    if (!info) {
      errors.push(`error: resource mapping not found for name: "${name ?? ''}" from "${source}": no matches for kind "${object.kind}" in version "${object.apiVersion}"`);
      continue;
    }
    if (typeof name !== 'string' || name === '') {
      errors.push(`error: error when retrieving current configuration of a ${info.kind} from "${source}": resource name may not be empty`);
      continue;
    }
    let namespace: string | undefined;
    if (info.namespaced) {
      const own = typeof object.metadata.namespace === 'string' && object.metadata.namespace !== '' ? object.metadata.namespace : undefined;
      if (own !== undefined && flagNamespace !== undefined && own !== flagNamespace) {
        errors.push(`error: the namespace from the provided object "${own}" does not match the namespace "${flagNamespace}". You must pass '--namespace=${own}' to perform this operation.`);
        continue;
      }
      namespace = own ?? flagNamespace ?? defaultNamespace;
    }
    items.push({ manifest, info, namespace, name });
  }
  return { items, errors };
}

async function planOne(item: Resolved, client: HttpClient): Promise<Planned> {
  const config = withLastApplied(item.manifest.object);
  if (item.info.namespaced) config.metadata = { ...config.metadata, namespace: item.namespace };
  let live: KubeObject;
  try {
    live = await client.get(item.info, item.namespace, item.name);
  } catch (error) {
    if ((error as ApiError).code === 404 && (error as ApiError).reason === 'NotFound') return { ...item, action: 'create', body: config };
    throw error;
  }
  const patch = threeWayPatch(readLastApplied(live), config, live);
  return { ...item, live, action: Object.keys(patch).length === 0 ? 'unchanged' : 'patch', body: patch };
}

/** What the server would store, computed here for `--dry-run=client`. */
function locallyApplied(plan: Planned): KubeObject {
  if (plan.action === 'create') return plan.body as KubeObject;
  if (plan.action === 'unchanged' || !plan.live) return plan.live ?? (plan.body as KubeObject);
  return applyStrategicMergePatch(plan.live, plan.body, plan.info.kind) as KubeObject;
}

async function send(plan: Planned, client: HttpClient, dryRun: boolean): Promise<KubeObject> {
  const query = { dryRun, fieldManager: FIELD_MANAGER };
  if (plan.action === 'create') return client.create(plan.info, plan.namespace, plan.body as KubeObject, query);
  return client.patch(plan.info, plan.namespace, plan.name, 'application/strategic-merge-patch+json', plan.body, query);
}

function describeFailure(plan: Planned, error: unknown): string {
  const verb = plan.action === 'create' ? 'creating' : 'patching';
  return formatError(error, `error when ${verb} "${plan.manifest.source}"`);
}

async function dryRunAll(plans: Planned[], client: HttpClient): Promise<string[]> {
  const errors: string[] = [];
  for (const plan of plans) {
    if (plan.action === 'unchanged') {
      plan.result = plan.live;
      continue;
    }
    try {
      plan.result = await send(plan, client, true);
    } catch (error) {
      errors.push(describeFailure(plan, error));
    }
  }
  return errors;
}

async function writeAll(plans: Planned[], client: HttpClient, written: Set<Planned>): Promise<string[]> {
  const errors: string[] = [];
  for (const plan of plans) {
    if (plan.action === 'unchanged') continue;
    try {
      plan.result = await send(plan, client, false);
      written.add(plan);
    } catch (error) {
      errors.push(describeFailure(plan, error));
    }
  }
  return errors;
}

/** Deletes namespaces this apply created when what was to go into them failed its dry run. */
async function rollBack(namespaces: Planned[], client: HttpClient, errors: string[]): Promise<void> {
  for (const plan of namespaces) {
    try {
      await client.delete(plan.info, undefined, plan.name);
    } catch (error) {
      errors.push(`error: could not remove namespace "${plan.name}" created by this apply: ${formatError(error)}`);
    }
  }
}

function report(plans: Planned[], mode: DryRunMode, format: string | undefined, context: CliContext): void {
  const suffix = mode === 'client' ? ' (dry run)' : mode === 'server' ? ' (server dry run)' : '';
  if (format === 'yaml' || format === 'json') {
    const objects = plans.map((plan) => plan.result ?? plan.live ?? (plan.body as KubeObject));
    context.output.out(formatObjects(objects, format, objects.length === 1));
    return;
  }
  for (const plan of plans) {
    const name = displayName(plan.info, plan.name);
    if (format === 'name') {
      context.output.out(`${name}\n`);
      continue;
    }
    const verb = plan.action === 'create' ? 'created' : plan.action === 'patch' ? 'configured' : 'unchanged';
    context.output.out(`${name} ${verb}${plan.action === 'unchanged' ? '' : suffix}\n`);
  }
}
