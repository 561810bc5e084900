/** `pm8s config`: read and edit the kubeconfig file the other commands use. */
import { stringify } from 'yaml';
import { printTable, type Table } from '../api/tables/index.js';
import {
  defaultKubeconfigPath,
  KubeconfigError,
  loadKubeconfig,
  setServer,
  useContext,
  writeKubeconfig,
  type Kubeconfig,
} from '../client/kubeconfig.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError } from './errors.js';

const configPath = (globals: GlobalFlags): string => globals.kubeconfig ?? defaultKubeconfigPath();

/** A missing file reads as an empty config, as for kubectl. */
async function loadOrEmpty(file: string): Promise<Kubeconfig> {
  try {
    return await loadKubeconfig(file);
  } catch (error) {
    if (error instanceof KubeconfigError && error.code === 'KubeconfigNotFound') {
      return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], 'current-context': '', preferences: {} };
    }
    throw error;
  }
}

/** Secrets replaced the way kubectl does unless --raw: certificate data → DATA+OMITTED, tokens → REDACTED. */
export function redact(config: Kubeconfig): Kubeconfig {
  return {
    ...config,
    clusters: config.clusters.map((entry) => {
      const cluster = { ...entry.cluster };
      if (cluster['certificate-authority-data'] !== undefined) cluster['certificate-authority-data'] = 'DATA+OMITTED';
      return { ...entry, cluster };
    }),
    users: config.users.map((entry) => {
      const user: Record<string, unknown> = { ...entry.user };
      for (const key of ['client-certificate-data', 'client-key-data']) if (user[key] !== undefined) user[key] = 'DATA+OMITTED';
      for (const key of ['token', 'password']) if (user[key] !== undefined) user[key] = 'REDACTED';
      return { ...entry, user };
    }),
  };
}

export async function viewConfig(flags: { raw?: boolean }, globals: GlobalFlags, context: CliContext): Promise<void> {
  const config = await loadOrEmpty(configPath(globals));
  context.output.out(stringify(flags.raw === true ? config : redact(config), { lineWidth: 0 }));
}

export async function useContextCommand(name: string, globals: GlobalFlags, context: CliContext): Promise<void> {
  const file = configPath(globals);
  await writeKubeconfig(file, useContext(await loadKubeconfig(file), name));
  context.output.out(`Switched to context "${name}".\n`);
}

export async function setServerCommand(server: string, flags: { context?: string }, globals: GlobalFlags, context: CliContext): Promise<void> {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError('Usage', `"${server}" is not a URL; expected e.g. https://10.0.0.5:6443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError('Usage', `"${server}" must start with https:// (or http://)`);
  const file = configPath(globals);
  // The subcommand's --context names the context to edit; the global one is the fallback.
  const contextName = flags.context ?? globals.context;
  const config = await loadKubeconfig(file);
  await writeKubeconfig(file, setServer(config, server, contextName));
  context.output.out(`Server of context "${contextName ?? config['current-context']}" set to ${server}.\n`);
}

export async function currentContext(globals: GlobalFlags, context: CliContext): Promise<void> {
  const config = await loadOrEmpty(configPath(globals));
  if (!config['current-context']) throw new CliError('Usage', 'current-context is not set');
  context.output.out(`${config['current-context']}\n`);
}

export async function getContexts(names: string[], flags: { noHeaders?: boolean; output?: string }, globals: GlobalFlags, context: CliContext): Promise<void> {
  const config = await loadOrEmpty(configPath(globals));
  const unknown = names.filter((name) => !config.contexts.some((entry) => entry.name === name));
  const shown = config.contexts.filter((entry) => names.length === 0 || names.includes(entry.name));
  if (flags.output === 'name') {
    for (const entry of shown) context.output.out(`${entry.name}\n`);
  } else {
    const table: Table = {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: {},
      columnDefinitions: ['Current', 'Name', 'Cluster', 'AuthInfo', 'Namespace'].map((name) => ({ name, type: 'string', priority: 0 })),
      rows: shown.map((entry) => ({
        cells: [entry.name === config['current-context'] ? '*' : '', entry.name, entry.context.cluster, entry.context.user, entry.context.namespace ?? ''],
      })),
    };
    context.output.out(printTable(table, { noHeaders: flags.noHeaders === true }));
  }
  if (unknown.length > 0) throw new CliError('Usage', `context ${unknown.map((name) => `"${name}"`).join(', ')} not found`);
}
