/** JSON patch (RFC 6902) with JSON pointers (RFC 6901), used by `kubectl patch --type=json`. */

import { ApiError, badRequest } from '../errors.js';
import { isRecord } from '../types.js';
import { cloneJson, getOwn, isForbiddenKey, jsonEqual, rejectForbiddenKeys, setOwn, type JsonObject } from './json-value.js';

/** Kubernetes' apiserver limit on operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

const OPERATION_NAMES = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;
type OperationName = (typeof OPERATION_NAMES)[number];

interface Operation {
  op: OperationName;
  /** Position in the patch, from 0. */
  index: number;
  /** Patch length, for messages. */
  count: number;
  path: string[];
  pathText: string;
  from: string[];
  fromText: string;
  value: unknown;
}

/**
 * Applies the operations in order to a copy of `target`. A malformed patch is a 400;
 * an operation that cannot apply to this document is a 422 naming the operation and path.
 */
export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json patch: the patch must be a JSON array of operations');
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      413,
      'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`,
    );
  }
  rejectForbiddenKeys(operations, 'json patch');
  const parsed = operations.map((operation, index) => parseOperation(operation, index, operations.length));
  let document = cloneJson(target);
  for (const operation of parsed) document = applyOperation(document, operation);
  return document;
}

function parseOperation(raw: unknown, index: number, count: number): Operation {
  const where = `json patch operation ${index + 1} of ${count}`;
  if (!isRecord(raw)) throw badRequest(`${where}: an operation must be a JSON object`);
  const op = getOwn(raw, 'op');
  if (typeof op !== 'string') throw badRequest(`${where}: missing "op" (one of ${OPERATION_NAMES.join(', ')})`);
  const name = OPERATION_NAMES.find((known) => known === op);
  if (name === undefined) throw badRequest(`${where}: unknown op "${op}" (expected one of ${OPERATION_NAMES.join(', ')})`);
  const pathText = getOwn(raw, 'path');
  if (typeof pathText !== 'string') throw badRequest(`${where}: ${name} operation is missing the string field "path"`);
  const operation: Operation = {
    op: name,
    index,
    count,
    path: parsePointer(pathText, where),
    pathText,
    from: [],
    fromText: '',
    value: undefined,
  };
  if (name === 'add' || name === 'replace' || name === 'test') {
    if (!Object.hasOwn(raw, 'value')) throw badRequest(`${where}: ${name} operation is missing the field "value"`);
    operation.value = raw.value;
  }
  if (name === 'move' || name === 'copy') {
    const fromText = getOwn(raw, 'from');
    if (typeof fromText !== 'string') throw badRequest(`${where}: ${name} operation is missing the string field "from"`);
    operation.from = parsePointer(fromText, where);
    operation.fromText = fromText;
  }
  return operation;
}

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 → "/" then ~0 → "~". */
function parsePointer(text: string, where: string): string[] {
  if (text === '') return [];
  if (!text.startsWith('/')) throw badRequest(`${where}: JSON pointer "${text}" must be empty or start with "/"`);
  return text
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) throw badRequest(`${where}: JSON pointer "${text}" has a "~" not followed by 0 or 1`);
      const decoded = token.replaceAll('~1', '/').replaceAll('~0', '~');
      if (isForbiddenKey(decoded)) throw badRequest(`${where}: JSON pointer "${text}" uses the forbidden key "${decoded}"`);
      return decoded;
    });
}

function doesNotApply(operation: Operation, detail: string): ApiError {
  return new ApiError(
    422,
    'Invalid',
    `jsonpatch ${operation.op} operation does not apply: ${detail} (operation ${operation.index + 1} of ${operation.count})`,
  );
}

