import type { ResourceInfo } from '../../../api/resources.js';

/** `/apps/deployments/default/web`; a namespace of undefined gives the prefix of every namespace. */
export function storageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${storagePrefix(info, namespace)}${name}`;
}

export function storagePrefix(info: ResourceInfo, namespace: string | undefined): string {
  const base = `/${info.group || 'core'}/${info.resource}/`;
  return info.namespaced && namespace !== undefined ? `${base}${namespace}/` : base;
}
