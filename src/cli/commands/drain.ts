import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { DrainFlags } from '../drain.js';
import type { CliCommand } from './index.js';
import { booleanFlag, integer } from './options.js';

export const drainCommand: CliCommand = {
  register(program, context) {
    program
      .command('drain')
      .description('cordon a node, then evict its pods (except DaemonSet pods) and wait until they are gone')
      .argument('<node>', 'the node to drain')
      .addOption(new Option('--ignore-daemonsets [bool]', 'leave DaemonSet-managed pods in place (true by default in pm8s, unlike kubectl; false refuses to drain a node that has them)').argParser(booleanFlag).default(true))
      .option('--delete-emptydir-data', 'evict pods that use emptyDir volumes too (their data is lost)')
      .option('--force', 'also delete pods that no controller manages (they are not recreated)')
      .addOption(new Option('--grace-period <seconds>', 'seconds each pod gets to stop (-1: the pod\'s own setting)').argParser(integer).default(-1))
      .option('--timeout <duration>', 'give up after this long (e.g. 60s, 5m; 0: wait as long as it takes)', '0s')
      .option('--disable-eviction', 'delete pods directly instead of through the eviction subresource')
      .addHelpText(
        'after',
        `
Examples:
  pm8s drain n1
  pm8s drain n1 --timeout 2m --grace-period 10
  pm8s drain n1 --force --delete-emptydir-data
  pm8s uncordon n1          # afterwards, to let pods back on`,
      )
      .action(async (node: string, flags: DrainFlags, command: Command) => {
        const { runDrain } = await import('../drain.js');
        await runDrain(node, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
