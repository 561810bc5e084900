import { badRequest } from '../../../api/errors.js';
import { isRecord } from '../../../api/types.js';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const POLICIES: readonly PropagationPolicy[] = ['Orphan', 'Background', 'Foreground'];

/** DeleteOptions from a JSON body and/or the query string (client-node sends the query, kubectl the body). */
export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const options: DeleteOptions = {};
  const source = isRecord(body) ? body : {};
  const policy = source.propagationPolicy ?? query.get('propagationPolicy') ?? undefined;
  if (policy === undefined && (source.orphanDependents === true || query.get('orphanDependents') === 'true')) {
    options.propagationPolicy = 'Orphan';
  } else if (policy !== undefined) {
    if (!POLICIES.includes(policy as PropagationPolicy)) {
      throw badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Orphan", "Background", "Foreground"`, [
        { field: 'propagationPolicy', message: 'Unsupported value' },
      ]);
    }
    options.propagationPolicy = policy as PropagationPolicy;
  }
  const grace = source.gracePeriodSeconds ?? query.get('gracePeriodSeconds') ?? undefined;
  if (grace !== undefined) {
    const seconds = Number(grace);
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(grace)}: must be a non-negative integer`, [
        { field: 'gracePeriodSeconds', message: 'must be a non-negative integer' },
      ]);
    }
    options.gracePeriodSeconds = seconds;
  }
  if (source.preconditions !== undefined && source.preconditions !== null) {
    if (!isRecord(source.preconditions)) throw badRequest('preconditions: Invalid value: must be an object', [{ field: 'preconditions', message: 'must be an object' }]);
    const { uid, resourceVersion } = source.preconditions;
    options.preconditions = {};
    // A precondition of the wrong type must refuse the delete, never be dropped (that would delete unconditionally).
    for (const [field, value] of [['uid', uid], ['resourceVersion', resourceVersion]] as const) {
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') {
        throw badRequest(`preconditions.${field}: Invalid value: ${JSON.stringify(value)}: must be a string`, [{ field: `preconditions.${field}`, message: 'must be a string' }]);
      }
      options.preconditions[field] = value;
    }
  }
  const dryRun = source.dryRun ?? query.getAll('dryRun');
  if (Array.isArray(dryRun) && dryRun.length > 0) options.dryRun = true;
  return options;
}
