import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { LogsFlags } from '../logs.js';
import type { CliCommand } from './index.js';
import { integer } from './options.js';

export const logsCommand: CliCommand = {
  register(program, context) {
    program
      .command('logs')
      .description("print a container's log (through the API server, from the agent of the pod's node)")
      .argument('<pod>', 'POD or pod/POD')
      .option('-c, --container <name>', 'the container (default: the only one)')
      .option('-n, --namespace <ns>', "the pod's namespace (default: the context's)")
      .option('-f, --follow', 'keep streaming until the container exits or you press Ctrl-C')
      .option('-p, --previous', "the container's previous run (after a restart)")
      .addOption(new Option('--tail <lines>', 'only the last N lines (-1: all)').argParser(integer).default(-1))
      .option('--since <duration>', 'only logs newer than this, e.g. 10s, 5m, 2h (per rotated file, see docs/runtime.md)')
      .option('--since-time <time>', 'only logs newer than this RFC 3339 time')
      .addOption(new Option('--limit-bytes <n>', 'stop after this many bytes').argParser(integer))
      .option('--timestamps', 'prefix lines with their time (refused: pm8s logs carry no per-line times)')
      .addHelpText(
        'after',
        `
Examples:
  pm8s logs web-7d9f-abcde               # the whole current log
  pm8s logs web-7d9f-abcde -f --tail 20  # the last 20 lines, then follow
  pm8s logs web-7d9f-abcde -c sidecar --previous`,
      )
      .action(async (pod: string, flags: LogsFlags, command: Command) => {
        const { runLogs } = await import('../logs.js');
        await runLogs(pod, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
