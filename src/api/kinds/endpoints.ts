/** Endpoints: the addresses behind a Service, written by the endpoints controller. */

import { isIP } from 'node:net';
import { fieldErrors } from '../errors.js';
import { s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { defineKind, isSet, objectReferenceSchema, portNumberSchema } from './common.js';
import { PROTOCOLS } from './container.js';

const addressSchema = s.object({
  ip: s.string().required().check((ip, path, errors) => {
    if (isIP(ip) === 0) errors.push(fieldErrors.invalid(path, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  }),
  hostname: s.string(),
  nodeName: s.string(),
  targetRef: objectReferenceSchema,
});

export const endpointSubsetSchema = s.object({
  addresses: s.array(addressSchema),
  notReadyAddresses: s.array(addressSchema),
  ports: s.array(s.object({ name: s.string(), port: portNumberSchema.required(), protocol: s.string({ enum: PROTOCOLS }), appProtocol: s.string() })),
});
export type EndpointSubset = Infer<typeof endpointSubsetSchema>;

const endpointsSchema = s.object({ subsets: s.array(endpointSubsetSchema) });
export type Endpoints = KubeObject & Infer<typeof endpointsSchema>;

export const endpointsKind = defineKind<Endpoints>({
  schema: endpointsSchema,
  defaults: (endpoints) => {
    for (const subset of endpoints.subsets ?? []) {
      for (const port of subset?.ports ?? []) if (isSet(port)) port.protocol ??= 'TCP';
    }
  },
});
