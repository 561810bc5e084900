import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { ApplyFlags } from '../apply.js';
import type { CliCommand } from './index.js';
import { collect } from './options.js';

export const applyCommand: CliCommand = {
  register(program, context) {
    program
      .command('apply')
      .description('create or update objects from manifests (client-side apply: all documents are validated before any is written)')
      .requiredOption('-f, --filename <file>', 'a manifest file, a directory of them, or - for stdin (repeatable)', collect, [])
      .option('-R, --recursive', 'also read manifests in subdirectories of a -f directory')
      .option('-n, --namespace <ns>', 'namespace for objects that do not name one (default: the context\'s)')
      .addOption(new Option('--dry-run [strategy]', 'none, client (print only) or server (validate on the server, write nothing)').default('none'))
      .addOption(new Option('-o, --output <format>', 'print the objects instead of a status line').choices(['name', 'yaml', 'json']))
      .addHelpText(
        'after',
        `
Examples:
  pm8s apply -f web.yaml                # create, or update to match the file
  pm8s apply -f manifests/ -R           # every .yaml/.yml/.json below manifests/
  cat web.yaml | pm8s apply -f -
  pm8s apply -f web.yaml --dry-run=server

A document that is removed from a file is not deleted; a field removed from a document is removed
from the object (kubectl's three-way merge, using the last-applied-configuration annotation).`,
      )
      .action(async (flags: ApplyFlags, command: Command) => {
        const { runApply } = await import('../apply.js');
        await runApply(flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
