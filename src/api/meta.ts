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
