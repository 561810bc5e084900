/** Discovery documents (/api, /apis, resource lists) and /version, as kubectl reads them. */
import type { ResourceInfo } from '../../../api/resources.js';
import { GROUPS, RESOURCES } from '../../../api/resources.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The Kubernetes version we speak; its minor picks the kubectl behind gcloud's dispatcher. */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' };

export function versionInfo(pm8sVersion: string): Record<string, string> {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: `${KUBERNETES_VERSION.gitVersion}+pm8s-${pm8sVersion}`,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'pm8s',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

const groupEntry = (group: string) => {
  const version = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [version], preferredVersion: version };
};

export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.filter((group) => group !== '').map(groupEntry) };
}

export function apiGroup(group: string): Record<string, unknown> | undefined {
  if (!GROUPS.includes(group) || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  if (version !== 'v1' || !GROUPS.includes(group)) return undefined;
  const resources = RESOURCES.filter((info) => info.group === group).flatMap(resourceEntries);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources };
}

function resourceEntries(info: ResourceInfo): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: info.resource,
    singularName: info.singular,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: ALL_VERBS,
  };
  if (info.shortNames.length > 0) main.shortNames = info.shortNames;
  if (info.categories.length > 0) main.categories = info.categories;
  const subresources = info.subresources.map((subresource) => {
    const entry: Record<string, unknown> = { name: `${info.resource}/${subresource}`, singularName: '', namespaced: info.namespaced };
    switch (subresource) {
      case 'status':
        return { ...entry, kind: info.kind, verbs: ['get', 'patch', 'update'] };
      case 'scale':
        return { ...entry, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
      case 'binding':
        return { ...entry, kind: 'Binding', verbs: ['create'] };
      case 'log':
        return { ...entry, kind: 'Pod', verbs: ['get'] };
      case 'exec':
        return { ...entry, kind: 'PodExecOptions', verbs: ['create', 'get'] };
      case 'eviction':
        return { ...entry, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    }
  });
  return [main, ...subresources];
}
