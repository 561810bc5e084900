/** Secret: like a ConfigMap, but values are base64 and never printed back in errors. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { childPath, keyPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { defineKind, isSet } from './common.js';
import { MAX_CONFIG_SIZE, checkConfigKeys, isBase64, validateImmutableData } from './configmap.js';

/** Keys each well-known type requires in `data`. */
const REQUIRED_KEYS: Record<string, readonly string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

const secretSchema = s.object({
  type: s.string(),
  data: s.map(s.string().check((value, path, errors) => {
    // Secret values must never appear in an error message.
    if (!isBase64(value)) errors.push(fieldErrors.invalid(path, '<secret contents redacted>', 'must be a base64-encoded string'));
  })).check(checkConfigKeys),
  stringData: s.map(s.string()).check(checkConfigKeys),
  immutable: s.boolean(),
}).check((secret, _path, errors) => checkSecret(secret, errors));
export type Secret = KubeObject & Infer<typeof secretSchema>;

function checkSecret(secret: Infer<typeof secretSchema>, errors: FieldError[]): void {
  const data = secret.data ?? {};
  const present = (key: string): boolean => Object.hasOwn(data, key) || Object.hasOwn(secret.stringData ?? {}, key);
  for (const key of REQUIRED_KEYS[secret.type ?? 'Opaque'] ?? []) if (!present(key)) errors.push(fieldErrors.required(keyPath('data', key)));
  if (secret.type === 'kubernetes.io/basic-auth' && !present('username') && !present('password')) {
    errors.push(fieldErrors.required(keyPath('data', 'username')));
    errors.push(fieldErrors.required(keyPath('data', 'password')));
  }
  let size = 0;
  for (const value of Object.values(data)) size += Math.floor((value.length * 3) / 4);
  for (const value of Object.values(secret.stringData ?? {})) size += Buffer.byteLength(value);
  if (size > MAX_CONFIG_SIZE) errors.push(fieldErrors.tooLongBytes(childPath('', 'data'), MAX_CONFIG_SIZE));
}

/** SetDefaults_Secret, plus what Kubernetes does on every write: stringData is folded into data and never stored. */
export function defaultSecret(secret: Secret): void {
  secret.type ??= 'Opaque';
  if (!isSet(secret.stringData)) return;
  const data = (secret.data ??= {});
  for (const [key, value] of Object.entries(secret.stringData)) if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
  delete secret.stringData;
}

export const secretKind = defineKind<Secret>({
  schema: secretSchema,
  defaults: defaultSecret,
  validateUpdate: (secret, old) => {
    const errors = validateImmutableData(secret, old, ['data']);
    if ((old.type ?? 'Opaque') !== (secret.type ?? 'Opaque')) errors.push(fieldErrors.invalid('type', secret.type ?? '', 'field is immutable'));
    return errors;
  },
});
