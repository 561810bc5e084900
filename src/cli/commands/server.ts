import { Option } from 'commander';
import type { CliCommand } from './index.js';

export const serverCommand: CliCommand = {
  register(program) {
    program
      .command('server')
      .description('run the control plane: API server and store (foreground; JSON logs on stdout; SIGTERM stops it cleanly)')
      .option('--data-dir <dir>', 'state, certificates and tokens (default /var/lib/pm8s/server as root, else $XDG_DATA_HOME/pm8s/server)')
      .option('--listen <host:port>', 'address to serve the API on', '0.0.0.0:6443')
      .option('--datastore <url>', 'sqlite://PATH (relative to the data dir) or memory://', 'sqlite://state.db')
      .option('--tls-san <name>', 'extra DNS name or IP for the serving certificate (repeatable)', collect, [])
      .addOption(new Option('--insecure-http', 'serve plain HTTP instead of HTTPS (kubectl sends no token over it; loopback experiments only)'))
      .addOption(new Option('--log-level <level>', 'debug, info, warn or error').choices(['debug', 'info', 'warn', 'error']).default('info'))
      .addOption(new Option('--compact-interval <seconds>', 'how often to compact store history').argParser(positive).default(300).hideHelp())
      .addOption(new Option('--compact-retain <revisions>', 'revisions of history kept for watches').argParser(positive).default(1000))
      .addOption(new Option('--event-ttl <seconds>', 'how long Events live').argParser(positive).default(3600))
      .addOption(new Option('--expire-interval <seconds>', 'how often expired Events are swept').argParser(positive).default(60).hideHelp())
      .addOption(new Option('--node-monitor-period <seconds>', 'how often node health (Lease renewals) is checked').argParser(positive).default(5))
      .addOption(new Option('--node-monitor-grace-period <seconds>', 'a node not renewing its Lease this long becomes Ready=Unknown and is tainted unreachable').argParser(positive).default(40))
      .addOption(new Option('--default-toleration-seconds <seconds>', 'how long new pods tolerate a not-ready/unreachable node before eviction').argParser(nonNegativeInteger).default(300))
      .option('--no-controllers', 'serve the API alone: no scheduler and no controllers (a second API server, or debugging)')
      .addOption(new Option('--scheduler-retry-period <seconds>', 'how often the scheduler retries a pod that fits no node (also its longest backoff)').argParser(positive).default(10))
      .action(async (flags: ServerFlags) => {
        const { runServer } = await import('../run-server.js');
        await runServer(flags);
      });
  },
};

export interface ServerFlags {
  dataDir?: string;
  controllers: boolean;
  listen: string;
  datastore: string;
  tlsSan: string[];
  insecureHttp?: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  compactInterval: number;
  compactRetain: number;
  eventTtl: number;
  expireInterval: number;
  nodeMonitorPeriod: number;
  nodeMonitorGracePeriod: number;
  defaultTolerationSeconds: number;
  schedulerRetryPeriod: number;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${value} is not a positive number`);
  return number;
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${value} is not a whole number of seconds`);
  return number;
}
