import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { ScaleFlags } from '../scale.js';
import type { CliCommand } from './index.js';
import { integer } from './options.js';

export const scaleCommand: CliCommand = {
  register(program, context) {
    program
      .command('scale')
      .description('set the number of replicas of a deployment, replicaset or statefulset (through its scale subresource)')
      .argument('[kind-and-names...]', 'KIND NAME… or KIND/NAME…')
      .addOption(new Option('--replicas <count>', 'the new number of replicas (required)').argParser(integer))
      .addOption(new Option('--current-replicas <count>', 'precondition: scale only if the object has this many replicas now').argParser(integer))
      .option('-n, --namespace <ns>', 'namespace (default: the context\'s)')
      .addHelpText(
        'after',
        `
Examples:
  pm8s scale deployment/web --replicas 5
  pm8s scale deploy web --replicas 0
  pm8s scale statefulset db --replicas 3 --current-replicas 2`,
      )
      .action(async (args: string[], flags: ScaleFlags, command: Command) => {
        const { runScale } = await import('../scale.js');
        await runScale(args, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