function applyOperation(document: unknown, operation: Operation): unknown {
  switch (operation.op) {
    case 'add':
      return add(document, operation.path, cloneJson(operation.value), operation);
    case 'remove':
      return remove(document, operation.path, operation, 'key');
    case 'replace': {
      const value = cloneJson(operation.value);
      if (operation.path.length === 0) return value;
      const slot = locate(document, operation.path, operation, 'key');
      if (!slot.exists) throw doesNotApply(operation, `doc is missing key: ${operation.pathText}`);
      write(slot, value);
      return document;
    }
    case 'move': {
      if (isProperPrefix(operation.from, operation.path)) {
        throw doesNotApply(operation, `cannot move ${operation.fromText} into its own child ${operation.pathText}`);
      }
      const value = read(document, operation.from, operation, 'from path');
      return add(remove(document, operation.from, operation, 'from path'), operation.path, value, operation);
    }
    case 'copy':
      return add(document, operation.path, cloneJson(read(document, operation.from, operation, 'from path')), operation);
    case 'test': {
      const actual = read(document, operation.path, operation, 'key');
      if (!jsonEqual(actual, operation.value)) {
        throw doesNotApply(operation, `testing value ${operation.pathText} failed: ${JSON.stringify(actual)} is not ${JSON.stringify(operation.value)}`);
      }
      return document;
    }
  }
}

/** Where a pointer lands: the container holding the last token and whether that member exists. */
type Slot =
  | { container: JsonObject; kind: 'object'; key: string; exists: boolean }
  | { container: unknown[]; kind: 'array'; token: string; index: number; exists: boolean };

/** Walks to the parent of the last token; a missing parent means the operation cannot apply. */
function locate(document: unknown, path: string[], operation: Operation, what: 'key' | 'path' | 'from path'): Slot {
  const pointer = what === 'from path' ? operation.fromText : operation.pathText;
  const missing = (): ApiError => doesNotApply(operation, `doc is missing ${what}: ${pointer}`);
  let container = document;
  for (const token of path.slice(0, -1)) {
    if (isRecord(container)) {
      if (!Object.hasOwn(container, token)) throw missing();
      container = container[token];
    } else if (Array.isArray(container)) {
      const index = arrayIndex(token);
      if (index === undefined || index >= container.length) throw missing();
      container = container[index];
    } else {
      throw missing();
    }
  }
  const last = path[path.length - 1] ?? '';
  if (isRecord(container)) return { container, kind: 'object', key: last, exists: Object.hasOwn(container, last) };
  if (Array.isArray(container)) {
    const index = last === '-' ? container.length : (arrayIndex(last) ?? -1);
    return { container, kind: 'array', token: last, index, exists: index >= 0 && index < container.length };
  }
  throw missing();
}

/** Array indices are "0" or digits without a leading zero; anything else is no index. */
function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : undefined;
}

function read(document: unknown, path: string[], operation: Operation, what: 'key' | 'from path'): unknown {
  if (path.length === 0) return document;
  const slot = locate(document, path, operation, what);
  const pointer = what === 'from path' ? operation.fromText : operation.pathText;
  if (!slot.exists) throw doesNotApply(operation, `doc is missing ${what}: ${pointer}`);
  return slot.kind === 'object' ? slot.container[slot.key] : slot.container[slot.index];
}

function write(slot: Slot, value: unknown): void {
  if (slot.kind === 'object') setOwn(slot.container, slot.key, value);
  else slot.container[slot.index] = value;
}

function add(document: unknown, path: string[], value: unknown, operation: Operation): unknown {
  if (path.length === 0) return value;
  const slot = locate(document, path, operation, 'path');
  if (slot.kind === 'object') {
    setOwn(slot.container, slot.key, value);
  } else {
    if (slot.index < 0 || slot.index > slot.container.length) {
      throw doesNotApply(
        operation,
        `index ${JSON.stringify(slot.token)} is out of bounds for an array of length ${slot.container.length} at ${operation.pathText}`,
      );
    }
    slot.container.splice(slot.index, 0, value);
  }
  return document;
}

function remove(document: unknown, path: string[], operation: Operation, what: 'key' | 'from path'): unknown {
  const pointer = what === 'from path' ? operation.fromText : operation.pathText;
  if (path.length === 0) throw doesNotApply(operation, `cannot remove the whole document (${JSON.stringify(pointer)})`);
  const slot = locate(document, path, operation, what);
  if (!slot.exists) throw doesNotApply(operation, `doc is missing ${what}: ${pointer}`);
  if (slot.kind === 'object') delete slot.container[slot.key];
  else slot.container.splice(slot.index, 1);
  return document;
}

function isProperPrefix(prefix: string[], path: string[]): boolean {
  return prefix.length < path.length && prefix.every((token, i) => token === path[i]);
}
