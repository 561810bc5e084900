/**
 * Reads manifests for `-f FILE|DIR|-` (with `-R`): multi-document YAML or JSON, `kind: List`
 * expanded. Everything is parsed before anything is sent, and every error names its file and place.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, YAMLError } from 'yaml';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';
import { CliError } from './errors.js';

export interface Manifest {
  /** The file it came from, `-` for stdin. */
  source: string;
  /** Position among all documents read, for stable ordering. */
  index: number;
  object: KubeObject;
}

export interface ReadManifestsOptions {
  recursive?: boolean;
  readStdin: () => Promise<string>;
}

/** Alias expansion is capped low: a "billion laughs" document is refused instead of eating memory. */
const MAX_ALIAS_COUNT = 100;
/** kubectl's extensions for directory walks. */
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export async function readManifests(sources: readonly string[], options: ReadManifestsOptions): Promise<Manifest[]> {
  if (sources.length === 0) throw new CliError('Usage', 'must specify one of -f and -k');
  const files: string[] = [];
  for (const source of sources) files.push(...(await expand(source, options.recursive === true)));
  const manifests: Manifest[] = [];
  for (const file of files) {
    const text = file === '-' ? await options.readStdin() : await readFile(file, 'utf8');
    for (const object of parseManifestText(text, file)) manifests.push({ source: file, index: manifests.length, object });
  }
  return manifests;
}

async function expand(source: string, recursive: boolean): Promise<string[]> {
  if (source === '-') return ['-'];
  let info;
  try {
    info = await stat(source);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError('ManifestInvalid', `the path "${source}" does not exist`);
    throw error;
  }
  if (!info.isDirectory()) return [source];
  const found: string[] = [];
  const entries = (await readdir(source, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(source, entry.name);
    if (entry.isDirectory()) {
      if (recursive) found.push(...(await expand(full, true)));
    } else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      found.push(full);
    }
  }
  return found;
}

/** The objects in one file's text; `file` only names the source in errors. */
export function parseManifestText(text: string, file: string): KubeObject[] {
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [];
  const objects: KubeObject[] = [];
  for (const [position, document] of list.entries()) {
    const problem = document.errors[0];
    if (problem) throw yamlError(file, problem);
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      if (error instanceof YAMLError) throw yamlError(file, error);
      // The yaml package reports alias floods as a ReferenceError.
      if (error instanceof ReferenceError) {
        throw new CliError('ManifestInvalid', `error parsing ${file}: document ${position + 1} uses too many aliases (more than ${MAX_ALIAS_COUNT}); refusing to expand it`);
      }
      throw error;
    }
    if (value === null || value === undefined) continue;
    for (const object of expandLists(value, file, position)) objects.push(object);
  }
  return objects;
}

function expandLists(value: unknown, file: string, position: number): KubeObject[] {
  const where = `${file} (document ${position + 1})`;
  if (!isRecord(value)) throw new CliError('ManifestInvalid', `error validating ${where}: a manifest must be a mapping with apiVersion, kind and metadata`);
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    return value.items.flatMap((item) => expandLists(item, file, position));
  }
  const missing = [value.apiVersion ? undefined : 'apiVersion not set', value.kind ? undefined : 'kind not set'].filter(Boolean);
  if (missing.length > 0) throw new CliError('ManifestInvalid', `error validating ${where}: error validating data: [${missing.join(', ')}]`);
  if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    throw new CliError('ManifestInvalid', `error validating ${where}: apiVersion and kind must be strings`);
  }
  if (value.metadata !== undefined && !isRecord(value.metadata)) throw new CliError('ManifestInvalid', `error validating ${where}: metadata must be a mapping`);
  return [{ ...value, metadata: isRecord(value.metadata) ? value.metadata : {} } as KubeObject];
}

function yamlError(file: string, error: YAMLError): CliError {
  const position = error.linePos?.[0];
  const place = position ? `${file}:${position.line}:${position.col}` : file;
  const reason = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new CliError('ManifestInvalid', `error parsing ${place}: ${reason}`);
}
