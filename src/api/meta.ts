/** Small helpers over object metadata shared by the server and clients. */
import type { KubeObject } from './types.js';

/** A deep copy of plain JSON data. */
export const clone = <T>(value: T): T => structuredClone(value);

export const objectKey = (object: KubeObject): string =>
  object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name ?? ''}` : (object.metadata.name ?? '');

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' `generateName` suffix: 5 characters that cannot spell words. */
export function randomSuffix(length = 5): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((byte) => NAME_ALPHABET[byte % NAME_ALPHABET.length]).join('');
}

/** Kubernetes' `Time` (RFC 3339, whole seconds), as in creationTimestamp and lastTransitionTime. */
export function rfc3339(at: Date | number = new Date()): string {
  return (typeof at === 'number' ? new Date(at) : at).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Kubernetes' `MicroTime` (RFC 3339 with microseconds), as in a Lease's renewTime. */
export function microTime(at: Date = new Date()): string {
  return at.toISOString().replace('Z', '000Z');
}
