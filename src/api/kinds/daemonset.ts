/** DaemonSet: one pod per eligible node. */

import { fieldErrors } from '../errors.js';
import { childPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, defineKind, intOrPercentSchema, isSet, isZeroIntOrPercent, labelSelectorSchema, nonNegative } from './common.js';
import { podTemplateSpecSchema } from './pod.js';
import { checkSelectorAndTemplate, defaultTemplate, validateSelectorUpdate } from './workload.js';

const updateStrategySchema = s.object({
  type: s.string({ enum: ['OnDelete', 'RollingUpdate'] }),
  rollingUpdate: s.object({ maxUnavailable: intOrPercentSchema, maxSurge: intOrPercentSchema }),
}).check((strategy, path, errors) => {
  const rolling = strategy.rollingUpdate;
  if (isSet(rolling) && isZeroIntOrPercent(rolling.maxUnavailable) && isZeroIntOrPercent(rolling.maxSurge)) {
    errors.push(fieldErrors.invalid(childPath(childPath(path, 'rollingUpdate'), 'maxUnavailable'), rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
});

export const daemonSetSpecSchema = s.object({
  selector: labelSelectorSchema.required(),
  template: podTemplateSpecSchema.required(),
  updateStrategy: updateStrategySchema,
  minReadySeconds: nonNegative(),
  revisionHistoryLimit: nonNegative(),
}).check((spec, path, errors) => checkSelectorAndTemplate(spec, path, errors, 'daemonset'));
export type DaemonSetSpec = Infer<typeof daemonSetSpecSchema>;

export const daemonSetStatusSchema = s.object({
  currentNumberScheduled: nonNegative(),
  numberMisscheduled: nonNegative(),
  desiredNumberScheduled: nonNegative(),
  numberReady: nonNegative(),
  observedGeneration: nonNegative('int64'),
  updatedNumberScheduled: nonNegative(),
  numberAvailable: nonNegative(),
  numberUnavailable: nonNegative(),
  collisionCount: nonNegative(),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
});
export type DaemonSetStatus = Infer<typeof daemonSetStatusSchema>;

const daemonSetSchema = s.object({ spec: daemonSetSpecSchema.required(), status: daemonSetStatusSchema });
export type DaemonSet = KubeObject & Infer<typeof daemonSetSchema>;

/** SetDefaults_DaemonSet plus pod defaults for the template. */
export function defaultDaemonSet(daemonSet: DaemonSet): void {
  const spec = daemonSet.spec;
  if (!isSet(spec)) return;
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (strategy.rollingUpdate ??= {});
    rolling.maxUnavailable ??= 1;
    rolling.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultTemplate(spec);
}

export const daemonSetKind = defineKind<DaemonSet>({
  schema: daemonSetSchema,
  statusSchema: s.object({ status: daemonSetStatusSchema }),
  defaults: defaultDaemonSet,
  validateUpdate: validateSelectorUpdate,
});
