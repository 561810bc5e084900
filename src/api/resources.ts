/** The resource registry: every kind the API serves, with the facts discovery, routing and printing need. */

export type Subresource = 'status' | 'scale' | 'binding' | 'log' | 'exec' | 'eviction';

export interface ResourceInfo {
  /** Plural, lowercase: the URL segment (`deployments`). */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  /** '' for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** Names follow DNS-1123 label (63) rather than subdomain (253) rules. */
  nameIsLabel: boolean;
}

const resource = (
  kind: string,
  group: string,
  namespaced: boolean,
  extra: Partial<Pick<ResourceInfo, 'shortNames' | 'categories' | 'subresources' | 'nameIsLabel' | 'resource'>> = {},
): ResourceInfo => {
  const lower = kind.toLowerCase();
  return {
    resource: extra.resource ?? (lower.endsWith('s') ? `${lower}es` : lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`),
    singular: lower,
    kind,
    listKind: `${kind}List`,
    group,
    version: 'v1',
    namespaced,
    shortNames: extra.shortNames ?? [],
    categories: extra.categories ?? [],
    subresources: extra.subresources ?? [],
    nameIsLabel: extra.nameIsLabel ?? false,
  };
};

export const RESOURCES: readonly ResourceInfo[] = [
  resource('Namespace', '', false, { shortNames: ['ns'], subresources: ['status'], nameIsLabel: true }),
  resource('Node', '', false, { shortNames: ['no'], subresources: ['status'] }),
  resource('Pod', '', true, {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'binding', 'log', 'exec', 'eviction'],
  }),
  resource('Service', '', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'], nameIsLabel: true }),
  resource('Endpoints', '', true, { shortNames: ['ep'], resource: 'endpoints' }),
  resource('ConfigMap', '', true, { shortNames: ['cm'] }),
  resource('Secret', '', true),
  resource('Event', '', true, { shortNames: ['ev'] }),
  resource('PersistentVolumeClaim', '', true, { shortNames: ['pvc'], subresources: ['status'] }),
  resource('Deployment', 'apps', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  resource('ReplicaSet', 'apps', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  resource('StatefulSet', 'apps', true, { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] }),
  resource('DaemonSet', 'apps', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  resource('Ingress', 'networking.k8s.io', true, { shortNames: ['ing'], subresources: ['status'] }),
  resource('Lease', 'coordination.k8s.io', true),
];

export const GROUPS: readonly string[] = [...new Set(RESOURCES.map((r) => r.group))];

export const apiVersionOf = (info: ResourceInfo): string => (info.group ? `${info.group}/${info.version}` : info.version);

/** `deployments.apps`, `pods`: the name Kubernetes prints in errors. */
export const qualifiedName = (info: ResourceInfo): string => (info.group ? `${info.resource}.${info.group}` : info.resource);

export function resourceFor(group: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.resource === resource);
}

export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

/** Resolves what a user typed (`po`, `pod`, `pods`, `Pod`, `deployments.apps`, `deploy.apps`). */
export function resolveResource(typed: string): ResourceInfo | undefined {
  const lower = typed.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return RESOURCES.find(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.resource === name || r.singular === name || r.shortNames.includes(name) || r.kind.toLowerCase() === name),
  );
}
