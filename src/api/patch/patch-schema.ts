/**
 * How strategic merge patch treats each list, by kind and field path: the patchStrategy and
 * patchMergeKey struct tags of k8s.io/api, written down as data. Unknown paths replace lists whole.
 */

export type ListStrategy =
  /** Merge element by element; elements are matched by the value of `key`. */
  | { type: 'merge'; key: string }
  /** A list of primitives merged as a set (union, keeping order). */
  | { type: 'set' }
  /** The patch's list replaces the target's list. */
  | { type: 'replace' };

interface FieldSchema {
  readonly list?: ListStrategy;
  readonly fields?: Readonly<Record<string, FieldSchema>>;
}

const REPLACE: ListStrategy = { type: 'replace' };

const object = (fields: Record<string, FieldSchema>): FieldSchema => ({ fields });

/** A list merged by `key`; `fields` describes the schema of each element. */
const mergeBy = (key: string, fields?: Record<string, FieldSchema>): FieldSchema =>
  fields ? { list: { type: 'merge', key }, fields } : { list: { type: 'merge', key } };

const set: FieldSchema = { list: { type: 'set' } };

const objectMeta = object({ ownerReferences: mergeBy('uid'), finalizers: set });

const container = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

const podSpec = object({
  containers: mergeBy('name', container),
  initContainers: mergeBy('name', container),
  ephemeralContainers: mergeBy('name', container),
  volumes: mergeBy('name'),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name'),
});

const podTemplate = object({ metadata: objectMeta, spec: podSpec });

const conditions = mergeBy('type');

/** Every object has ObjectMeta at `metadata`. */
const root = (fields: Record<string, FieldSchema>): FieldSchema => object({ metadata: objectMeta, ...fields });

/** Kinds whose pod template is at spec.template. */
const workload = root({ spec: object({ template: podTemplate }), status: object({ conditions }) });

const KINDS: Readonly<Record<string, FieldSchema>> = {
  Pod: root({ spec: podSpec, status: object({ conditions, podIPs: mergeBy('ip'), hostIPs: mergeBy('ip') }) }),
  PodTemplate: root({ template: podTemplate }),
  Deployment: workload,
  ReplicaSet: workload,
  StatefulSet: workload,
  DaemonSet: workload,
  Job: workload,
  CronJob: root({ spec: object({ jobTemplate: object({ metadata: objectMeta, spec: object({ template: podTemplate }) }) }) }),
  Service: root({ spec: object({ ports: mergeBy('port') }), status: object({ conditions }) }),
  Node: root({ spec: object({ taints: mergeBy('key') }), status: object({ conditions, addresses: mergeBy('type') }) }),
  Namespace: root({ status: object({ conditions }) }),
  PersistentVolumeClaim: root({ status: object({ conditions }) }),
};

/** Kinds not listed above (Endpoints, ConfigMap, custom kinds…) still have ObjectMeta. */
const ANY_KIND = root({});

/** `path` is the field names from the object's root, list indices left out. */
export function listStrategyFor(kind: string, path: readonly string[]): ListStrategy {
  let schema: FieldSchema | undefined = Object.hasOwn(KINDS, kind) ? KINDS[kind] : ANY_KIND;
  for (const name of path) {
    const fields: Readonly<Record<string, FieldSchema>> | undefined = schema?.fields;
    schema = fields && Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (schema === undefined) return REPLACE;
  }
  return schema?.list ?? REPLACE;
}

/** e.g. ('Deployment', ['spec','template','spec','containers']) → 'name'; undefined when the list is not merged by key. */
export function mergeKeyFor(kind: string, path: readonly string[]): string | undefined {
  const strategy = listStrategyFor(kind, path);
  return strategy.type === 'merge' ? strategy.key : undefined;
}
