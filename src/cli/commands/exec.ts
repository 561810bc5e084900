import type { Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import type { ExecFlags } from '../exec.js';
import type { CliCommand } from './index.js';

export const execCommand: CliCommand = {
  register(program, context) {
    program
      .command('exec')
      .description("run a command in a running container's context (its env, working directory, user and cgroup) and return its exit code")
      .argument('<pod>', 'POD or pod/POD')
      .argument('[command...]', 'the command and its arguments, after --')
      .option('-c, --container <name>', 'the container (default: the kubectl.kubernetes.io/default-container annotation, else the first)')
      .option('-n, --namespace <ns>', "namespace (default: the context's)")
      .addHelpText(
        'after',
        `
The command runs as an argument vector, never through a shell unless you name one. Its stdout and
stderr stream back; pm8s exits with its exit code. There is no stdin and no TTY (-i/-t), and
kubectl exec does not work against pm8s (it needs SPDY/websocket streams).

Examples:
  pm8s exec web-7d4b9 -- env
  pm8s exec web-7d4b9 -c sidecar -- cat /proc/self/cgroup
  pm8s exec -n shop pod/db-0 -- sh -c 'echo $HOME; ls'`,
      )
      .action(async (pod: string, args: string[], flags: ExecFlags, command: Command) => {
        const { runExec } = await import('../exec.js');
        await runExec(pod, args, flags, command.optsWithGlobals<GlobalFlags>(), context);
      });
  },
};
