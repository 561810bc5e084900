/**
 * Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion), used for command, args and
 * env values: `$(VAR)` becomes VAR's value when VAR is defined and stays as written otherwise,
 * `$$` is a literal `$` (so `$$(VAR)` gives `$(VAR)`), and any other `$` is kept.
 */

/** Expands one string against `lookup` (undefined = not defined: the reference stays). */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** The argv a container runs: its command then its args, each expanded against the container's env. */
export function expandCommand(command: readonly string[] | undefined, args: readonly string[] | undefined, env: Readonly<Record<string, string>>): string[] {
  const lookup = (name: string): string | undefined => (Object.hasOwn(env, name) ? env[name] : undefined);
  return [...(command ?? []), ...(args ?? [])].map((part) => expandVars(part, lookup));
}
