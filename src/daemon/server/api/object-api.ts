/**
 * The API's verbs on objects, independent of HTTP: validation, defaulting, optimistic concurrency,
 * generation, finalizers and deletion. The HTTP layer and the in-process client both call this.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, alreadyExists, badRequest, conflict, forbidden, gone, internalError, invalid, notFound, unavailable } from '../../../api/errors.js';
import { clone, randomSuffix, rfc3339 } from '../../../api/meta.js';
import { applyPatch } from '../../../api/patch/index.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { apiVersionOf, qualifiedName } from '../../../api/resources.js';
import type { KubeList, KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import { applyDefaults, validateObject, validateStatus } from '../../../api/validation.js';
import type { Engine } from '../store/engine.js';
import { StoreError } from '../store/engine.js';
import type { DeleteOptions } from './delete-options.js';
import { deletionFinished, keepNamespaceFinalizers, planDeletion } from './deletion-plan.js';
import type { ListOptions } from './list-options.js';
import { continueTooOld, decodeContinue, encodeContinue, matcherFor } from './list-options.js';
import { storageKey, storagePrefix } from './storage-key.js';
import { specOf, strategyFor } from './strategies.js';
import { decode, encode, parseRevision, resource, sameJson, withRevision } from './object-codec.js';

export interface WriteOptions {
  dryRun?: boolean;
}

export interface ObjectApiOptions {
  /** Seconds an Event lives (default 3600). */
  eventTtlSeconds?: number;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to new pods (DefaultTolerationSeconds); none when absent. */
  defaultTolerationSeconds?: number;
  /** Called when the store refuses work (locked, closed): the server's own stall, not its clients'. */
  onStoreUnavailable?: () => void;
  now?: () => Date;
}

const MAX_CONFLICT_RETRIES = 16;
const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-node-lease'];

export class ObjectApi {
  readonly engine: Engine;
  readonly #options: ObjectApiOptions;

  constructor(engine: Engine, options: ObjectApiOptions = {}) {
    this.engine = engine;
    this.#options = options;
  }

  /** Creates the namespaces that exist from the start. */
  async bootstrap(): Promise<void> {
    const namespaces = resource('Namespace');
    for (const name of SYSTEM_NAMESPACES) {
      if (await this.engine.get(storageKey(namespaces, undefined, name))) continue;
      try {
        await this.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      } catch (error) {
        if ((error as ApiError).reason !== 'AlreadyExists') throw error;
      }
    }
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const record = await this.#store(() => this.engine.get(storageKey(info, namespace, name)));
    if (!record) throw notFound(qualifiedName(info), name, info.resource);
    return decode(record);
  }

