import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { DescribeFlags } from '../describe.js';
import type { CliCommand } from './index.js';
import { booleanFlag } from './options.js';

export const describeCommand: CliCommand = {
  register(program, context) {
    program
      .command('describe')
      .description('show the details of objects, and the events about them')
      .argument('[kind-and-names...]', 'KIND NAME…, KIND/NAME…, or KIND (every object of it, or those matching -l)')
      .option('-n, --namespace <ns>', 'namespace (default: the context\'s)')
      .option('-A, --all-namespaces', 'without names: describe across all namespaces')
      .option('-l, --selector <selector>', 'without names: only objects matching this label selector')
      .addOption(new Option('--show-events [bool]', 'list the events about each object (true|false)').argParser(booleanFlag).default(true))
      .addHelpText(
        'after',
        `
Examples:
  pm8s describe deploy web
  pm8s describe pod/web-1
  pm8s describe pods -l app=web
  pm8s describe node`,
      )
      .action(async (args: string[], flags: DescribeFlags, command: Command) => {
        const { runDescribe } = await import('../describe.js');
        await runDescribe(args, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
