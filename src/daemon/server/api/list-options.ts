import { badRequest, gone } from '../../../api/errors.js';
import type { FieldSelector, LabelSelector } from '../../../api/selectors.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../../api/selectors.js';
import type { KubeObject } from '../../../api/types.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  limit?: number;
  continue?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

/** Reads the list/watch query parameters Kubernetes clients send; unknown ones are ignored. */
export function listOptionsFromQuery(query: URLSearchParams): ListOptions & WatchOptions & { timeoutSeconds?: number } {
  const options: ListOptions & WatchOptions & { timeoutSeconds?: number } = {};
  const text = (name: string): string | undefined => query.get(name) ?? undefined;
  const labelSelector = text('labelSelector');
  if (labelSelector) options.labelSelector = labelSelector;
  const fieldSelector = text('fieldSelector');
  if (fieldSelector) options.fieldSelector = fieldSelector;
  const resourceVersion = text('resourceVersion');
  if (resourceVersion !== undefined) options.resourceVersion = resourceVersion;
  const match = text('resourceVersionMatch');
  if (match) options.resourceVersionMatch = match;
  const cont = text('continue');
  if (cont) options.continue = cont;
  const limit = text('limit');
  if (limit !== undefined) options.limit = nonNegative('limit', limit);
  const timeout = text('timeoutSeconds');
  if (timeout !== undefined) options.timeoutSeconds = nonNegative('timeoutSeconds', timeout);
  const bookmarks = text('allowWatchBookmarks');
  if (bookmarks === 'true' || bookmarks === '1') options.allowWatchBookmarks = true;
  return options;
}

function nonNegative(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw badRequest(`${name}: Invalid value: ${JSON.stringify(value)}: must be a non-negative integer`);
  return number;
}

/** The matcher of a list or watch without selectors; callers may skip matching when they get it. */
export const MATCH_ALL = (): boolean => true;

/** One predicate for both selectors; parse errors surface as 400 before any work. */
export function matcherFor(options: { labelSelector?: string; fieldSelector?: string }): (object: KubeObject) => boolean {
  const labels: LabelSelector | undefined = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
  const fields: FieldSelector | undefined = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : undefined;
  if (!labels && !fields) return MATCH_ALL;
  return (object) => (!labels || matchesLabels(labels, object.metadata.labels)) && (!fields || matchesFields(fields, object));
}

interface ContinueToken {
  revision: number;
  key: string;
}

export function encodeContinue(revision: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 1, revision, key })).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; revision?: unknown; key?: unknown };
    if (parsed.v === 1 && typeof parsed.revision === 'number' && typeof parsed.key === 'string') return { revision: parsed.revision, key: parsed.key };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  throw badRequest('continue key is not valid: the continue parameter is not one this server issued');
}

/** A continue token whose revision was compacted: Kubernetes answers 410 with this text. */
export const continueTooOld = () => gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
