/** Service: a stable virtual address in front of the pods a selector picks. */

import { isIP } from 'node:net';
import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isDns1123Label, isDns1123Subdomain, isValidPortNumber } from '../names.js';
import { childPath, indexPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { IMMUTABLE, defineKind, isSet, labelsSchema, portNumberOrNameSchema, portNumberSchema } from './common.js';
import { PROTOCOLS } from './container.js';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;

const servicePortSchema = s.object({
  name: s.string(),
  protocol: s.string({ enum: PROTOCOLS }),
  appProtocol: s.string(),
  port: portNumberSchema.required(),
  targetPort: portNumberOrNameSchema,
  nodePort: s.integer(),
});

const loadBalancerStatusSchema = s.object({
  ingress: s.array(s.object({ ip: s.string(), hostname: s.string() })),
});

export const serviceSpecSchema = s.object({
  type: s.string({ enum: SERVICE_TYPES }),
  selector: labelsSchema,
  ports: s.array(servicePortSchema, { mergeKey: 'port' }),
  clusterIP: s.string(),
  clusterIPs: s.array(s.string()),
  externalName: s.string(),
  externalIPs: s.array(s.string()),
  sessionAffinity: s.string({ enum: ['ClientIP', 'None'] }),
  loadBalancerIP: s.string(),
  externalTrafficPolicy: s.string({ enum: ['Cluster', 'Local'] }),
  internalTrafficPolicy: s.string({ enum: ['Cluster', 'Local'] }),
  publishNotReadyAddresses: s.boolean(),
  allocateLoadBalancerNodePorts: s.boolean(),
}).check(checkServiceSpec);
export type ServiceSpec = Infer<typeof serviceSpecSchema>;

function checkServiceSpec(spec: ServiceSpec, path: string, errors: FieldError[]): void {
  const type = spec.type ?? 'ClusterIP';
  const ports = spec.ports ?? [];
  const headless = spec.clusterIP === 'None';
  if (type === 'ExternalName') {
    if (!spec.externalName) errors.push(fieldErrors.required(childPath(path, 'externalName')));
    else for (const message of isDns1123Subdomain(spec.externalName)) errors.push(fieldErrors.invalid(childPath(path, 'externalName'), spec.externalName, message));
  } else if (ports.length === 0 && !headless) {
    errors.push(fieldErrors.required(childPath(path, 'ports')));
  }
  if (isSet(spec.clusterIP) && spec.clusterIP !== '' && !headless && isIP(spec.clusterIP) === 0) {
    errors.push(fieldErrors.invalid(childPath(path, 'clusterIP'), spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  }
  const names = new Set<string>();
  ports.forEach((port, index) => {
    const at = indexPath(childPath(path, 'ports'), index);
    if (ports.length > 1 && !port.name) errors.push(fieldErrors.required(childPath(at, 'name')));
    if (port.name) {
      for (const message of isDns1123Label(port.name)) errors.push(fieldErrors.invalid(childPath(at, 'name'), port.name, message));
      if (names.has(port.name)) errors.push(fieldErrors.duplicate(childPath(at, 'name'), port.name));
      names.add(port.name);
    }
    if (isSet(port.nodePort) && port.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') {
        errors.push(fieldErrors.forbidden(childPath(at, 'nodePort'), `may not be used when \`type\` is '${type}'`));
      } else {
        for (const message of isValidPortNumber(port.nodePort)) errors.push(fieldErrors.invalid(childPath(at, 'nodePort'), port.nodePort, message));
      }
    }
  });
}

const serviceStatusSchema = s.object({ loadBalancer: loadBalancerStatusSchema, conditions: s.array(s.unknown()) });

const serviceSchema = s.object({ spec: serviceSpecSchema.required(), status: serviceStatusSchema });
export type Service = KubeObject & Infer<typeof serviceSchema>;

/** SetDefaults_Service. */
export function defaultService(service: Service): void {
  const spec = service.spec;
  if (!isSet(spec)) return;
  spec.sessionAffinity ??= 'None';
  spec.type ??= 'ClusterIP';
  for (const port of spec.ports ?? []) {
    if (!isSet(port)) continue;
    port.protocol ??= 'TCP';
    if (!isSet(port.targetPort) || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  if (external) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

export const serviceKind = defineKind<Service>({
  schema: serviceSchema,
  statusSchema: s.object({ status: serviceStatusSchema }),
  defaults: defaultService,
  validateUpdate: (service, old) => {
    const clusterIP = service.spec?.clusterIP;
    const oldClusterIP = old.spec?.clusterIP;
    // An empty clusterIP on update means "keep the allocated one"; the server copies it over.
    if (oldClusterIP && clusterIP && clusterIP !== oldClusterIP && service.spec?.type !== 'ExternalName') {
      return [fieldErrors.invalid('spec.clusterIP', clusterIP, IMMUTABLE)];
    }
    return [];
  },
});
