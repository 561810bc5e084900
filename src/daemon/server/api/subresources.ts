/** The `scale`, `binding` and `eviction` subresources, built on the object verbs. */
import { badRequest, conflict, notFound } from '../../../api/errors.js';
import { clone } from '../../../api/meta.js';
import { applyPatch } from '../../../api/patch/index.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { qualifiedName } from '../../../api/resources.js';
import { labelSelectorFromObject, selectorToString } from '../../../api/selectors.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import { parseDeleteOptions } from './delete-options.js';
import type { ObjectApi, WriteOptions } from './object-api.js';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string };
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

export function scaleOf(object: KubeObject): Scale {
  const spec = isRecord(object.spec) ? object.spec : {};
  const status = isRecord(object.status) ? object.status : {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  const scale: Scale = {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0 },
  };
  if (isRecord(spec.selector)) scale.status.selector = selectorToString(labelSelectorFromObject(spec.selector));
  return scale;
}

/** PUT or PATCH of a Scale: only `spec.replicas` reaches the object (and its resourceVersion, as a precondition). */
export async function updateScale(
  api: ObjectApi,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  change: { body: unknown } | { contentType: string; patch: unknown },
  options: WriteOptions = {},
): Promise<Scale> {
  const current = await api.get(info, namespace, name);
  // The patch applies to a Scale without a resourceVersion, so one in the result came from the client.
  const base = scaleOf(current);
  delete base.metadata.resourceVersion;
  const scale = 'body' in change ? change.body : applyPatch(change.contentType, base, change.patch, 'Scale');
  if (!isRecord(scale) || !isRecord(scale.spec)) throw badRequest('the body must be an autoscaling/v1 Scale with spec.replicas');
  const replicas = scale.spec.replicas;
  const metadata = isRecord(scale.metadata) ? scale.metadata : {};
  const expected = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
  // A resourceVersion the client sent (PUT body or patch) is a precondition, as in Kubernetes;
  // without one, a status write racing with this scale is retried, not a conflict.
  if (expected !== undefined && expected !== current.metadata.resourceVersion) {
    throw conflict(qualifiedName(info), name);
  }
  const updated = await api.patch(
    info,
    namespace,
    name,
    'application/merge-patch+json',
    { ...(expected === undefined ? {} : { metadata: { resourceVersion: expected } }), spec: { replicas } },
    options,
  );
  return scaleOf(updated);
}

/** The scheduler's binding: sets `spec.nodeName` once; binding an already bound pod elsewhere is a conflict. */
export async function bindPod(api: ObjectApi, info: ResourceInfo, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): Promise<KubeObject> {
  if (!isRecord(body) || !isRecord(body.target) || typeof body.target.name !== 'string' || body.target.name === '') {
    throw badRequest('target.name: Required value: a Binding needs target.name, the node to bind to', [{ field: 'target.name', message: 'Required value' }]);
  }
  const nodeName = body.target.name;
  // A Binding naming a uid binds only that pod, not a same-named one re-created since the decision.
  const uid = isRecord(body.metadata) && typeof body.metadata.uid === 'string' && body.metadata.uid !== '' ? body.metadata.uid : undefined;
  for (let attempt = 0; ; attempt++) {
    const pod = await api.get(info, namespace, name);
    if (uid !== undefined && pod.metadata.uid !== uid) {
      throw conflict(qualifiedName(info), name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    if (pod.metadata.deletionTimestamp) throw conflict(qualifiedName(info), name, 'pod is being deleted, cannot be assigned to a host');
    const spec = isRecord(pod.spec) ? pod.spec : {};
    if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
      throw conflict(qualifiedName(info), name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    }
    const bound = clone(pod);
    bound.spec = { ...spec, nodeName };
    try {
      return await api.update(info, namespace, name, bound, options);
    } catch (error) {
      if ((error as { reason?: string }).reason === 'Conflict' && attempt < 16) continue;
      if ((error as { reason?: string }).reason === 'NotFound') throw notFound(qualifiedName(info), name, info.resource);
      throw error;
    }
  }
}

/**
 * A policy/v1 Eviction: a graceful delete of the pod honouring the Eviction's deleteOptions.
 * pm8s has no PodDisruptionBudgets, so an eviction is never refused with 429.
 */
export async function evictPod(api: ObjectApi, info: ResourceInfo, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): Promise<void> {
  if (!isRecord(body)) throw badRequest('the body must be a policy/v1 Eviction');
  if (body.kind !== undefined && body.kind !== 'Eviction') throw badRequest(`the body must be a policy/v1 Eviction, not ${JSON.stringify(body.kind)}`);
  const metadata = isRecord(body.metadata) ? body.metadata : {};
  if (typeof metadata.name === 'string' && metadata.name !== '' && metadata.name !== name) {
    throw badRequest('name in URL does not match name in Eviction object', [{ field: 'metadata.name', message: 'Invalid value' }]);
  }
  const deleteOptions = parseDeleteOptions(body.deleteOptions, new URLSearchParams());
  await api.delete(info, namespace, name, { ...deleteOptions, ...(options.dryRun ? { dryRun: true } : {}) });
}
