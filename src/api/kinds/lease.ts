/** Lease: leader election and node heartbeats. */

import { fieldErrors } from '../errors.js';
import { s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { defineKind, nonNegative } from './common.js';

const leaseSchema = s.object({
  spec: s.object({
    holderIdentity: s.string(),
    leaseDurationSeconds: s.integer().check((seconds, path, errors) => {
      if (seconds <= 0) errors.push(fieldErrors.invalid(path, seconds, 'must be greater than 0'));
    }),
    acquireTime: s.string(),
    renewTime: s.string(),
    leaseTransitions: nonNegative(),
    strategy: s.string(),
    preferredHolder: s.string(),
  }),
});
export type Lease = KubeObject & Infer<typeof leaseSchema>;

export const leaseKind = defineKind<Lease>({ schema: leaseSchema });
