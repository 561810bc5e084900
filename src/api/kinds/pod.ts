/** Pod, PodSpec and pod templates. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { isDns1123Label, isDns1123Subdomain } from '../names.js';
import { childPath, indexPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import type { KubeObject } from '../types.js';
import { conditionSchema, deepEqual, defineKind, isSet, labelsSchema, nonNegative, templateMetadataSchema } from './common.js';
import { containerSchema, defaultContainer, defaultRequestsFromLimits } from './container.js';
import { volumeSchema, defaultVolume } from './volume.js';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;

const nodeSelectorRequirementSchema = s.object({
  key: s.string().required(),
  operator: s.string({ enum: ['DoesNotExist', 'Exists', 'Gt', 'In', 'Lt', 'NotIn'] }).required(),
  values: s.array(s.string()),
});
const nodeSelectorTermSchema = s.object({
  matchExpressions: s.array(nodeSelectorRequirementSchema),
  matchFields: s.array(nodeSelectorRequirementSchema),
});

const affinitySchema = s.object({
  nodeAffinity: s.object({
    requiredDuringSchedulingIgnoredDuringExecution: s.object({ nodeSelectorTerms: s.array(nodeSelectorTermSchema).required() }),
    preferredDuringSchedulingIgnoredDuringExecution: s.array(s.object({
      weight: s.integer({ min: 1, max: 100 }).required(),
      preference: nodeSelectorTermSchema.required(),
    })),
  }),
  podAffinity: s.unknown(),
  podAntiAffinity: s.unknown(),
});

const tolerationSchema = s.object({
  key: s.string(),
  operator: s.string({ enum: ['Equal', 'Exists'] }),
  value: s.string(),
  effect: s.string({ enum: ['NoExecute', 'NoSchedule', 'PreferNoSchedule'] }),
  tolerationSeconds: s.integer({ format: 'int64' }),
}).check((toleration, path, errors) => {
  if (toleration.operator === 'Exists' && toleration.value) {
    errors.push(fieldErrors.invalid(childPath(path, 'operator'), toleration, 'value must be empty when `operator` is \'Exists\''));
  }
  if (!toleration.key && toleration.operator !== 'Exists') {
    errors.push(fieldErrors.invalid(childPath(path, 'operator'), toleration.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  }
  if (isSet(toleration.tolerationSeconds) && toleration.effect !== 'NoExecute') {
    errors.push(fieldErrors.invalid(childPath(path, 'effect'), toleration.effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  }
});

export const podSpecSchema = s.object({
  volumes: s.array(volumeSchema, { mergeKey: 'name' }),
  initContainers: s.array(containerSchema, { mergeKey: 'name' }),
  containers: s.array(containerSchema, { mergeKey: 'name' }).required(),
  restartPolicy: s.string({ enum: RESTART_POLICIES }),
  terminationGracePeriodSeconds: s.integer({ format: 'int64', min: 0 }),
  activeDeadlineSeconds: s.integer({ format: 'int64', min: 1, max: 2147483647 }),
  dnsPolicy: s.string({ enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] }),
  nodeSelector: labelsSchema,
  serviceAccountName: s.string(),
  automountServiceAccountToken: s.boolean(),
  nodeName: s.string(),
  hostNetwork: s.boolean(),
  hostPID: s.boolean(),
  hostIPC: s.boolean(),
  shareProcessNamespace: s.boolean(),
  securityContext: s.object({
    runAsUser: s.integer({ format: 'int64', min: 0 }),
    runAsGroup: s.integer({ format: 'int64', min: 0 }),
    runAsNonRoot: s.boolean(),
    fsGroup: s.integer({ format: 'int64', min: 0 }),
    supplementalGroups: s.array(s.integer({ format: 'int64', min: 0 })),
  }),
  hostname: s.string(),
  subdomain: s.string(),
  affinity: affinitySchema,
  schedulerName: s.string(),
  tolerations: s.array(tolerationSchema),
  priorityClassName: s.string(),
  priority: s.integer(),
  enableServiceLinks: s.boolean(),
}).check(checkPodSpec);
export type PodSpec = Infer<typeof podSpecSchema>;

function checkPodSpec(spec: PodSpec, path: string, errors: FieldError[]): void {
  if (spec.containers.length === 0) errors.push(fieldErrors.required(childPath(path, 'containers')));
  const volumeNames = new Set<string>();
  (spec.volumes ?? []).forEach((volume, index) => {
    if (volumeNames.has(volume.name)) errors.push(fieldErrors.duplicate(childPath(indexPath(childPath(path, 'volumes'), index), 'name'), volume.name));
    volumeNames.add(volume.name);
  });
  // Container names are unique across init and regular containers: they key status and logs.
  const containerNames = new Set<string>();
  for (const list of ['initContainers', 'containers'] as const) {
    (spec[list] ?? []).forEach((container, index) => {
      const at = indexPath(childPath(path, list), index);
      if (containerNames.has(container.name)) errors.push(fieldErrors.duplicate(childPath(at, 'name'), container.name));
      containerNames.add(container.name);
      (container.volumeMounts ?? []).forEach((mount, mountIndex) => {
        if (!volumeNames.has(mount.name)) errors.push(fieldErrors.notFound(childPath(indexPath(childPath(at, 'volumeMounts'), mountIndex), 'name'), mount.name));
      });
      if (list === 'initContainers') {
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
          if (isSet(container[probe])) errors.push(fieldErrors.forbidden(childPath(at, probe), 'may not be set for init containers without restartPolicy=Always'));
        }
      }
    });
  }
  if (spec.nodeName) for (const message of isDns1123Subdomain(spec.nodeName)) errors.push(fieldErrors.invalid(childPath(path, 'nodeName'), spec.nodeName, message));
  for (const field of ['hostname', 'subdomain'] as const) {
    const value = spec[field];
    if (value) for (const message of isDns1123Label(value)) errors.push(fieldErrors.invalid(childPath(path, field), value, message));
  }
  if (spec.hostNetwork) {
    for (const list of ['initContainers', 'containers'] as const) {
      (spec[list] ?? []).forEach((container, index) => {
        (container.ports ?? []).forEach((port, portIndex) => {
          if (isSet(port.hostPort) && port.hostPort !== 0 && port.hostPort !== port.containerPort) {
            const at = childPath(indexPath(childPath(indexPath(childPath(path, list), index), 'ports'), portIndex), 'containerPort');
            errors.push(fieldErrors.invalid(at, port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
          }
        });
      });
    }
  }
}

export const podTemplateSpecSchema = s.object({ metadata: templateMetadataSchema, spec: podSpecSchema.required() });
export type PodTemplateSpec = Infer<typeof podTemplateSpecSchema>;

const containerStatusSchema = s.object({
  name: s.string().required(),
  state: s.unknown(),
  lastState: s.unknown(),
  ready: s.boolean(),
  started: s.boolean(),
  restartCount: nonNegative(),
  image: s.string(),
  imageID: s.string(),
  containerID: s.string(),
});

export const podStatusSchema = s.object({
  phase: s.string({ enum: ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] }),
  conditions: s.array(conditionSchema, { mergeKey: 'type' }),
  message: s.string(),
  reason: s.string(),
  nominatedNodeName: s.string(),
  hostIP: s.string(),
  hostIPs: s.array(s.object({ ip: s.string().required() })),
  podIP: s.string(),
  podIPs: s.array(s.object({ ip: s.string().required() })),
  startTime: s.string(),
  initContainerStatuses: s.array(containerStatusSchema),
  containerStatuses: s.array(containerStatusSchema),
  qosClass: s.string(),
});
export type PodStatus = Infer<typeof podStatusSchema>;

const podSchema = s.object({ spec: podSpecSchema.required(), status: podStatusSchema });
export type Pod = KubeObject & Infer<typeof podSchema>;

/** SetDefaults_PodSpec and everything below it; used for pods and every workload template. */
export function defaultPodSpec(spec: PodSpec): void {
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  const hostNetwork = spec.hostNetwork === true;
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) if (isSet(container)) defaultContainer(container, hostNetwork);
  for (const volume of spec.volumes ?? []) if (isSet(volume)) defaultVolume(volume);
}