  async list(info: ResourceInfo, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList> {
    const matches = matcherFor(options);
    const prefix = storagePrefix(info, namespace);
    const start = options.continue ? decodeContinue(options.continue) : undefined;
    const asked = start?.revision ?? parseRevision(options.resourceVersion, options.resourceVersionMatch);
    let result;
    try {
      result = await this.#store(() => this.engine.list(prefix, asked === undefined ? {} : { revision: asked }), 'list');
    } catch (error) {
      // Kubernetes words a compacted continue token differently from a compacted resourceVersion.
      if (start && error instanceof ApiError && error.code === 410) throw continueTooOld();
      throw error;
    }
    const items: KubeObject[] = [];
    let truncated = false;
    for (const record of result.items) {
      if (start && record.key <= start.key) continue;
      const object = decode(record);
      if (!matches(object)) continue;
      if (options.limit !== undefined && options.limit > 0 && items.length >= options.limit) {
        truncated = true;
        break;
      }
      items.push(object);
    }
    const list: KubeList = {
      apiVersion: apiVersionOf(info),
      kind: info.listKind,
      metadata: { resourceVersion: String(result.revision) },
      items,
    };
    const last = items[items.length - 1];
    if (truncated && last) {
      list.metadata.continue = encodeContinue(result.revision, storageKey(info, last.metadata.namespace, last.metadata.name ?? ''));
    }
    return list;
  }

  async create(info: ResourceInfo, namespace: string | undefined, body: unknown, options: WriteOptions = {}): Promise<KubeObject> {
    const object = this.#checkBody(info, namespace, body);
    const metadata = object.metadata;
    if (!metadata.name && metadata.generateName) metadata.name = `${metadata.generateName}${randomSuffix()}`;
    if (info.namespaced) await this.#checkNamespaceOpen(object.metadata.namespace);
    for (const field of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) delete metadata[field];
    metadata.uid = randomUUID();
    metadata.creationTimestamp = this.#timestamp();
    metadata.generation = 1;
    const strategy = strategyFor(info.kind, this.#options);
    strategy.prepareForCreate?.(object);
    applyDefaults(info, object);
    const errors = validateObject(info, object);
    if (errors.length > 0) throw invalid(info.kind, metadata.name ?? metadata.generateName ?? '', errors, info.group || undefined);
    const key = storageKey(info, metadata.namespace, metadata.name!);
    if (options.dryRun) {
      if (await this.engine.get(key)) throw alreadyExists(qualifiedName(info), metadata.name!);
      return object;
    }
    const record = await this.#store(
      () => this.engine.create(key, encode(object), strategy.ttlSeconds === undefined ? {} : { ttlSeconds: strategy.ttlSeconds }),
      'create',
      info,
      metadata.name!,
    );
    return withRevision(object, record.revision);
  }

  /** PUT of the main resource or of its `status` subresource. */
  async update(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<KubeObject> {
    const incoming = this.#checkBody(info, namespace, body);
    if (incoming.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(incoming.metadata.name)}) does not match the name on the URL (${name})`);
    }
    const expected = incoming.metadata.resourceVersion;
    if (expected !== undefined && typeof expected !== 'string') {
      throw badRequest(`metadata.resourceVersion: Invalid value: ${JSON.stringify(expected)}: must be a string`, [{ field: 'metadata.resourceVersion', message: 'must be a string' }]);
    }
    return this.#guaranteedUpdate(info, namespace, name, expected, options, () => clone(incoming));
  }

  async patch(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    contentType: string,
    patch: unknown,
    options: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<KubeObject> {
    return this.#guaranteedUpdate(info, namespace, name, undefined, options, (current) => {
      const patched = applyPatch(contentType, current, patch, info.kind);
      const object = this.#checkBody(info, namespace, patched);
      if (object.metadata.name !== name) throw badRequest('metadata.name cannot be changed by a patch');
      // A patch naming a resourceVersion is a precondition on it.
      const patchedVersion = object.metadata.resourceVersion;
      if (patchedVersion !== undefined && patchedVersion !== current.metadata.resourceVersion) {
        throw conflict(qualifiedName(info), name);
      }
      return object;
    });
  }

  async delete(info: ResourceInfo, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    if (info.kind === 'Namespace' && PROTECTED_NAMESPACES.has(name)) {
      throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    const key = storageKey(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const record = await this.#store(() => this.engine.get(key));
      if (!record) throw notFound(qualifiedName(info), name, info.resource);
      const current = decode(record);
      const preconditions = options.preconditions;
      if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) {
        throw conflict(qualifiedName(info), name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(qualifiedName(info), name);
      }
      // Background (the default) removes the object now; Orphan and Foreground, other finalizers, a
      // namespace's spec.finalizers and a pod's grace period only mark it (the GC and controllers finish).
      const plan = planDeletion(current, options.propagationPolicy, await this.#podGracePeriod(info, current, options), this.#options.now?.() ?? new Date());
      if (options.dryRun) return current;
      try {
        if (plan.action === 'keep') return current;
        if (plan.action === 'mark') {
          const ttl = strategyFor(info.kind, this.#options).ttlSeconds;
          const updated = await this.engine.update(key, encode(plan.object), record.revision, ttl === undefined ? {} : { ttlSeconds: ttl });
          return withRevision(plan.object, updated.revision);
        }
        const tombstone = await this.engine.delete(key, record.revision);
        return decode(tombstone);
      } catch (error) {
        if (error instanceof StoreError && error.code === 'conflict' && attempt < MAX_CONFLICT_RETRIES) continue;
        throw this.#translate(error, 'delete', info, name);
      }
    }
  }

  /** Deletes every object of a kind in a namespace that matches the selectors. */
  async deleteCollection(info: ResourceInfo, namespace: string | undefined, listOptions: ListOptions, options: DeleteOptions = {}): Promise<KubeList> {
    const list = await this.list(info, namespace, listOptions);
    const deleted: KubeObject[] = [];
    for (const item of list.items) {
      try {
        deleted.push(await this.delete(info, item.metadata.namespace, item.metadata.name!, options));
      } catch (error) {
        if ((error as ApiError).reason !== 'NotFound') throw error;
      }
    }
    return { ...list, items: deleted };
  }

  /** A pod bound to a live node is deleted gracefully: marked, and removed when the agent confirms. */
  async #podGracePeriod(info: ResourceInfo, current: KubeObject, options: DeleteOptions): Promise<number | undefined> {
    if (info.kind !== 'Pod' || options.gracePeriodSeconds === 0) return undefined;
    const spec = isRecord(current.spec) ? current.spec : {};
    const nodeName = typeof spec.nodeName === 'string' ? spec.nodeName : '';
    if (!nodeName) return undefined;
    const nodeExists = await this.engine.get(storageKey(resource('Node'), undefined, nodeName));
    if (!nodeExists) return undefined;
    const fromSpec = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    return options.gracePeriodSeconds ?? fromSpec;
  }

  async #guaranteedUpdate(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    expectedVersion: string | undefined,
    options: WriteOptions & { subresource?: 'status' },
    produce: (current: KubeObject) => KubeObject,
  ): Promise<KubeObject> {
    const key = storageKey(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const record = await this.#store(() => this.engine.get(key));
      if (!record) throw notFound(qualifiedName(info), name, info.resource);
      const current = decode(record);
      if (expectedVersion !== undefined && expectedVersion !== current.metadata.resourceVersion) {
        throw conflict(qualifiedName(info), name);
      }
      const next = this.#merge(info, current, produce(current), options.subresource);
      // The same object with its keys in another order is no change: no write, no new resourceVersion.
      const unchanged = sameJson(next, current);
      if (unchanged || options.dryRun) return unchanged ? current : next;
      // The last finalizer removed from an object being deleted: the delete completes now.
      const finished = deletionFinished(next);
      try {
        if (finished) return decode(await this.engine.delete(key, record.revision));
        const strategy = strategyFor(info.kind, this.#options);
        const written = await this.engine.update(key, encode(next), record.revision, strategy.ttlSeconds === undefined ? {} : { ttlSeconds: strategy.ttlSeconds });
        return withRevision(next, written.revision);
      } catch (error) {
        if (error instanceof StoreError && error.code === 'conflict' && expectedVersion === undefined && attempt < MAX_CONFLICT_RETRIES) continue;
        throw this.#translate(error, 'update', info, name);
      }
    }
  }

  /** The stored object after an update: server-owned metadata kept, status or spec taken as the verb allows. */
  #merge(info: ResourceInfo, current: KubeObject, incoming: KubeObject, subresource: 'status' | undefined): KubeObject {
    let next: KubeObject;
    if (subresource === 'status') {
      next = clone(current);
      // The body's uid still names the object the client meant (an agent's status for a pod that
      // was deleted and re-created under the same name must not land on the new one).
      if (incoming.metadata?.uid !== undefined && incoming.metadata.uid !== '') next.metadata.uid = incoming.metadata.uid;
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      if (current.status === undefined) delete next.status;
      else next.status = clone(current.status);
      if (info.kind === 'Namespace') keepNamespaceFinalizers(next, current);
      applyDefaults(info, next);
    }
    const metadata = next.metadata;
    // A uid in the body names the object the client meant: a different one (deleted and re-created) is a conflict.
    if (metadata.uid !== undefined && metadata.uid !== '' && metadata.uid !== current.metadata.uid) {
      throw conflict(qualifiedName(info), metadata.name ?? '', `Precondition failed: UID in precondition: ${String(metadata.uid)}, UID in object meta: ${current.metadata.uid}`);
    }
    metadata.uid = current.metadata.uid;
    metadata.creationTimestamp = current.metadata.creationTimestamp;
    metadata.generation = current.metadata.generation ?? 1;
    if (current.metadata.deletionTimestamp === undefined) delete metadata.deletionTimestamp;
    else metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    if (current.metadata.deletionGracePeriodSeconds === undefined) delete metadata.deletionGracePeriodSeconds;
    else metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
    metadata.resourceVersion = current.metadata.resourceVersion;
    if (subresource !== 'status' && !sameJson(specOf(next), specOf(current))) {
      metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    const errors = subresource === 'status' ? validateStatus(info, next) : validateObject(info, next, current);
    if (errors.length > 0) throw invalid(info.kind, metadata.name ?? '', errors, info.group || undefined);
    return next;
  }

  /** The body as an object of this resource, with apiVersion, kind and namespace filled in and checked. */
  #checkBody(info: ResourceInfo, namespace: string | undefined, body: unknown): KubeObject {
    if (!isRecord(body)) throw badRequest(`the body must be a JSON object of kind ${info.kind}`);
    const object = clone(body) as KubeObject;
    const apiVersion = apiVersionOf(info);
    if (object.apiVersion === undefined) object.apiVersion = apiVersion;
    if (object.kind === undefined) object.kind = info.kind;
    if (object.apiVersion !== apiVersion || object.kind !== info.kind) {
      throw badRequest(`the API version in the data (${String(object.apiVersion)}) and kind (${String(object.kind)}) do not match the request (${apiVersion} ${info.kind})`);
    }
    if (object.metadata === undefined) object.metadata = {};
    if (!isRecord(object.metadata)) throw invalid(info.kind, '', [{ field: 'metadata', type: 'FieldValueTypeInvalid', message: 'metadata: Invalid value: must be an object' }]);
    if (info.namespaced) {
      const given = object.metadata.namespace;
      if (given !== undefined && given !== '' && namespace !== undefined && given !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata.namespace = namespace ?? given ?? 'default';
    } else {
      delete object.metadata.namespace;
    }
    return object;
  }

  async #checkNamespaceOpen(namespace: string | undefined): Promise<void> {
    const name = namespace ?? 'default';
    const record = await this.#store(() => this.engine.get(storageKey(resource('Namespace'), undefined, name)));
    if (!record) throw notFound('namespaces', name);
    if (decode(record).metadata.deletionTimestamp) {
      throw forbidden(`unable to create new content in namespace ${name} because it is being terminated`);
    }
  }

  #timestamp(): string {
    return rfc3339(this.#options.now?.() ?? new Date());
  }

  async #store<T>(operation: () => Promise<T>, verb = 'get', info?: ResourceInfo, name = ''): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.#translate(error, verb, info, name);
    }
  }

  #translate(error: unknown, verb: string, info: ResourceInfo | undefined, name: string): unknown {
    if (!(error instanceof StoreError)) return error;
    const qualified = info ? qualifiedName(info) : 'objects';
    switch (error.code) {
      case 'exists':
        return alreadyExists(qualified, name);
      case 'not-found':
        return notFound(qualified, name, info?.resource);
      case 'conflict':
        return conflict(qualified, name);
      case 'too-old':
        return gone(`too old resource version: ${error.message}`);
      case 'future-revision':
        return new ApiError(504, 'Timeout', `Too large resource version: ${error.message}`);
      case 'busy':
      case 'closed':
        this.#options.onStoreUnavailable?.();
        return unavailable(`the store is not available to ${verb} now: ${error.message}`);
      default:
        return internalError(`store ${verb} failed: ${error.message}`);
    }
  }
}

