/**
 * A container's environment as the kubelet builds it (kubelet_pods.go makeEnvironmentVariables):
 * `envFrom` sources first, then `env` in order, each `value` expanded with `$(VAR)` against the
 * entries before it; `valueFrom` reads the downward API (fieldRef, resourceFieldRef) or a
 * ConfigMap/Secret through a lookup the agent provides. Failures are `EnvError`s whose code the
 * agent reports as `CreateContainerConfigError`.
 */
import { CodedError } from '../../lib/coded-error.js';
import { quantityToMilli, quantityValue } from '../../api/quantity.js';
import { expandVars } from './expand-command.js';

export type EnvErrorCode = 'EnvUnsupportedField' | 'EnvNotFound' | 'EnvInvalidResource';
export class EnvError extends CodedError<EnvErrorCode> {}

type KeyRef = { name?: string; key: string; optional?: boolean };
export interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
  };
}
export interface EnvFromSpec {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}
type ResourceList = Record<string, string | number | undefined>;
export interface EnvContainer {
  name: string;
  env?: EnvVarSpec[];
  envFrom?: EnvFromSpec[];
  resources?: { limits?: ResourceList; requests?: ResourceList };
}
export interface EnvPod {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { nodeName?: string; serviceAccountName?: string; containers?: EnvContainer[]; initContainers?: EnvContainer[] };
  status?: { podIP?: string; hostIP?: string };
}
export interface EnvNode {
  /** Node allocatable, used for `limits.*` a container does not set (as the kubelet does). */
  allocatable?: ResourceList;
  /** The node's address, for `status.hostIP` before the pod's status has it. */
  hostIP?: string;
}
/** Fetches a ConfigMap's data or a Secret's (decoded) data in the pod's namespace; undefined when it does not exist. */
export type EnvLookup = (kind: 'ConfigMap' | 'Secret', namespace: string, name: string) => Promise<Record<string, string> | undefined>;

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

export async function resolveEnv(container: EnvContainer, pod: EnvPod, node: EnvNode = {}, lookup?: EnvLookup): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  const fetch = async (kind: 'ConfigMap' | 'Secret', name: string, optional: boolean | undefined) => {
    const data = lookup === undefined ? undefined : await lookup(kind, namespace, name);
    if (data === undefined && !optional) throw new EnvError('EnvNotFound', `${kind.toLowerCase()} "${name}" not found`);
    return data;
  };
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (ref === undefined) continue;
    const data = await fetch(source.configMapRef === undefined ? 'Secret' : 'ConfigMap', ref.name ?? '', ref.optional);
    for (const [key, value] of Object.entries(data ?? {})) {
      const name = `${source.prefix ?? ''}${key}`;
      // The kubelet skips invalid names (with an InvalidEnvironmentVariableNames event).
      if (ENV_NAME.test(name)) env[name] = value;
    }
  }
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (from === undefined) {
      env[entry.name] = expandVars(entry.value ?? '', (name) => (Object.hasOwn(env, name) ? env[name] : undefined));
    } else if (from.fieldRef !== undefined) {
      env[entry.name] = fieldValue(from.fieldRef.fieldPath, pod, node);
    } else if (from.resourceFieldRef !== undefined) {
      env[entry.name] = resourceValue(from.resourceFieldRef, container, pod, node);
    } else {
      const ref = from.configMapKeyRef ?? from.secretKeyRef;
      if (ref === undefined) continue;
      const kind = from.configMapKeyRef === undefined ? 'Secret' : 'ConfigMap';
      const data = await fetch(kind, ref.name ?? '', ref.optional);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new EnvError('EnvNotFound', `couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name ?? ''}`);
      }
      env[entry.name] = value;
    }
  }
  return env;
}

/** The downward API's fieldRef paths a container env may name. */
export function fieldValue(fieldPath: string, pod: EnvPod, node: EnvNode = {}): string {
  const subscript = SUBSCRIPT.exec(fieldPath);
  if (subscript !== null) {
    const map = subscript[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[subscript[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? node.hostIP ?? '';
    default:
      throw new EnvError('EnvUnsupportedField', `unsupported fieldPath: ${fieldPath}`);
  }
}

/**
 * resourceFieldRef (kubelet ExtractContainerResourceValue): cpu is ceil(millicores / divisor's
 * millicores), memory ceil(bytes / divisor); an unset limit is the node's allocatable, an unset
 * request the limit (API defaulting) or 0.
 */
export function resourceValue(ref: { containerName?: string; resource: string; divisor?: string | number }, self: EnvContainer, pod: EnvPod, node: EnvNode = {}): string {
  const container =
    ref.containerName === undefined || ref.containerName === '' || ref.containerName === self.name
      ? self
      : [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].find((candidate) => candidate.name === ref.containerName);
  if (container === undefined) throw new EnvError('EnvInvalidResource', `container ${ref.containerName ?? ''} not found`);
  const [kind, resource] = ref.resource.split('.');
  if ((kind !== 'limits' && kind !== 'requests') || (resource !== 'cpu' && resource !== 'memory')) {
    throw new EnvError('EnvInvalidResource', `unsupported container resource : ${ref.resource}`);
  }
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const value = kind === 'limits' ? (limits[resource] ?? node.allocatable?.[resource]) : (requests[resource] ?? limits[resource]);
  const divisor = ref.divisor ?? '1';
  try {
    if (resource === 'cpu') {
      const divisorMilli = quantityToMilli(divisor);
      if (divisorMilli <= 0n) throw new EnvError('EnvInvalidResource', 'divisor must be positive');
      const milli = value === undefined ? 0n : quantityToMilli(value);
      return String(ceilDiv(milli, divisorMilli));
    }
    const divisorValue = quantityValue(divisor);
    if (divisorValue <= 0n) throw new EnvError('EnvInvalidResource', 'divisor must be positive');
    return String(ceilDiv(value === undefined ? 0n : quantityValue(value), divisorValue));
  } catch (error) {
    if (error instanceof EnvError) throw error;
    throw new EnvError('EnvInvalidResource', `invalid quantity for ${ref.resource}: ${(error as Error).message}`, { cause: error });
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return a / b + (a % b === 0n ? 0n : 1n);
}
