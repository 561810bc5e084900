import os from 'node:os';
import path from 'node:path';

/**
 * Where a daemon keeps its state when `--data-dir` is not given: `/var/lib/pm8s[/part]` as root,
 * else `$XDG_DATA_HOME/pm8s[/part]` (default `~/.local/share`).
 */
export function defaultDataDir(part?: 'server' | 'agent', env: NodeJS.ProcessEnv = process.env): string {
  const base = process.getuid?.() === 0 ? '/var/lib/pm8s' : path.join(env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'pm8s');
  return part === undefined ? base : path.join(base, part);
}
