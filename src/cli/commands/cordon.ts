import type { Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { CordonFlags } from '../cordon.js';
import type { CliCommand } from './index.js';

/** `cordon` and `uncordon`: one file, as they are one operation with two directions. */
export const cordonCommand: CliCommand = {
  register(program, context) {
    for (const unschedulable of [true, false]) {
      const verb = unschedulable ? 'cordon' : 'uncordon';
      program
        .command(verb)
        .description(unschedulable ? 'mark nodes unschedulable: no new pods are placed on them (running pods stay)' : 'mark nodes schedulable again')
        .argument('[nodes...]', 'node names')
        .option('-l, --selector <selector>', `${verb} the nodes matching this label selector`)
        .addHelpText('after', `\nExamples:\n  pm8s ${verb} n1\n  pm8s ${verb} -l zone=b`)
        .action(async (nodes: string[], flags: CordonFlags, command: Command) => {
          const { runCordon } = await import('../cordon.js');
          await runCordon(unschedulable, nodes, flags, command.optsWithGlobals<GlobalFlags>(), context);
        });
    }
  },
};
