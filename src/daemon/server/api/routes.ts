/** Maps a request path onto what it names: a discovery document or a resource (collection, object, subresource). */
import type { ResourceInfo } from '../../../api/resources.js';
import { resourceFor } from '../../../api/resources.js';

export type Route =
  | { type: 'version' | 'healthz' | 'livez' | 'readyz' | 'openapi-v2' | 'openapi-v3' | 'api-versions' | 'api-groups' }
  | { type: 'api-group'; group: string }
  | { type: 'resource-list'; group: string; version: string }
  | {
      type: 'resource';
      info: ResourceInfo;
      namespace: string | undefined;
      name: string | undefined;
      subresource: string | undefined;
      /** The legacy `/watch/` path form. */
      watch: boolean;
    }
  | { type: 'not-found' };

const SIMPLE: Record<string, Route['type']> = {
  '/version': 'version',
  '/healthz': 'healthz',
  '/livez': 'livez',
  '/readyz': 'readyz',
  '/openapi/v2': 'openapi-v2',
  '/openapi/v3': 'openapi-v3',
  '/api': 'api-versions',
  '/apis': 'api-groups',
};

export function route(pathname: string): Route {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const simple = SIMPLE[trimmed] ?? (trimmed.startsWith('/healthz/') ? 'healthz' : trimmed.startsWith('/readyz/') ? 'readyz' : trimmed.startsWith('/livez/') ? 'livez' : undefined);
  if (simple) return { type: simple } as Route;
  let segments: string[];
  try {
    segments = trimmed.split('/').slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    return { type: 'not-found' };
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    group = segments[1] ?? '';
    if (segments.length === 2) return { type: 'api-group', group };
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else {
    return { type: 'not-found' };
  }
  if (!version) return { type: 'not-found' };
  if (rest.length === 0) return { type: 'resource-list', group, version };
  if (version !== 'v1') return { type: 'not-found' };
  let watch = false;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // `namespaces/NS/RESOURCE...` is namespaced, unless what follows NS is not a namespaced resource
  // (then it is the Namespace object itself, or one of its subresources).
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = resourceFor(group, rest[2]!);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const info = resourceFor(group, rest[0]!);
  if (!info || rest.length > 3) return { type: 'not-found' };
  if (namespace === undefined && info.namespaced && rest.length > 1) return { type: 'not-found' };
  return { type: 'resource', info, namespace, name: rest[1], subresource: rest[2], watch };
}
