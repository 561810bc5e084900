/** Node: a machine running the pm8s agent. */

import { fieldErrors } from '../errors.js';
import { isQualifiedName, isValidLabelValue } from '../names.js';
import { isNegative, isValidQuantity } from '../quantity.js';
import { childPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, defineKind, isSet, portNumberSchema } from './common.js';

export const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'] as const;

const taintSchema = s.object({
  key: s.string().required(),
  value: s.string(),
  effect: s.string({ enum: TAINT_EFFECTS }).required(),
  timeAdded: s.string(),
}).check((taint, path, errors) => {
  for (const message of isQualifiedName(taint.key)) errors.push(fieldErrors.invalid(childPath(path, 'key'), taint.key, message));
  if (taint.value) for (const message of isValidLabelValue(taint.value)) errors.push(fieldErrors.invalid(childPath(path, 'value'), taint.value, message));
});

const resourceListSchema = s.map(s.quantity().check((quantity, path, errors) => {
  if (isValidQuantity(quantity) && isNegative(quantity)) errors.push(fieldErrors.invalid(path, quantity, 'must be greater than or equal to 0'));
}));

export const nodeSpecSchema = s.object({
  podCIDR: s.string(),
  podCIDRs: s.array(s.string()),
  providerID: s.string(),
  unschedulable: s.boolean(),
  taints: s.array(taintSchema),
});

export const nodeStatusSchema = s.object({
  capacity: resourceListSchema,
  allocatable: resourceListSchema,
  phase: s.string(),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
  addresses: s.array(s.object({ type: s.string().required(), address: s.string().required() }), { mergeKey: 'type' }),
  daemonEndpoints: s.object({ kubeletEndpoint: s.object({ Port: portNumberSchema }) }),
  nodeInfo: s.map(s.unknown()),
});
export type NodeStatus = Infer<typeof nodeStatusSchema>;

const nodeSchema = s.object({ spec: nodeSpecSchema, status: nodeStatusSchema });
export type Node = KubeObject & Infer<typeof nodeSchema>;

export const nodeKind = defineKind<Node>({
  schema: nodeSchema,
  statusSchema: s.object({ status: nodeStatusSchema }),
  // SetDefaults_NodeStatus: allocatable starts as capacity.
  defaults: (node) => {
    const status = node.status;
    if (isSet(status) && isSet(status.capacity) && !isSet(status.allocatable)) status.allocatable = { ...status.capacity };
  },
});
