/** ConfigMap: plain configuration, mounted as files or read into env. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isConfigMapKey } from '../names.js';
import { keyPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { deepEqual, defineKind } from './common.js';

export const MAX_CONFIG_SIZE = 1024 * 1024;

export function checkConfigKeys(data: Record<string, string>, path: string, errors: FieldError[]): void {
  for (const key of Object.keys(data)) {
    for (const message of isConfigMapKey(key)) errors.push(fieldErrors.invalid(path, key, message));
  }
}

export const isBase64 = (value: string): boolean => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value);

const configMapSchema = s.object({
  data: s.map(s.string()).check(checkConfigKeys),
  binaryData: s.map(s.string().check((value, path, errors) => {
    if (!isBase64(value)) errors.push(fieldErrors.invalid(path, '<binary>', 'must be a base64-encoded string'));
  })).check(checkConfigKeys),
  immutable: s.boolean(),
}).check((configMap, _path, errors) => {
  let size = 0;
  for (const [key, value] of Object.entries(configMap.data ?? {})) {
    size += Buffer.byteLength(value);
    if (Object.hasOwn(configMap.binaryData ?? {}, key)) errors.push(fieldErrors.invalid(keyPath('data', key), key, 'duplicate of key present in binaryData'));
  }
  for (const value of Object.values(configMap.binaryData ?? {})) size += Math.floor((value.length * 3) / 4);
  if (size > MAX_CONFIG_SIZE) errors.push(fieldErrors.tooLongBytes('data', MAX_CONFIG_SIZE));
});
export type ConfigMap = KubeObject & Infer<typeof configMapSchema>;

/** Once `immutable: true` is stored, contents and the flag itself are frozen. */
export function validateImmutableData(object: { immutable?: boolean } & Record<string, unknown>, old: { immutable?: boolean } & Record<string, unknown>, fields: readonly string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (object.immutable !== true) errors.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const field of fields) {
    if (!deepEqual(object[field], old[field])) errors.push(fieldErrors.forbidden(field, 'field is immutable when `immutable` is set'));
  }
  return errors;
}

export const configMapKind = defineKind<ConfigMap>({
  schema: configMapSchema,
  validateUpdate: (configMap, old) => validateImmutableData(configMap, old, ['data', 'binaryData']),
});
