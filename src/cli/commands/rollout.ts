import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { RolloutFlags, RolloutVerb } from '../rollout.js';
import type { RolloutStatusFlags } from '../rollout-status.js';
import type { CliCommand } from './index.js';
import { booleanFlag, integer } from './options.js';

const VERBS: ReadonlyArray<{ verb: RolloutVerb; description: string; examples: string[]; options?: (command: Command) => Command }> = [
  {
    verb: 'history',
    description: 'list a deployment\'s revisions (from its ReplicaSets), or show one revision\'s pod template',
    examples: ['pm8s rollout history deployment/web', 'pm8s rollout history deploy web --revision 2'],
    options: (command) => command.addOption(new Option('--revision <n>', 'show the pod template of this revision').argParser(integer)),
  },
  {
    verb: 'undo',
    description: 'roll a deployment back to the previous revision (or --to-revision N)',
    examples: ['pm8s rollout undo deployment/web', 'pm8s rollout undo deploy web --to-revision 1'],
    options: (command) => command.addOption(new Option('--to-revision <n>', 'the revision to return to (default: the previous one)').argParser(integer)),
  },
  {
    verb: 'restart',
    description: 'restart every pod of a deployment, statefulset or daemonset by rolling it out again',
    examples: ['pm8s rollout restart deployment/web', 'pm8s rollout restart daemonset/logs -n infra'],
  },
  {
    verb: 'pause',
    description: 'pause a deployment: template changes are not rolled out until it is resumed',
    examples: ['pm8s rollout pause deployment/web'],
  },
  {
    verb: 'resume',
    description: 'resume a paused deployment, rolling out the changes made meanwhile',
    examples: ['pm8s rollout resume deployment/web'],
  },
];

export const rolloutCommand: CliCommand = {
  register(program, context) {
    const rollout = program
      .command('rollout')
      .description('watch, list, undo, restart, pause or resume the rollout of deployments (statefulsets and daemonsets: status and restart)')
      .addHelpText(
        'after',
        `
Examples:
  pm8s rollout status deployment/web
  pm8s rollout history deployment/web
  pm8s rollout undo deployment/web --to-revision 2
  pm8s rollout restart deployment/web`,
      );

    rollout
      .command('status')
      .description('wait until a rollout finishes, showing its progress; exits 1 if it exceeds its progress deadline')
      .argument('[kind-and-names...]', 'KIND NAME or KIND/NAME: a deployment, statefulset or daemonset')
      .option('-n, --namespace <ns>', 'namespace (default: the context\'s)')
      .addOption(new Option('-w, --watch [bool]', 'wait until the rollout is done (true|false)').argParser(booleanFlag).default(true))
      .option('--timeout <duration>', 'give up after this long (e.g. 5m; 0: wait as long as it takes)', '0s')
      .addOption(new Option('--revision <n>', 'deployments: fail unless this is the running revision').argParser(integer))
      .addHelpText(
        'after',
        `
Examples:
  pm8s rollout status deployment/web
  pm8s rollout status sts/db --timeout 2m
  pm8s rollout status deploy web --watch=false`,
      )
      .action(async (args: string[], flags: RolloutStatusFlags, command: Command) => {
        const { runRolloutStatus } = await import('../rollout-status.js');
        await runRolloutStatus(args, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });

    for (const { verb, description, examples, options } of VERBS) {
      const command = rollout
        .command(verb)
        .description(description)
        .argument('[kind-and-names...]', 'KIND NAME… or KIND/NAME…')
        .option('-n, --namespace <ns>', 'namespace (default: the context\'s)');
      (options ? options(command) : command)
        .addHelpText('after', `\nExamples:\n${examples.map((example) => `  ${example}`).join('\n')}`)
        .action(async (args: string[], flags: RolloutFlags, invoked: Command) => {
          const { runRollout } = await import('../rollout.js');
          await runRollout(verb, args, flags, invoked.optsWithGlobals<GlobalFlags>(), context);
        });
    }
  },
};
