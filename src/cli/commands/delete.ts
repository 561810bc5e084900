import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { DeleteFlags } from '../delete.js';
import type { CliCommand } from './index.js';
import { booleanFlag, collect, integer } from './options.js';

export const deleteCommand: CliCommand = {
  register(program, context) {
    program
      .command('delete')
      .description('delete objects by file, by name, by label selector, or all of a kind')
      .argument('[kind-and-names...]', 'KIND NAME…, KIND/NAME…, or KIND with -l/--all')
      .option('-f, --filename <file>', 'delete the objects named in these manifests (repeatable; - for stdin)', collect, [])
      .option('-R, --recursive', 'also read manifests in subdirectories of a -f directory')
      .option('-n, --namespace <ns>', 'namespace (default: the context\'s)')
      .option('-A, --all-namespaces', 'with -l or --all: across all namespaces')
      .option('-l, --selector <selector>', 'delete the objects matching this label selector')
      .option('--all', 'delete every object of the kind in the namespace')
      .addOption(new Option('--cascade <policy>', 'what happens to dependents: background, foreground or orphan').default('background'))
      .addOption(new Option('--grace-period <seconds>', 'seconds a pod gets to stop (-1: the pod\'s own setting)').argParser(integer).default(-1))
      .option('--force', 'with --grace-period 0 (the default then): remove at once, without waiting for processes to stop')
      .addOption(new Option('--wait [bool]', 'wait until the objects are gone (true|false)').argParser(booleanFlag).default(true))
      .option('--timeout <duration>', 'how long --wait waits (e.g. 60s, 5m)', '60s')
      .option('--ignore-not-found', 'treat "not found" as success')
      .addOption(new Option('--dry-run <strategy>', 'none, client or server (nothing deleted)').choices(['none', 'client', 'server']).default('none'))
      .addOption(new Option('-o, --output <format>', 'name: print kind/name only').choices(['name']))
      .addHelpText(
        'after',
        `
Examples:
  pm8s delete -f web.yaml
  pm8s delete deploy web
  pm8s delete pod/web-1 svc/web
  pm8s delete pods -l app=web
  pm8s delete configmaps --all -n staging
  pm8s delete deploy web --cascade=orphan --wait=false`,
      )
      .action(async (args: string[], flags: DeleteFlags, command: Command) => {
        const { runDelete } = await import('../delete.js');
        await runDelete(args, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
