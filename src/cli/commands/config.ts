import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { CliCommand } from './index.js';

export const configCommand: CliCommand = {
  register(program, context) {
    const config = program
      .command('config')
      .description('show or edit the client config (--kubeconfig, else $PM8S_CONFIG, else ~/.pm8s/config)')
      .addHelpText(
        'after',
        `
The file is in kubeconfig format, so kubectl can use it too (kubectl --kubeconfig FILE ...).

Examples:
  pm8s config view
  pm8s config get-contexts
  pm8s config use-context prod
  pm8s config set-server https://10.0.0.5:6443`,
      );
    const globals = (command: Command): GlobalFlags => command.optsWithGlobals<GlobalFlags>();
    const load = () => import('../config.js');

    config
      .command('view')
      .description('print the config, with tokens and certificate data redacted')
      .option('--raw', 'print tokens and certificate data as they are')
      .action(async (flags: { raw?: boolean }, command: Command) => (await load()).viewConfig(flags, globals(command), context));
    config
      .command('use-context')
      .description('make NAME the current context')
      .argument('<name>', 'a context in the config')
      .action(async (name: string, _flags: unknown, command: Command) => (await load()).useContextCommand(name, globals(command), context));
    config
      .command('set-server')
      .description("point a context's cluster at another API server URL")
      .argument('<url>', 'e.g. https://10.0.0.5:6443')
      .option('--context <name>', 'the context whose cluster changes (default: the current one)')
      .action(async (url: string, flags: { context?: string }, command: Command) => (await load()).setServerCommand(url, flags, globals(command), context));
    config
      .command('current-context')
      .description('print the current context')
      .action(async (_flags: unknown, command: Command) => (await load()).currentContext(globals(command), context));
    config
      .command('get-contexts')
      .description('list the contexts (the current one marked *)')
      .argument('[names...]', 'only these contexts')
      .option('--no-headers', 'leave out the header line')
      .addOption(new Option('-o, --output <format>', 'name: print names only').choices(['name']))
      .action(async (names: string[], flags: { headers: boolean; output?: string }, command: Command) =>
        (await load()).getContexts(names, { noHeaders: !flags.headers, ...(flags.output ? { output: flags.output } : {}) }, globals(command), context),
      );
  },
};
