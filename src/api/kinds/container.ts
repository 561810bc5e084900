/** Container: the process a pod runs, with its probes, ports, env and resources. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isDns1123Label, isEnvVarName, isQualifiedName, isValidPortNumber } from '../names.js';
import { compareQuantity, formatQuantity, isNegative, isValidQuantity } from '../quantity.js';
import { childPath, indexPath, keyPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import { isSet, nonNegative, portNameSchema, portNumberOrNameSchema, portNumberSchema } from './common.js';

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

const httpGetSchema = s.object({
  path: s.string(),
  port: portNumberOrNameSchema.required(),
  host: s.string(),
  scheme: s.string({ enum: ['HTTP', 'HTTPS'] }),
  httpHeaders: s.array(s.object({ name: s.string().required(), value: s.string() })),
});

const handlerShape = {
  exec: s.object({ command: s.array(s.string()) }),
  httpGet: httpGetSchema,
  tcpSocket: s.object({ port: portNumberOrNameSchema.required(), host: s.string() }),
  grpc: s.object({ port: portNumberSchema.required(), service: s.string() }),
  sleep: s.object({ seconds: s.integer({ format: 'int64', min: 0 }).required() }),
};
const HANDLER_KEYS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const;

function checkOneHandler(handler: Record<string, unknown>, path: string, errors: FieldError[]): void {
  const present = HANDLER_KEYS.filter((key) => isSet(handler[key]));
  if (present.length === 0) errors.push(fieldErrors.required(path, 'must specify a handler type'));
  else if (present.length > 1) errors.push(fieldErrors.forbidden(childPath(path, present[1] ?? ''), 'may not specify more than 1 handler type'));
}

const lifecycleHandlerSchema = s.object(handlerShape).check(checkOneHandler);

export const probeSchema = s.object({
  ...handlerShape,
  initialDelaySeconds: nonNegative(),
  timeoutSeconds: nonNegative(),
  periodSeconds: nonNegative(),
  successThreshold: nonNegative(),
  failureThreshold: nonNegative(),
  terminationGracePeriodSeconds: s.integer({ format: 'int64', min: 1 }),
}).check(checkOneHandler);
export type Probe = Infer<typeof probeSchema>;

const keyReferenceShape = { name: s.string(), key: s.string().required(), optional: s.boolean() };

const envVarSchema = s.object({
  name: s.string().required(),
  value: s.string(),
  valueFrom: s.object({
    fieldRef: s.object({ apiVersion: s.string(), fieldPath: s.string().required() }),
    resourceFieldRef: s.object({ containerName: s.string(), resource: s.string().required(), divisor: s.quantity() }),
    configMapKeyRef: s.object(keyReferenceShape),
    secretKeyRef: s.object(keyReferenceShape),
  }),
}).check((env, path, errors) => {
  if (env.name) for (const message of isEnvVarName(env.name)) errors.push(fieldErrors.invalid(childPath(path, 'name'), env.name, message));
  if (!isSet(env.valueFrom)) return;
  const sources = Object.keys(env.valueFrom).filter((key) => ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].includes(key));
  const valueFromPath = childPath(path, 'valueFrom');
  if (env.value) errors.push(fieldErrors.invalid(valueFromPath, '', 'may not be specified when `value` is not empty'));
  if (sources.length === 0) {
    errors.push(fieldErrors.invalid(valueFromPath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if (sources.length > 1) {
    errors.push(fieldErrors.invalid(valueFromPath, '', 'may not have more than one field specified at a time'));
  }
});

const envFromSchema = s.object({
  prefix: s.string(),
  configMapRef: s.object({ name: s.string(), optional: s.boolean() }),
  secretRef: s.object({ name: s.string(), optional: s.boolean() }),
}).check((source, path, errors) => {
  const count = [source.configMapRef, source.secretRef].filter(isSet).length;
  if (count === 0) errors.push(fieldErrors.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
  if (count > 1) errors.push(fieldErrors.invalid(path, '', 'may not have more than one field specified at a time'));
});

const containerPortSchema = s.object({
  name: portNameSchema,
  containerPort: portNumberSchema.required(),
  hostPort: s.integer(),
  hostIP: s.string(),
  protocol: s.string({ enum: PROTOCOLS }),
}).check((port, path, errors) => {
  // hostPort 0 means "none".
  if (isSet(port.hostPort) && port.hostPort !== 0) {
    for (const message of isValidPortNumber(port.hostPort)) errors.push(fieldErrors.invalid(childPath(path, 'hostPort'), port.hostPort, message));
  }
});

const resourceListSchema = s.map(s.quantity());

export const resourceRequirementsSchema = s.object({ limits: resourceListSchema, requests: resourceListSchema }).check(checkResources);
export type ResourceRequirements = Infer<typeof resourceRequirementsSchema>;

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function checkResources(resources: ResourceRequirements, path: string, errors: FieldError[]): void {
  for (const listName of ['limits', 'requests'] as const) {
    for (const [name, quantity] of Object.entries(resources[listName] ?? {})) {
      const at = keyPath(childPath(path, listName), name);
      const nameMessages = isQualifiedName(name);
      for (const message of nameMessages) errors.push(fieldErrors.invalid(at, name, message));
      if (nameMessages.length === 0 && !name.includes('/') && !name.startsWith('hugepages-') && !STANDARD_CONTAINER_RESOURCES.includes(name)) {
        errors.push(fieldErrors.invalid(at, name, 'must be a standard resource for containers'));
      }
      if (isValidQuantity(quantity) && isNegative(quantity)) errors.push(fieldErrors.invalid(at, quantity, 'must be greater than or equal to 0'));
    }
  }
  for (const [name, request] of Object.entries(resources.requests ?? {})) {
    const limit = resources.limits?.[name];
    if (limit === undefined || !isValidQuantity(request) || !isValidQuantity(limit)) continue;
    if (compareQuantity(request, limit) > 0) {
      errors.push(fieldErrors.invalid(keyPath(childPath(path, 'requests'), name), formatQuantity(request), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
    }
  }
}

export const containerSchema = s.object({
  name: s.string().required(),
  image: s.string(),
  command: s.array(s.string()),
  args: s.array(s.string()),
  workingDir: s.string(),
  ports: s.array(containerPortSchema, { mergeKey: 'containerPort' }),
  envFrom: s.array(envFromSchema),
  env: s.array(envVarSchema, { mergeKey: 'name' }),
  resources: resourceRequirementsSchema,
  volumeMounts: s.array(s.object({
    name: s.string().required(),
    mountPath: s.string().required(),
    readOnly: s.boolean(),
    subPath: s.string(),
    mountPropagation: s.string({ enum: ['None', 'HostToContainer', 'Bidirectional'] }),
  }), { mergeKey: 'mountPath' }),
  livenessProbe: probeSchema,
  readinessProbe: probeSchema,
  startupProbe: probeSchema,
  lifecycle: s.object({ postStart: lifecycleHandlerSchema, preStop: lifecycleHandlerSchema }),
  terminationMessagePath: s.string(),
  terminationMessagePolicy: s.string({ enum: ['File', 'FallbackToLogsOnError'] }),
  imagePullPolicy: s.string({ enum: ['Always', 'IfNotPresent', 'Never'] }),
  securityContext: s.object({
    runAsUser: s.integer({ format: 'int64', min: 0 }),
    runAsGroup: s.integer({ format: 'int64', min: 0 }),
    runAsNonRoot: s.boolean(),
    readOnlyRootFilesystem: s.boolean(),
    privileged: s.boolean(),
    allowPrivilegeEscalation: s.boolean(),
  }),
  stdin: s.boolean(),
  stdinOnce: s.boolean(),
  tty: s.boolean(),
}).check((container, path, errors) => {
  for (const message of isDns1123Label(container.name)) errors.push(fieldErrors.invalid(childPath(path, 'name'), container.name, message));
  const portNames = new Set<string>();
  (container.ports ?? []).forEach((port, index) => {
    if (!port.name) return;
    if (portNames.has(port.name)) errors.push(fieldErrors.duplicate(childPath(indexPath(childPath(path, 'ports'), index), 'name'), port.name));
    portNames.add(port.name);
  });
  const mountPaths = new Set<string>();
  (container.volumeMounts ?? []).forEach((mount, index) => {
    if (mountPaths.has(mount.mountPath)) errors.push(fieldErrors.invalid(childPath(indexPath(childPath(path, 'volumeMounts'), index), 'mountPath'), mount.mountPath, 'must be unique'));
    mountPaths.add(mount.mountPath);
  });
  // Liveness and startup probes act on one failure or success, so a threshold above 1 means nothing.
  for (const probeName of ['livenessProbe', 'startupProbe'] as const) {
    const threshold = container[probeName]?.successThreshold;
    if (isSet(threshold) && threshold !== 1) errors.push(fieldErrors.invalid(childPath(childPath(path, probeName), 'successThreshold'), threshold, 'must be 1'));
  }
});
export type Container = Infer<typeof containerSchema>;

/** SetDefaults_Container, _ContainerPort, _Probe, _HTTPGetAction, _ObjectFieldSelector. */
export function defaultContainer(container: Container, hostNetwork: boolean): void {
  if (isSet(container.image) && container.image !== '' && !isSet(container.imagePullPolicy)) {
    container.imagePullPolicy = imageTag(container.image) === 'latest' || imageTag(container.image) === undefined ? 'Always' : 'IfNotPresent';
  }
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  for (const port of container.ports ?? []) {
    port.protocol ??= 'TCP';
    // With the host's network the container port *is* the host port.
    if (hostNetwork && !port.hostPort) port.hostPort = port.containerPort;
  }
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    if (!isSet(probe)) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (isSet(probe.httpGet)) defaultHttpGet(probe.httpGet);
  }
  for (const handler of [container.lifecycle?.postStart, container.lifecycle?.preStop]) {
    if (isSet(handler) && isSet(handler.httpGet)) defaultHttpGet(handler.httpGet);
  }
  for (const env of container.env ?? []) {
    const fieldRef = env.valueFrom?.fieldRef;
    if (isSet(fieldRef)) fieldRef.apiVersion ??= 'v1';
  }
}

function defaultHttpGet(httpGet: { path?: string; scheme?: 'HTTP' | 'HTTPS' }): void {
  httpGet.path ||= '/';
  httpGet.scheme ??= 'HTTP';
}

/** The tag of `name:tag` or `name:tag@digest`; undefined when there is only a digest or nothing. */
function imageTag(image: string): string | undefined {
  if (image.includes('@')) return 'digest';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon < 0 ? undefined : image.slice(colon + 1);
}

/** SetDefaults_Pod (pods only, not templates): requests default to limits. */
export function defaultRequestsFromLimits(container: Container): void {
  const limits = container.resources?.limits;
  if (!isSet(limits) || !isSet(container.resources)) return;
  const requests = (container.resources.requests ??= {});
  for (const [name, limit] of Object.entries(limits)) if (!Object.hasOwn(requests, name)) requests[name] = limit;
}
