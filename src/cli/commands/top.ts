import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { TopNodeFlags, TopPodFlags } from '../top.js';
import type { CliCommand } from './index.js';

export const topCommand: CliCommand = {
  register(program, context) {
    const top = program
      .command('top')
      .description('show CPU and memory use of pods or nodes (metrics.k8s.io, measured by the agents)')
      .addHelpText(
        'after',
        `
Examples:
  pm8s top pods
  pm8s top pods -A -l app=web --sort-by cpu
  pm8s top pod web-7d4b9 --containers
  pm8s top nodes`,
      );
    top
      .command('pods')
      .aliases(['pod', 'po'])
      .description('CPU (millicores) and memory (MiB, working set) per pod')
      .argument('[name]', 'one pod')
      .option('-n, --namespace <ns>', "namespace (default: the context's)")
      .option('-A, --all-namespaces', 'pods of every namespace (adds a NAMESPACE column)')
      .option('-l, --selector <selector>', 'label selector, e.g. app=web')
      .option('--containers', 'one line per container')
      .addOption(new Option('--sort-by <resource>', 'sort by cpu or memory, highest first').choices(['cpu', 'memory']))
      .option('--no-headers', 'leave out the header line')
      .action(async (name: string | undefined, flags: TopPodFlags, command: Command) => {
        const { runTopPods } = await import('../top.js');
        await runTopPods(name, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
    top
      .command('nodes')
      .aliases(['node', 'no'])
      .description('CPU and memory per node, and their share of what the node can allocate')
      .argument('[name]', 'one node')
      .option('-l, --selector <selector>', 'label selector, e.g. kubernetes.io/hostname=box')
      .addOption(new Option('--sort-by <resource>', 'sort by cpu or memory, highest first').choices(['cpu', 'memory']))
      .option('--show-capacity', 'percentages of capacity instead of allocatable')
      .option('--no-headers', 'leave out the header line')
      .action(async (name: string | undefined, flags: TopNodeFlags, command: Command) => {
        const { runTopNodes } = await import('../top.js');
        await runTopNodes(name, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
