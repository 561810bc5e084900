/** Namespace: a scope for names; its finalizers hold deletion until contents are gone. */

import { s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, defineKind } from './common.js';

const namespaceStatusSchema = s.object({
  phase: s.string({ enum: ['Active', 'Terminating'] }),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
});

const namespaceSchema = s.object({
  spec: s.object({ finalizers: s.array(s.string()) }),
  status: namespaceStatusSchema,
});
export type Namespace = KubeObject & Infer<typeof namespaceSchema>;

export const namespaceKind = defineKind<Namespace>({
  schema: namespaceSchema,
  statusSchema: s.object({ status: namespaceStatusSchema }),
  // SetDefaults_NamespaceStatus.
  defaults: (namespace) => {
    const status = (namespace.status ??= {});
    status.phase ??= 'Active';
  },
});
