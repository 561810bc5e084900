/** Deployment: rolls a pod template out through ReplicaSets. */

import { fieldErrors } from '../errors.js';
import { childPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, defineKind, intOrPercentSchema, isSet, isZeroIntOrPercent, labelSelectorSchema, nonNegative } from './common.js';
import { podTemplateSpecSchema } from './pod.js';
import { checkSelectorAndTemplate, defaultTemplate, validateSelectorUpdate } from './workload.js';

const strategySchema = s.object({
  type: s.string({ enum: ['Recreate', 'RollingUpdate'] }),
  rollingUpdate: s.object({ maxUnavailable: intOrPercentSchema, maxSurge: intOrPercentSchema }),
}).check((strategy, path, errors) => {
  const rollingPath = childPath(path, 'rollingUpdate');
  if (strategy.type === 'Recreate' && isSet(strategy.rollingUpdate)) {
    errors.push(fieldErrors.forbidden(rollingPath, "may not be specified when strategy `type` is 'Recreate'"));
  }
  const rolling = strategy.rollingUpdate;
  if (isSet(rolling) && isZeroIntOrPercent(rolling.maxUnavailable) && isZeroIntOrPercent(rolling.maxSurge)) {
    errors.push(fieldErrors.invalid(childPath(rollingPath, 'maxUnavailable'), rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
});

export const deploymentSpecSchema = s.object({
  replicas: nonNegative(),
  selector: labelSelectorSchema.required(),
  template: podTemplateSpecSchema.required(),
  strategy: strategySchema,
  minReadySeconds: nonNegative(),
  revisionHistoryLimit: nonNegative(),
  paused: s.boolean(),
  progressDeadlineSeconds: nonNegative(),
}).check((spec, path, errors) => {
  checkSelectorAndTemplate(spec, path, errors, 'deployment');
  if (isSet(spec.progressDeadlineSeconds) && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
    errors.push(fieldErrors.invalid(childPath(path, 'progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
});
export type DeploymentSpec = Infer<typeof deploymentSpecSchema>;

export const deploymentStatusSchema = s.object({
  observedGeneration: nonNegative('int64'),
  replicas: nonNegative(),
  updatedReplicas: nonNegative(),
  readyReplicas: nonNegative(),
  availableReplicas: nonNegative(),
  unavailableReplicas: nonNegative(),
  terminatingReplicas: nonNegative(),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
  collisionCount: nonNegative(),
});
export type DeploymentStatus = Infer<typeof deploymentStatusSchema>;

const deploymentSchema = s.object({ spec: deploymentSpecSchema.required(), status: deploymentStatusSchema });
export type Deployment = KubeObject & Infer<typeof deploymentSchema>;

/** SetDefaults_Deployment plus pod defaults for the template. */
export function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (!isSet(spec)) return;
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (strategy.rollingUpdate ??= {});
    rolling.maxUnavailable ??= '25%';
    rolling.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultTemplate(spec);
}

export const deploymentKind = defineKind<Deployment>({
  schema: deploymentSchema,
  statusSchema: s.object({ status: deploymentStatusSchema }),
  defaults: defaultDeployment,
  validateUpdate: validateSelectorUpdate,
});
