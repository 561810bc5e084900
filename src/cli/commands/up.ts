import { Option } from 'commander';
import { collect, integer } from './options.js';
import type { CliCommand } from './index.js';

export const upCommand: CliCommand = {
  register(program, context) {
    program
      .command('up')
      .description('run a whole cluster on this machine: server and agent in one process, client config written, manifests applied (foreground; SIGTERM stops pm8s, never the pods)')
      .option('-f, --filename <path>', 'apply these manifests (file or directory, repeatable) once the cluster is ready', collect, [])
      .option('-R, --recursive', 'also read manifests in subdirectories of a -f directory')
      .option('--data-dir <dir>', 'where the cluster lives: <dir>/server and <dir>/agent (default /var/lib/pm8s as root, else $XDG_DATA_HOME/pm8s)')
      .option('--listen <host:port>', 'address to serve the API on', '127.0.0.1:6443')
      .option('--node-name <name>', 'the Node name (default: the host name)')
      .option('--node-ip <ip>', 'the address pods are reached at', '127.0.0.1')
      .addOption(new Option('--pids-limit <n>', 'pids.max per pod and per container (0: no limit)').argParser(integer).default(4096))
      .option('--log-max-size <bytes>', 'rotate a container log past this size (e.g. 10Mi)', '10Mi')
      .addOption(new Option('--log-max-files <n>', 'files kept per container log, the live one included').argParser(integer).default(5))
      .addOption(new Option('--cgroup-root <name>', 'name of the cgroup subtree pods go in (tests)').default('pm8s').hideHelp())
      .addOption(new Option('--log-level <level>', 'debug, info, warn or error').choices(['debug', 'info', 'warn', 'error']).default('info'))
      .addHelpText(
        'after',
        `
The client config goes to <data-dir>/server/admin.kubeconfig, and to ~/.pm8s/config (or
$PM8S_CONFIG) unless that file exists for another cluster; so right after this, in another shell:
  pm8s get pods -A

Examples:
  pm8s up -f examples/hello          # a local cluster serving the example app
  pm8s up --data-dir ./.pm8s         # keep the cluster's state in the project`,
      )
      .action(async (flags: UpFlags) => {
        const { runUp } = await import('../run-up.js');
        await runUp(flags, context);
      });
  },
};

export interface UpFlags {
  filename: string[];
  recursive?: boolean;
  dataDir?: string;
  listen: string;
  nodeName?: string;
  nodeIp: string;
  pidsLimit: number;
  logMaxSize: string;
  logMaxFiles: number;
  cgroupRoot: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}
