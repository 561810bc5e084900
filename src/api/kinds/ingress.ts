/** Ingress (networking.k8s.io/v1): HTTP routing by host and path to Services. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isDns1035Label, isDns1123Subdomain, isValidPortName, isValidPortNumber } from '../names.js';
import { childPath, indexPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { defineKind, isSet, objectReferenceSchema } from './common.js';

export const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'] as const;

const backendSchema = s.object({
  service: s.object({
    name: s.string().required(),
    port: s.object({ name: s.string(), number: s.integer() }).required(),
  }),
  resource: objectReferenceSchema,
}).check(checkBackend);

function checkBackend(backend: Infer<typeof backendSchema>, path: string, errors: FieldError[]): void {
  const service = backend.service;
  if (isSet(service) && isSet(backend.resource)) errors.push(fieldErrors.invalid(path, '', 'cannot set both resource and service backends'));
  if (!isSet(service)) {
    if (!isSet(backend.resource)) errors.push(fieldErrors.invalid(path, '', 'resource or service backend is required'));
    return;
  }
  const servicePath = childPath(path, 'service');
  for (const message of isDns1035Label(service.name)) errors.push(fieldErrors.invalid(childPath(servicePath, 'name'), service.name, message));
  const portPath = childPath(servicePath, 'port');
  const { name, number } = service.port;
  if (name && isSet(number)) errors.push(fieldErrors.invalid(portPath, service.port, 'cannot set both port name & port number'));
  else if (name) for (const message of isValidPortName(name)) errors.push(fieldErrors.invalid(childPath(portPath, 'name'), name, message));
  else if (isSet(number)) for (const message of isValidPortNumber(number)) errors.push(fieldErrors.invalid(childPath(portPath, 'number'), number, message));
  else errors.push(fieldErrors.required(portPath, 'port name or number is required'));
}

const httpPathSchema = s.object({
  path: s.string(),
  pathType: s.string({ enum: PATH_TYPES }),
  backend: backendSchema.required(),
}).check((httpPath, path, errors) => {
  if (!isSet(httpPath.pathType)) {
    errors.push(fieldErrors.required(childPath(path, 'pathType'), 'pathType must be specified'));
    return;
  }
  const value = httpPath.path ?? '';
  if (httpPath.pathType !== 'ImplementationSpecific' && !value.startsWith('/')) {
    errors.push(fieldErrors.invalid(childPath(path, 'path'), value, 'must be an absolute path'));
  }
  if (httpPath.pathType === 'Prefix' || httpPath.pathType === 'Exact') {
    for (const bad of ['//', '/./', '/../', '%2f', '%2F']) {
      if (value.includes(bad)) errors.push(fieldErrors.invalid(childPath(path, 'path'), value, `must not contain '${bad}'`));
    }
    for (const suffix of ['/..', '/.']) {
      if (value.endsWith(suffix)) errors.push(fieldErrors.invalid(childPath(path, 'path'), value, `cannot end with '${suffix}'`));
    }
  }
});

const checkHost = (host: string, path: string, errors: FieldError[]): void => {
  // One leading wildcard label is allowed ("*.example.com").
  const checked = host.startsWith('*.') ? host.slice(2) : host;
  for (const message of isDns1123Subdomain(checked)) errors.push(fieldErrors.invalid(path, host, message));
};

export const ingressSpecSchema = s.object({
  ingressClassName: s.string(),
  defaultBackend: backendSchema,
  tls: s.array(s.object({ hosts: s.array(s.string()), secretName: s.string() })),
  rules: s.array(s.object({
    host: s.string(),
    http: s.object({ paths: s.array(httpPathSchema).required() }),
  })),
}).check((spec, path, errors) => {
  if (!isSet(spec.defaultBackend) && (spec.rules ?? []).length === 0) {
    errors.push(fieldErrors.invalid(path, spec, 'either `defaultBackend` or `rules` must be specified'));
  }
  (spec.rules ?? []).forEach((rule, index) => {
    if (rule.host) checkHost(rule.host, childPath(indexPath(childPath(path, 'rules'), index), 'host'), errors);
  });
  (spec.tls ?? []).forEach((tls, index) => {
    (tls.hosts ?? []).forEach((host, hostIndex) => checkHost(host, indexPath(childPath(indexPath(childPath(path, 'tls'), index), 'hosts'), hostIndex), errors));
  });
});
export type IngressSpec = Infer<typeof ingressSpecSchema>;

const ingressStatusSchema = s.object({
  loadBalancer: s.object({ ingress: s.array(s.object({ ip: s.string(), hostname: s.string(), ports: s.array(s.unknown()) })) }),
});

const ingressSchema = s.object({ spec: ingressSpecSchema.required(), status: ingressStatusSchema });
export type Ingress = KubeObject & Infer<typeof ingressSchema>;

export const ingressKind = defineKind<Ingress>({ schema: ingressSchema, statusSchema: s.object({ status: ingressStatusSchema }) });
