/** ReplicaSet: keeps N copies of a pod template running. */

import { s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, defineKind, isSet, labelSelectorSchema, nonNegative } from './common.js';
import { podTemplateSpecSchema } from './pod.js';
import { checkSelectorAndTemplate, defaultTemplate, validateSelectorUpdate } from './workload.js';

export const replicaSetSpecSchema = s.object({
  replicas: nonNegative(),
  minReadySeconds: nonNegative(),
  selector: labelSelectorSchema.required(),
  template: podTemplateSpecSchema.required(),
}).check((spec, path, errors) => checkSelectorAndTemplate(spec, path, errors, 'replicaset'));
export type ReplicaSetSpec = Infer<typeof replicaSetSpecSchema>;

export const replicaSetStatusSchema = s.object({
  replicas: nonNegative(),
  fullyLabeledReplicas: nonNegative(),
  readyReplicas: nonNegative(),
  availableReplicas: nonNegative(),
  terminatingReplicas: nonNegative(),
  observedGeneration: nonNegative('int64'),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
});
export type ReplicaSetStatus = Infer<typeof replicaSetStatusSchema>;

const replicaSetSchema = s.object({ spec: replicaSetSpecSchema.required(), status: replicaSetStatusSchema });
export type ReplicaSet = KubeObject & Infer<typeof replicaSetSchema>;

export function defaultReplicaSet(replicaSet: ReplicaSet): void {
  const spec = replicaSet.spec;
  if (!isSet(spec)) return;
  spec.replicas ??= 1;
  defaultTemplate(spec);
}

export const replicaSetKind = defineKind<ReplicaSet>({
  schema: replicaSetSchema,
  statusSchema: s.object({ status: replicaSetStatusSchema }),
  defaults: defaultReplicaSet,
  validateUpdate: validateSelectorUpdate,
});
