/**
 * Kubeconfig files in kubectl's own format, so one file serves `pm8s`,
 * kubectl and @kubernetes/client-node alike. Fields pm8s does not use
 * (client certificates, exec plugins, extensions) are kept as read.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '../lib/write-file-atomic.js';
import { CodedError } from '../lib/coded-error.js';

export interface KubeconfigCluster {
  server: string;
  'certificate-authority-data'?: string;
  'certificate-authority'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

export interface KubeconfigUser {
  token?: string;
}

export interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace?: string;
}

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: Array<{ name: string; cluster: KubeconfigCluster }>;
  users: Array<{ name: string; user: KubeconfigUser }>;
  contexts: Array<{ name: string; context: KubeconfigContext }>;
  'current-context': string;
  preferences: Record<string, unknown>;
}

export interface ResolvedContext {
  server: string;
  caPem?: string;
  /** Set when the cluster names a CA file; `resolveContextWithFiles` reads it into `caPem`. */
  caFile?: string;
  insecureSkipTlsVerify: boolean;
  token?: string;
  namespace: string;
  contextName: string;
}

export type KubeconfigErrorCode = 'KubeconfigNotFound' | 'KubeconfigInvalid' | 'NoCurrentContext' | 'ContextNotFound' | 'ClusterNotFound' | 'UserNotFound';

export class KubeconfigError extends CodedError<KubeconfigErrorCode> {}

/** `$PM8S_CONFIG`, else `~/.pm8s/config`. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PM8S_CONFIG) return env.PM8S_CONFIG;
  return path.join(env.HOME || os.homedir(), '.pm8s', 'config');
}

export async function loadKubeconfig(file: string): Promise<Kubeconfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KubeconfigError('KubeconfigNotFound', `kubeconfig ${file} does not exist (set PM8S_CONFIG or pass --kubeconfig)`);
    }
    throw error;
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new KubeconfigError('KubeconfigInvalid', `kubeconfig ${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const problem = (why: string): KubeconfigError => new KubeconfigError('KubeconfigInvalid', `kubeconfig ${file} is invalid: ${why}`);
  return validateKubeconfig(document, problem);
}

/** The connection settings of `contextName`, or of the current context. */
export function resolveContext(config: Kubeconfig, contextName?: string): ResolvedContext {
  const name = contextName ?? config['current-context'];
  if (!name) throw new KubeconfigError('NoCurrentContext', 'no context is selected: set current-context (pm8s config use-context NAME) or pass --context');
  const context = findContext(config, name);
  const cluster = config.clusters.find((entry) => entry.name === context.cluster)?.cluster;
  if (!cluster) throw new KubeconfigError('ClusterNotFound', `cluster "${context.cluster}" of context "${name}" not found in kubeconfig`);
  if (!cluster.server) throw new KubeconfigError('KubeconfigInvalid', `cluster "${context.cluster}" has no server`);
  let token: string | undefined;
  if (context.user) {
    const user = config.users.find((entry) => entry.name === context.user)?.user;
    if (!user) throw new KubeconfigError('UserNotFound', `user "${context.user}" of context "${name}" not found in kubeconfig`);
    token = user.token;
  }
  const caData = cluster['certificate-authority-data'];
  const caFile = caData ? undefined : cluster['certificate-authority'];
  const insecureSkipTlsVerify = cluster['insecure-skip-tls-verify'] === true;
  if (insecureSkipTlsVerify && (caData || caFile)) {
    // kubectl refuses this combination too: the CA would be silently ignored.
    throw new KubeconfigError('KubeconfigInvalid', `cluster "${context.cluster}" sets both a certificate authority and insecure-skip-tls-verify`);
  }
  return {
    server: cluster.server,
    ...(caData ? { caPem: Buffer.from(caData, 'base64').toString('utf8') } : {}),
    ...(caFile ? { caFile } : {}),
    insecureSkipTlsVerify,
    ...(token ? { token } : {}),
    namespace: context.namespace || 'default',
    contextName: name,
  };
}

/** `resolveContext`, also reading a `certificate-authority` file; relative paths are relative to the kubeconfig, as in kubectl. */
export async function resolveContextWithFiles(config: Kubeconfig, contextName?: string, configPath?: string): Promise<ResolvedContext> {
  const resolved = resolveContext(config, contextName);
  if (resolved.caFile === undefined) return resolved;
  const caFile = configPath ? path.resolve(path.dirname(configPath), resolved.caFile) : resolved.caFile;
  return { ...resolved, caFile, caPem: await readFile(caFile, 'utf8') };
}

