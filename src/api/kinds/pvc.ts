/** PersistentVolumeClaim: a request for node-local storage. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isNegative, isValidQuantity, isZero } from '../quantity.js';
import { childPath, keyPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, deepEqual, defineKind, isSet, labelSelectorSchema } from './common.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] as const;

const resourceListSchema = s.map(s.quantity());

export const pvcSpecSchema = s.object({
  accessModes: s.array(s.string({ enum: ACCESS_MODES })),
  selector: labelSelectorSchema,
  resources: s.object({ requests: resourceListSchema, limits: resourceListSchema }),
  volumeName: s.string(),
  storageClassName: s.string(),
  volumeMode: s.string({ enum: ['Block', 'Filesystem'] }),
}).check(checkClaimSpec);
export type PersistentVolumeClaimSpec = Infer<typeof pvcSpecSchema>;

function checkClaimSpec(spec: PersistentVolumeClaimSpec, path: string, errors: FieldError[]): void {
  if ((spec.accessModes ?? []).length === 0) errors.push(fieldErrors.required(childPath(path, 'accessModes'), 'at least 1 access mode is required'));
  const storagePath = keyPath(childPath(path, 'resources'), 'storage');
  const storage = spec.resources?.requests?.storage;
  if (!isSet(storage)) {
    errors.push(fieldErrors.required(storagePath));
  } else if (isValidQuantity(storage) && (isNegative(storage) || isZero(storage))) {
    errors.push(fieldErrors.invalid(storagePath, storage, 'must be greater than zero'));
  }
}

export const pvcStatusSchema = s.object({
  phase: s.string({ enum: ['Bound', 'Lost', 'Pending'] }),
  accessModes: s.array(s.string({ enum: ACCESS_MODES })),
  capacity: resourceListSchema,
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
});

const pvcSchema = s.object({ spec: pvcSpecSchema.required(), status: pvcStatusSchema });
export type PersistentVolumeClaim = KubeObject & Infer<typeof pvcSchema>;

/** SetDefaults_PersistentVolumeClaimSpec: volumeMode Filesystem. */
export function defaultClaimSpec(spec: PersistentVolumeClaimSpec | undefined): void {
  if (isSet(spec)) spec.volumeMode ??= 'Filesystem';
}

export const pvcKind = defineKind<PersistentVolumeClaim>({
  schema: pvcSchema,
  statusSchema: s.object({ status: pvcStatusSchema }),
  defaults: (claim) => {
    defaultClaimSpec(claim.spec);
    const status = (claim.status ??= {});
    status.phase ??= 'Pending';
  },
  validateUpdate: (claim, old) => {
    // Only the requested size may change (growing a claim); the rest was fixed when it was bound.
    const comparable = { ...claim.spec, resources: { ...claim.spec?.resources, requests: old.spec?.resources?.requests } };
    return deepEqual(comparable, { ...old.spec, resources: { ...old.spec?.resources } })
      ? []
      : [fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
  },
});
