/** Event (core/v1): what happened to an object, for `kubectl describe` and `get events`. */

import { fieldErrors } from '../errors.js';
import { s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { deepEqual, defineKind, nonNegative, objectReferenceSchema } from './common.js';

const eventSchema = s.object({
  involvedObject: objectReferenceSchema.required(),
  reason: s.string(),
  message: s.string(),
  source: s.object({ component: s.string(), host: s.string() }),
  firstTimestamp: s.string(),
  lastTimestamp: s.string(),
  eventTime: s.string(),
  count: nonNegative(),
  type: s.string({ enum: ['Normal', 'Warning'] }),
  action: s.string(),
  reportingComponent: s.string(),
  reportingInstance: s.string(),
  related: objectReferenceSchema,
  series: s.object({ count: nonNegative(), lastObservedTime: s.string() }),
});
export type Event = KubeObject & Infer<typeof eventSchema>;

export const eventKind = defineKind<Event>({
  schema: eventSchema.check((event, _path, errors) => {
    // Events live beside what they describe; events about cluster-scoped objects may sit in "default".
    const namespace = (event as Event).metadata?.namespace ?? '';
    const involvedNamespace = event.involvedObject.namespace ?? '';
    const matches = involvedNamespace === '' ? namespace === '' || namespace === 'default' : namespace === involvedNamespace;
    if (!matches) errors.push(fieldErrors.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
  }),
  validateUpdate: (event, old) =>
    deepEqual(event.involvedObject, old.involvedObject) ? [] : [fieldErrors.invalid('involvedObject', event.involvedObject, 'field is immutable')],
});