/** A template's restart policy must be Always for controllers that keep pods running. */
export function checkTemplateForController(template: PodTemplateSpec | undefined, path: string, errors: FieldError[]): void {
  if (!isSet(template)) return;
  const policy = template.spec.restartPolicy;
  const at = childPath(childPath(path, 'spec'), 'restartPolicy');
  // An unknown value already got the generic "Always, OnFailure, Never" error from the schema.
  if (isSet(policy) && policy !== 'Always' && (RESTART_POLICIES as readonly string[]).includes(policy)) {
    errors.push(fieldErrors.notSupported(at, policy, ['Always']));
  }
  if (isSet(template.spec.activeDeadlineSeconds)) {
    errors.push(fieldErrors.forbidden(childPath(childPath(path, 'spec'), 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  if (!isSet(pod.spec) || !isSet(old.spec)) return [];
  const errors: FieldError[] = [];
  const oldTolerations = old.spec.tolerations ?? [];
  const newTolerations = pod.spec.tolerations ?? [];
  if (!oldTolerations.every((toleration) => newTolerations.some((candidate) => deepEqual(candidate, toleration)))) {
    errors.push(fieldErrors.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  }
  // Compare the specs with every mutable field taken from the old one.
  const comparable: PodSpec = { ...pod.spec, tolerations: old.spec.tolerations, activeDeadlineSeconds: old.spec.activeDeadlineSeconds };
  for (const list of ['containers', 'initContainers'] as const) {
    const oldList = old.spec[list];
    const newList = pod.spec[list];
    if (!isSet(newList) || !isSet(oldList) || newList.length !== oldList.length) continue;
    comparable[list] = newList.map((container, index) => ({ ...container, image: oldList[index]?.image }));
  }
  // Binding sets nodeName once; an update may do the same but never move a pod.
  if (!old.spec.nodeName) comparable.nodeName = old.spec.nodeName;
  if (!deepEqual(comparable, old.spec)) errors.push(fieldErrors.forbidden('spec', POD_UPDATE_MESSAGE));
  const deadline = pod.spec.activeDeadlineSeconds;
  const oldDeadline = old.spec.activeDeadlineSeconds;
  if (isSet(oldDeadline) && (!isSet(deadline) || deadline > oldDeadline)) {
    errors.push(fieldErrors.invalid('spec.activeDeadlineSeconds', deadline ?? 'nil', 'must be less than or equal to previous value'));
  }
  return errors;
}

export const podKind = defineKind<Pod>({
  schema: podSchema,
  statusSchema: s.object({ status: podStatusSchema }),
  defaults: (pod) => {
    if (!isSet(pod.spec)) return;
    for (const container of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) if (isSet(container)) defaultRequestsFromLimits(container);
    pod.spec.enableServiceLinks ??= true;
    defaultPodSpec(pod.spec);
  },
  validateUpdate: validatePodUpdate,
});
