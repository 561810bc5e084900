/** The stored form of objects, and small helpers the object verbs share. */
import { badRequest } from '../../../api/errors.js';
import { jsonEqual } from '../../../api/patch/json-value.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { RESOURCES } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import type { StoredRecord } from '../store/engine.js';

export function decode(record: StoredRecord): KubeObject {
  return withRevision(JSON.parse(record.value) as KubeObject, record.revision);
}

/** The stored form: everything but the resourceVersion, which is the store's revision. */
export function encode(object: KubeObject): string {
  const { resourceVersion: _resourceVersion, ...metadata } = object.metadata;
  return JSON.stringify({ ...object, metadata });
}

/** Equal as stored JSON (undefined members dropped), whatever the key order. */
export function sameJson(left: unknown, right: unknown): boolean {
  const leftText = JSON.stringify(left);
  const rightText = JSON.stringify(right);
  return leftText === rightText || jsonEqual(JSON.parse(leftText), JSON.parse(rightText));
}

export function withRevision(object: KubeObject, revision: number): KubeObject {
  object.metadata.resourceVersion = String(revision);
  return object;
}

export function parseRevision(resourceVersion: string | undefined, match: string | undefined): number | undefined {
  if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') return undefined;
  const revision = Number(resourceVersion);
  if (!Number.isSafeInteger(revision) || revision < 0) throw badRequest(`invalid resourceVersion ${JSON.stringify(resourceVersion)}`);
  // Kubernetes serves "NotOlderThan" (the default) from the newest state; only Exact asks for history.
  return match === 'Exact' ? revision : undefined;
}

export function resource(kind: string): ResourceInfo {
  return RESOURCES.find((info) => info.kind === kind)!;
}