/** A one-cluster config as `pm8s server` hands out; cluster, user and context are all named `name`. */
export function buildKubeconfig(options: { server: string; caPem?: string; token: string; name?: string; insecureSkipTlsVerify?: boolean }): Kubeconfig {
  const name = options.name ?? 'pm8s';
  const cluster: KubeconfigCluster = { server: options.server };
  if (options.caPem !== undefined) cluster['certificate-authority-data'] = Buffer.from(options.caPem, 'utf8').toString('base64');
  if (options.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name, user: { token: options.token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  };
}

/** Writes `config` with mode 0600; a symlink planted at `file` is replaced, never followed. */
export async function writeKubeconfig(file: string, config: Kubeconfig): Promise<void> {
  await writeFileAtomic(file, stringify(config, { lineWidth: 0 }), 0o600);
}

/** A copy of `config` whose context's cluster (the current one by default) points at `server`. */
export function setServer(config: Kubeconfig, server: string, contextName?: string): Kubeconfig {
  const name = contextName ?? config['current-context'];
  if (!name) throw new KubeconfigError('NoCurrentContext', 'no context is selected: pass a context name or run pm8s config use-context NAME');
  const { cluster } = findContext(config, name);
  if (!config.clusters.some((entry) => entry.name === cluster)) {
    throw new KubeconfigError('ClusterNotFound', `cluster "${cluster}" of context "${name}" not found in kubeconfig`);
  }
  return {
    ...config,
    clusters: config.clusters.map((entry) => (entry.name === cluster ? { ...entry, cluster: { ...entry.cluster, server } } : entry)),
  };
}

/** A copy of `config` with `name` as the current context. */
export function useContext(config: Kubeconfig, name: string): Kubeconfig {
  findContext(config, name);
  return { ...config, 'current-context': name };
}

function findContext(config: Kubeconfig, name: string): KubeconfigContext {
  const context = config.contexts.find((entry) => entry.name === name)?.context;
  if (!context) {
    const known = config.contexts.map((entry) => entry.name);
    throw new KubeconfigError('ContextNotFound', `context "${name}" not found in kubeconfig (known: ${known.length ? known.join(', ') : 'none'})`);
  }
  return context;
}

type Problem = (why: string) => KubeconfigError;

function validateKubeconfig(document: unknown, problem: Problem): Kubeconfig {
  // An empty file is an empty config, as for kubectl.
  const root = document ?? {};
  if (!isRecord(root)) throw problem('the top level is not a mapping');
  if (root.apiVersion !== undefined && root.apiVersion !== 'v1') throw problem(`apiVersion is ${JSON.stringify(root.apiVersion)}, expected "v1"`);
  if (root.kind !== undefined && root.kind !== 'Config') throw problem(`kind is ${JSON.stringify(root.kind)}, expected "Config"`);
  const currentContext = optionalString(root['current-context'], 'current-context', problem) ?? '';
  const preferences = root.preferences ?? {};
  if (!isRecord(preferences)) throw problem('preferences is not a mapping');

  const clusters = namedList(root.clusters, 'clusters', 'cluster', problem, (value, where) => {
    const cluster: KubeconfigCluster = { ...value, server: optionalString(value.server, `${where}.server`, problem) ?? '' };
    optionalString(value['certificate-authority-data'], `${where}.certificate-authority-data`, problem);
    optionalString(value['certificate-authority'], `${where}.certificate-authority`, problem);
    const insecure = value['insecure-skip-tls-verify'];
    if (insecure !== undefined && typeof insecure !== 'boolean') throw problem(`${where}.insecure-skip-tls-verify is not a boolean`);
    return cluster;
  });
  const users = namedList(root.users, 'users', 'user', problem, (value, where) => {
    optionalString(value.token, `${where}.token`, problem);
    return value as KubeconfigUser;
  });
  const contexts = namedList(root.contexts, 'contexts', 'context', problem, (value, where) => {
    const namespace = optionalString(value.namespace, `${where}.namespace`, problem);
    return {
      ...value,
      // kubectl writes `user: ""` for a context without credentials, and reads a missing one the same way.
      cluster: optionalString(value.cluster, `${where}.cluster`, problem) ?? '',
      user: optionalString(value.user, `${where}.user`, problem) ?? '',
      ...(namespace === undefined ? {} : { namespace }),
    };
  });
  return { ...root, apiVersion: 'v1', kind: 'Config', clusters, users, contexts, 'current-context': currentContext, preferences };
}

function namedList<K extends string, T>(
  list: unknown,
  listName: string,
  key: K,
  problem: Problem,
  validate: (value: Record<string, unknown>, where: string) => T,
): Array<{ name: string } & Record<K, T>> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw problem(`${listName} is not a list`);
  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const where = `${listName}[${index}]`;
    if (!isRecord(entry)) throw problem(`${where} is not a mapping`);
    const { name } = entry;
    if (typeof name !== 'string' || name === '') throw problem(`${where}.name is missing`);
    if (seen.has(name)) throw problem(`${listName} has two entries named "${name}"`);
    seen.add(name);
    const value = entry[key] ?? {};
    if (!isRecord(value)) throw problem(`${where}.${key} is not a mapping`);
    return { ...entry, name, [key]: validate(value, `${where}.${key}`) } as { name: string } & Record<K, T>;
  });
}

function optionalString(value: unknown, where: string, problem: Problem): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw problem(`${where} is not a string`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
