/** Reading request bodies safely: bounded size, strict UTF-8, bounded nesting, no prototype keys. */
import type { IncomingMessage } from 'node:http';
import { badRequest, tooLarge, unsupportedMediaType } from '../../../api/errors.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;
export const MAX_JSON_DEPTH = 100;
/** Assigning this key by name rewrites an object's prototype; no Kubernetes field has it. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

const JSON_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
]);

/** The media type without parameters; a missing Content-Type is JSON (kubectl 1.20 sends none). */
export function mediaType(request: IncomingMessage): string {
  const header = request.headers['content-type'];
  if (!header) return 'application/json';
  return header.split(';')[0]!.trim().toLowerCase();
}

export async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads and parses a JSON body of one of the JSON media types; other types are 415. */
export async function readJsonBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = mediaType(request);
  if (!JSON_TYPES.has(type)) {
    request.resume();
    throw unsupportedMediaType(type);
  }
  const body = await readBody(request, limit);
  if (body.length === 0) return undefined;
  return parseJson(body);
}

export function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw badRequest('the request body is not valid UTF-8');
  }
  checkDepth(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  checkKeys(value);
  return value;
}

/** Refuses deep nesting before parsing, so no later recursive walk can exhaust the stack. */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw badRequest(`the request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
}

/** Refusing `__proto__` anywhere rules out prototype pollution in any later merge or patch. */
function checkKeys(value: unknown): void {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: `${path}[${index}]` }));
      continue;
    }
    for (const key of Object.keys(current)) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) throw badRequest(`${field}: field name "${key}" is not allowed`, [{ field, message: `field name "${key}" is not allowed` }]);
      stack.push({ value: (current as Record<string, unknown>)[key], path: field });
    }
  }
}
