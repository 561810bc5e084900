/** StatefulSet: pods with stable names and their own claims, created in order. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isDns1035Label } from '../names.js';
import { childPath, indexPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, deepEqual, defineKind, isSet, labelSelectorSchema, nonNegative, templateMetadataSchema } from './common.js';
import { podTemplateSpecSchema } from './pod.js';
import { defaultClaimSpec, pvcSpecSchema } from './pvc.js';
import { checkSelectorAndTemplate, defaultTemplate, validateSelectorUpdate } from './workload.js';

const retentionSchema = s.string({ enum: ['Delete', 'Retain'] });

export const statefulSetSpecSchema = s.object({
  replicas: nonNegative(),
  selector: labelSelectorSchema.required(),
  template: podTemplateSpecSchema.required(),
  serviceName: s.string(),
  podManagementPolicy: s.string(),
  updateStrategy: s.object({
    type: s.string(),
    rollingUpdate: s.object({ partition: nonNegative(), maxUnavailable: s.intOrString() }),
  }),
  revisionHistoryLimit: nonNegative(),
  minReadySeconds: nonNegative(),
  volumeClaimTemplates: s.array(s.object({ metadata: templateMetadataSchema, spec: pvcSpecSchema.required() })),
  persistentVolumeClaimRetentionPolicy: s.object({ whenDeleted: retentionSchema, whenScaled: retentionSchema }),
  ordinals: s.object({ start: nonNegative() }),
}).check((spec, path, errors) => {
  checkSelectorAndTemplate(spec, path, errors, 'statefulset');
  // Kubernetes words these two as "must be 'A' or 'B'" rather than listing supported values.
  if (isSet(spec.podManagementPolicy) && spec.podManagementPolicy !== 'OrderedReady' && spec.podManagementPolicy !== 'Parallel') {
    errors.push(fieldErrors.invalid(childPath(path, 'podManagementPolicy'), spec.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const strategy = spec.updateStrategy;
  if (isSet(strategy) && isSet(strategy.type) && strategy.type !== 'RollingUpdate' && strategy.type !== 'OnDelete') {
    errors.push(fieldErrors.invalid(childPath(path, 'updateStrategy'), strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  if (isSet(strategy) && strategy.type === 'OnDelete' && isSet(strategy.rollingUpdate)) {
    errors.push(fieldErrors.invalid(childPath(childPath(path, 'updateStrategy'), 'rollingUpdate'), strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  if (isSet(spec.serviceName) && spec.serviceName !== '') checkServiceName(spec.serviceName, childPath(path, 'serviceName'), errors);
  allowClaimTemplateMounts(spec, path, errors);
});
export type StatefulSetSpec = Infer<typeof statefulSetSpecSchema>;

/**
 * A template's volume mount may name a volumeClaimTemplate: the controller adds that volume to each
 * pod. Kubernetes skips the template's pod spec checks for this reason; pm8s drops just those errors.
 */
function allowClaimTemplateMounts(spec: StatefulSetSpec, path: string, errors: FieldError[]): void {
  const claimNames = new Set((spec.volumeClaimTemplates ?? []).map((claim) => claim.metadata?.name));
  const podSpec = spec.template?.spec;
  if (claimNames.size === 0 || !isSet(podSpec)) return;
  const specPath = childPath(childPath(path, 'template'), 'spec');
  const allowed = new Set<string>();
  for (const list of ['initContainers', 'containers'] as const) {
    (podSpec[list] ?? []).forEach((container, index) => {
      (container.volumeMounts ?? []).forEach((mount, mountIndex) => {
        if (claimNames.has(mount.name)) allowed.add(childPath(indexPath(childPath(indexPath(childPath(specPath, list), index), 'volumeMounts'), mountIndex), 'name'));
      });
    });
  }
  for (let index = errors.length - 1; index >= 0; index--) {
    const error = errors[index];
    if (error && error.type === 'FieldValueNotFound' && allowed.has(error.field)) errors.splice(index, 1);
  }
}

function checkServiceName(name: string, path: string, errors: FieldError[]): void {
  for (const message of isDns1035Label(name)) errors.push(fieldErrors.invalid(path, name, message));
}

export const statefulSetStatusSchema = s.object({
  observedGeneration: nonNegative('int64'),
  replicas: nonNegative(),
  readyReplicas: nonNegative(),
  currentReplicas: nonNegative(),
  updatedReplicas: nonNegative(),
  availableReplicas: nonNegative(),
  currentRevision: s.string(),
  updateRevision: s.string(),
  collisionCount: nonNegative(),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
});
export type StatefulSetStatus = Infer<typeof statefulSetStatusSchema>;

const statefulSetSchema = s.object({ spec: statefulSetSpecSchema.required(), status: statefulSetStatusSchema });
export type StatefulSet = KubeObject & Infer<typeof statefulSetSchema>;

/** SetDefaults_StatefulSet plus pod and claim defaults for the templates. */
export function defaultStatefulSet(statefulSet: StatefulSet): void {
  const spec = statefulSet.spec;
  if (!isSet(spec)) return;
  spec.podManagementPolicy ??= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (!isSet(strategy.type)) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === 'RollingUpdate' && isSet(strategy.rollingUpdate)) strategy.rollingUpdate.partition ??= 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ??= 'Retain';
  retention.whenScaled ??= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  for (const claim of spec.volumeClaimTemplates ?? []) if (isSet(claim)) defaultClaimSpec(claim.spec);
  defaultTemplate(spec);
}

const MUTABLE_SPEC_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'] as const;

function validateStatefulSetUpdate(statefulSet: StatefulSet, old: StatefulSet): FieldError[] {
  const errors = validateSelectorUpdate(statefulSet, old);
  const strip = (spec: StatefulSetSpec | undefined): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...spec };
    for (const field of [...MUTABLE_SPEC_FIELDS, 'selector']) delete copy[field];
    return copy;
  };
  if (!deepEqual(strip(statefulSet.spec), strip(old.spec))) {
    errors.push(fieldErrors.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errors;
}

export const statefulSetKind = defineKind<StatefulSet>({
  schema: statefulSetSchema,
  statusSchema: s.object({ status: statefulSetStatusSchema }),
  defaults: defaultStatefulSet,
  validateUpdate: validateStatefulSetUpdate,
});
