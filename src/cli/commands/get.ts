import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { GetFlags } from '../get.js';
import type { CliCommand } from './index.js';

export const getCommand: CliCommand = {
  register(program, context) {
    program
      .command('get')
      .description('list objects as a table (or YAML, JSON, names); -w keeps printing changes')
      .argument('[kind-and-names...]', 'KIND[,KIND…] [NAME…], KIND/NAME…, or "all"')
      .option('-n, --namespace <ns>', 'namespace (default: the context\'s)')
      .option('-A, --all-namespaces', 'list across all namespaces (adds a NAMESPACE column)')
      .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
      .option('--field-selector <selector>', 'field selector, e.g. metadata.name=web,status.phase=Running')
      .addOption(new Option('-o, --output <format>', 'wide, yaml, json or name').choices(['wide', 'yaml', 'json', 'name']))
      .option('--show-labels', 'add a LABELS column')
      .option('--no-headers', 'leave out the header line')
      .option('-w, --watch', 'after the list, print a row for every change (until Ctrl-C)')
      .option('--watch-only', 'print changes only, without the initial list')
      .option('--request-timeout <duration>', 'end a watch after this long (e.g. 30s, 5m); default: never')
      .addHelpText(
        'after',
        `
Kinds: pods (po), deployments (deploy), replicasets (rs), statefulsets (sts), daemonsets (ds),
services (svc), endpoints (ep), ingresses (ing), configmaps (cm), secrets, namespaces (ns),
nodes (no), events (ev), leases, persistentvolumeclaims (pvc); "all" = pods, services and workloads.

Examples:
  pm8s get pods
  pm8s get deploy web -o yaml
  pm8s get deploy,svc -l app=web
  pm8s get pod/web-1 svc/web
  pm8s get pods -A -o wide --show-labels
  pm8s get pods -w`,
      )
      .action(async (args: string[], flags: GetFlags, command: Command) => {
        const { runGet } = await import('../get.js');
        await runGet(args, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
