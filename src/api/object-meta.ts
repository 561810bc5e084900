/** ObjectMeta rules every kind shares (apimachinery's ValidateObjectMeta and ValidateObjectMetaUpdate). */

import { fieldErrors } from './errors.js';
import type { FieldError } from './errors.js';
import { annotationsSchema, labelsSchema } from './kinds/common.js';
import {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidPathSegmentName,
  prefixNameCheck,
} from './names.js';
import type { ResourceInfo } from './resources.js';
import { childPath, hasShapeErrors, s } from './schema.js';
import type { Infer } from './schema.js';
import type { ObjectMeta } from './types.js';

const IMMUTABLE = 'field is immutable';
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

export const objectMetaSchema = s.object({
  name: s.string(),
  generateName: s.string(),
  namespace: s.string(),
  uid: s.string(),
  resourceVersion: s.string(),
  generation: s.integer({ format: 'int64', min: 0 }),
  creationTimestamp: s.string(),
  deletionTimestamp: s.string(),
  deletionGracePeriodSeconds: s.integer({ format: 'int64' }),
  labels: labelsSchema,
  annotations: annotationsSchema,
  ownerReferences: s.array(s.object({
    apiVersion: s.string(),
    kind: s.string(),
    name: s.string(),
    uid: s.string(),
    controller: s.boolean(),
    blockOwnerDeletion: s.boolean(),
  }), { mergeKey: 'uid' }),
  finalizers: s.array(s.string()),
  managedFields: s.unknown(),
});
type CheckedMeta = Infer<typeof objectMetaSchema>;

/** Which DNS rule a kind's names follow: Services need a leading letter, some kinds a single label. */
export function nameCheckFor(info: ResourceInfo): (value: string, isPrefix: boolean) => string[] {
  if (info.kind === 'Service') return prefixNameCheck(isDns1035Label);
  return prefixNameCheck(info.nameIsLabel ? isDns1123Label : isDns1123Subdomain);
}

/** Reports into `errors`; returns false when metadata's shape was too broken to check further. */
export function validateObjectMeta(info: ResourceInfo, metadata: unknown, errors: FieldError[]): boolean {
  const before = errors.length;
  objectMetaSchema.required().validate(metadata, 'metadata', errors);
  if (hasShapeErrors(errors, before)) return false;
  const meta = metadata as CheckedMeta;
  const checkName = nameCheckFor(info);

  if (meta.generateName) {
    for (const message of checkName(meta.generateName, true)) errors.push(fieldErrors.invalid('metadata.generateName', meta.generateName, message));
  }
  if (!meta.name) {
    // With generateName the server picks the name after validation of the prefix.
    if (!meta.generateName) errors.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  } else {
    const messages = checkName(meta.name, false);
    // Path-segment rules add nothing once the DNS rule failed on the same characters, but say why "/" and "%" matter.
    for (const message of [...messages, ...isValidPathSegmentName(meta.name)]) errors.push(fieldErrors.invalid('metadata.name', meta.name, message));
  }

  if (info.namespaced) {
    if (!meta.namespace) errors.push(fieldErrors.required('metadata.namespace'));
    else for (const message of isDns1123Label(meta.namespace)) errors.push(fieldErrors.invalid('metadata.namespace', meta.namespace, message));
  } else if (meta.namespace) {
    errors.push(fieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  }

  const owners = meta.ownerReferences ?? [];
  for (const owner of owners) {
    const path = 'metadata.ownerReferences';
    const version = (owner.apiVersion ?? '').split('/').pop() ?? '';
    if (!version) errors.push(fieldErrors.invalid(childPath(path, 'apiVersion'), owner.apiVersion ?? '', 'version must not be empty'));
    if (!owner.kind) errors.push(fieldErrors.invalid(childPath(path, 'kind'), owner.kind ?? '', 'must not be empty'));
    if (!owner.name) errors.push(fieldErrors.invalid(childPath(path, 'name'), owner.name ?? '', 'must not be empty'));
    if (!owner.uid) errors.push(fieldErrors.invalid(childPath(path, 'uid'), owner.uid ?? '', 'must not be empty'));
  }
  const controllers = owners.filter((owner) => owner.controller === true);
  if (controllers.length > 1) {
    const found = controllers.map((owner) => `${owner.kind ?? ''}/${owner.name ?? ''}`).join(' and ');
    errors.push(fieldErrors.invalid('metadata.ownerReferences', owners, `Only one reference can have Controller set to true. Found "true" in references for ${found}`));
  }

  for (const finalizer of meta.finalizers ?? []) {
    const messages = isQualifiedName(finalizer);
    for (const message of messages) errors.push(fieldErrors.invalid('metadata.finalizers', finalizer, message));
    if (messages.length === 0 && !finalizer.includes('/') && !STANDARD_FINALIZERS.includes(finalizer)) {
      errors.push(fieldErrors.invalid('metadata.finalizers', finalizer, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return true;
}

export function validateObjectMetaUpdate(metadata: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    // An empty uid or creationTimestamp in an update means "not sent"; the server keeps the stored one.
    if ((field === 'uid' || field === 'creationTimestamp') && !metadata[field]) continue;
    if ((metadata[field] ?? '') !== (old[field] ?? '')) errors.push(fieldErrors.invalid(`metadata.${field}`, metadata[field] ?? '', IMMUTABLE));
  }
  if (old.deletionTimestamp) {
    const added = (metadata.finalizers ?? []).filter((finalizer) => !(old.finalizers ?? []).includes(finalizer));
    if (added.length > 0) {
      errors.push(fieldErrors.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`));
    }
  }
  return errors;
}
