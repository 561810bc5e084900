/** What a user names on the command line: `KIND[,KIND] [NAME…]`, `KIND/NAME…`, or `all`. */
import type { ResourceInfo } from '../api/resources.js';
import { RESOURCES, resolveResource } from '../api/resources.js';
import { CliError, unknownResource } from './errors.js';

export interface Target {
  info: ResourceInfo;
  /** Empty: every object of the kind. */
  names: string[];
}

export function resolveKind(typed: string): ResourceInfo {
  const info = resolveResource(typed);
  if (!info) throw unknownResource(typed);
  return info;
}

/** Resolves command arguments; `verb` words the usage error as kubectl does. */
export function parseTargets(args: readonly string[], verb: string): Target[] {
  if (args.length === 0) {
    throw new CliError('Usage', `You must specify the type of resource to ${verb}. Use "pm8s get --help" for the supported resource types.`);
  }
  if (args.every((arg) => arg.includes('/'))) {
    const targets: Target[] = [];
    for (const arg of args) {
      const slash = arg.indexOf('/');
      const info = resolveKind(arg.slice(0, slash));
      const name = arg.slice(slash + 1);
      if (name === '') throw new CliError('Usage', `arguments in resource/name form must have a single resource and name: "${arg}"`);
      const existing = targets.find((target) => target.info === info);
      if (existing) existing.names.push(name);
      else targets.push({ info, names: [name] });
    }
    return targets;
  }
  const [kinds, ...names] = args as [string, ...string[]];
  if (names.some((name) => name.includes('/'))) {
    throw new CliError('Usage', 'there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
  }
  const infos: ResourceInfo[] = [];
  for (const typed of kinds.split(',').filter((part) => part !== '')) {
    const expanded = typed === 'all' ? RESOURCES.filter((info) => info.categories.includes('all')) : [resolveKind(typed)];
    for (const info of expanded) if (!infos.includes(info)) infos.push(info);
  }
  if (infos.length === 0) throw unknownResource(kinds);
  return infos.map((info) => ({ info, names: [...names] }));
}

/** The namespace a command works in: none for cluster-scoped kinds and -A, else -n or the context's. */
export function namespaceFor(info: ResourceInfo, flags: { namespace?: string; allNamespaces?: boolean }, contextNamespace: string): string | undefined {
  if (!info.namespaced || flags.allNamespaces === true) return undefined;
  return flags.namespace ?? contextNamespace;
}

export interface NamedTarget {
  info: ResourceInfo;
  name: string;
}

/** `KIND NAME…` or `KIND/NAME…` flattened to one entry per object, for verbs that act on named objects only. */
export function parseNamedTargets(args: readonly string[], verb: string): NamedTarget[] {
  if (args.length === 0) throw new CliError('Usage', 'You must provide one or more resources by argument or filename.');
  const named: NamedTarget[] = [];
  for (const { info, names } of parseTargets(args, verb)) {
    if (names.length === 0) throw new CliError('Usage', `resource(s) were provided, but no name was specified: name the ${info.singular} to ${verb}`);
    for (const name of names) named.push({ info, name });
  }
  return named;
}
