import { Option } from 'commander';
import { collect, integer } from './options.js';
import type { CliCommand } from './index.js';

export const agentCommand: CliCommand = {
  register(program) {
    program
      .command('agent')
      .description('run a worker: register this machine as a Node and run the pods bound to it (foreground; JSON logs; SIGTERM stops the agent, never its pods)')
      .option('--server <url>', 'the API server, e.g. https://10.0.0.1:6443 (or take it from --kubeconfig)')
      .option('--token <token>', 'bearer token for the API server (or $PM8S_TOKEN, or from --kubeconfig)')
      .option('--ca-file <file>', "PEM file of the server's CA (the server writes it to <data-dir>/tls/ca.crt)")
      .addOption(new Option('--insecure-skip-tls-verify', 'do not verify the server certificate (loopback experiments only)'))
      .option('--node-name <name>', 'the Node name (default: the host name)')
      .option('--node-ip <ip>', 'the address pods and the node API are reached at (default: first non-loopback IPv4)')
      .option('--data-dir <dir>', 'local state, container logs and status files (default /var/lib/pm8s/agent as root, else $XDG_DATA_HOME/pm8s/agent)')
      .addOption(new Option('--port <port>', 'port of the node API (logs, exec, stats) that the server calls; 0 picks one').argParser(integer).default(10250))
      .addOption(new Option('--pids-limit <n>', 'pids.max per pod and per container (0: no limit)').argParser(integer).default(4096))
      .addOption(new Option('--max-pods <n>', 'pods this node accepts (Node capacity "pods")').argParser(integer).default(110))
      .option('--log-max-size <bytes>', 'rotate a container log past this size (e.g. 10Mi)', '10Mi')
      .addOption(new Option('--log-max-files <n>', 'files kept per container log, the live one included').argParser(integer).default(5))
      .option('--node-label <key=value>', 'extra label on the Node (repeatable)', collect, [])
      .addOption(new Option('--cgroup-root <name>', 'name of the cgroup subtree pods go in (tests)').default('pm8s').hideHelp())
      .addOption(new Option('--log-level <level>', 'debug, info, warn or error').choices(['debug', 'info', 'warn', 'error']).default('info'))
      .action(async (flags: AgentFlags, command) => {
        const { runAgent } = await import('../run-agent.js');
        await runAgent(flags, command.optsWithGlobals() as { kubeconfig?: string; context?: string });
      });
  },
};

export interface AgentFlags {
  server?: string;
  token?: string;
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  nodeName?: string;
  nodeIp?: string;
  dataDir?: string;
  port: number;
  pidsLimit: number;
  maxPods: number;
  logMaxSize: string;
  logMaxFiles: number;
  nodeLabel: string[];
  cgroupRoot: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}
