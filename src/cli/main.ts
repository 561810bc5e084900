/** The `pm8s` program: one lazily imported module per command, so `pm8s get` never loads the server. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { readProcessStdin, type CliContext } from './context.js';
import { formatError, isReportable } from './errors.js';
import { guardClosedPipe, processOutput, type Output } from './output.js';

export const PM8S_VERSION = readPackageVersion();

/** The package's version, found from src/cli (tests) or dist/src/cli (the built binary) alike. */
function readPackageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'pm8s' && typeof manifest.version === 'string') return manifest.version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error('pm8s: package.json not found next to the CLI');
}

export interface MainOptions {
  /** Where output goes (default: process stdout/stderr); tests pass a buffer. */
  output?: Output;
  readStdin?: () => Promise<string>;
}

export function buildProgram(context: CliContext = newContext()): Command {
  const { output } = context;
  const program = new Command('pm8s')
    .description('Kubernetes-style orchestration of plain OS processes')
    .version(PM8S_VERSION, '--version', 'print the pm8s version')
    .option('--kubeconfig <file>', 'client config file (default $PM8S_CONFIG, then ~/.pm8s/config)')
    .option('--context <name>', 'the kubeconfig context to use')
    .configureOutput({ writeOut: (text) => output.out(text), writeErr: (text) => output.err(text) })
    .showHelpAfterError()
    .exitOverride();
  for (const command of COMMANDS) command.register(program, context);
  return program;
}

function newContext(options: MainOptions = {}): CliContext {
  return { output: options.output ?? processOutput, readStdin: options.readStdin ?? readProcessStdin, exitCode: 0 };
}

/** Runs the CLI and returns the exit code; failures the CLI can explain are printed as kubectl would. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const context = newContext(options);
  if (context.output === processOutput) guardClosedPipe();
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv);
    if (context.exitCode !== 0) return context.exitCode;
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isReportable(error)) {
      context.output.err(`${formatError(error)}\n`);
      return 1;
    }
    throw error;
  }
}
