/** `pm8s logs`: streams `pods/log` to stdout, byte for byte. */
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError } from './errors.js';
import { parseDuration } from './printers.js';

export interface LogsFlags {
  container?: string;
  namespace?: string;
  follow?: boolean;
  previous?: boolean;
  tail: number;
  since?: string;
  sinceTime?: string;
  limitBytes?: number;
  timestamps?: boolean;
}

export async function runLogs(target: string, flags: LogsFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const name = podName(target);
  if (flags.since !== undefined && flags.sinceTime !== undefined) throw new CliError('Usage', 'at most one of --since or --since-time may be used');
  const sinceSeconds = flags.since === undefined ? undefined : Math.max(1, Math.ceil(parseDuration(flags.since, '--since') / 1000));
  await withClient(globals, async (client) => {
    const namespace = flags.namespace ?? client.namespace;
    const { response, cancel } = await client.stream('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log`, {
      container: flags.container,
      follow: flags.follow ? 'true' : undefined,
      previous: flags.previous ? 'true' : undefined,
      tailLines: flags.tail >= 0 ? String(flags.tail) : undefined,
      sinceSeconds: sinceSeconds === undefined ? undefined : String(sinceSeconds),
      sinceTime: flags.sinceTime,
      limitBytes: flags.limitBytes === undefined ? undefined : String(flags.limitBytes),
      timestamps: flags.timestamps ? 'true' : undefined,
    });
    const interrupt = () => cancel();
    process.once('SIGINT', interrupt);
    try {
      for await (const chunk of response) {
        if (context.output.bytes) await context.output.bytes(chunk as Buffer);
        else context.output.out((chunk as Buffer).toString('utf8'));
      }
    } catch {
      // Ctrl-C or a cut connection ends the stream; what arrived was printed.
    } finally {
      process.off('SIGINT', interrupt);
    }
  });
}

function podName(target: string): string {
  const slash = target.indexOf('/');
  if (slash < 0) return target;
  const kind = target.slice(0, slash);
  if (kind !== 'pod' && kind !== 'pods' && kind !== 'po') throw new CliError('Usage', `pm8s logs takes a pod (POD or pod/POD), not ${kind}`);
  return target.slice(slash + 1);
}
