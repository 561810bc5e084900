/**
 * Authentication for the node API without a credential of its own: a bearer token is accepted when
 * the API server accepts it for reading this agent's Node (the kubelet's webhook authentication,
 * with a GET standing in for TokenReview + SubjectAccessReview). Answers are cached briefly, by
 * the token's hash, so a `logs -f` does not cost a server round trip per request.
 */
import { createHash } from 'node:crypto';
import type { ApiError } from '../../api/errors.js';
import { resolveResource } from '../../api/resources.js';
import { HttpClient, type HttpClientOptions } from '../../client/http-client.js';

const nodes = resolveResource('nodes')!;
const ACCEPTED_TTL_MS = 60_000;
const REFUSED_TTL_MS = 5_000;
const MAX_CACHED = 1000;

export function createTokenVerifier(connection: Omit<HttpClientOptions, 'token'>, nodeName: string): (authorization: string | undefined) => Promise<boolean> {
  const cache = new Map<string, { accepted: boolean; until: number }>();
  return async (authorization) => {
    const match = /^bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (match === null) return false;
    const key = createHash('sha256').update(match[1]!).digest('hex');
    const cached = cache.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached.accepted;
    const client = new HttpClient({ ...connection, token: match[1]!, requestTimeoutMs: 5000 });
    let accepted: boolean;
    try {
      await client.get(nodes, undefined, nodeName);
      accepted = true;
    } catch (error) {
      const code = (error as ApiError).code;
      if (code === 404) accepted = true; // authenticated; our Node is just not there (re-registering)
      else if (code === 401 || code === 403) accepted = false;
      else return false; // server down or erring: refused now, not remembered
    } finally {
      client.close();
    }
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(key, { accepted, until: Date.now() + (accepted ? ACCEPTED_TTL_MS : REFUSED_TTL_MS) });
    return accepted;
  };
}
