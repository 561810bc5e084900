import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** A command registers its name, flags and help eagerly, and imports its implementation only when run. */
export interface CliCommand {
  register(program: Command, context: CliContext): void;
}

import { agentCommand } from './agent.js';
import { applyCommand } from './apply.js';
import { configCommand } from './config.js';
import { cordonCommand } from './cordon.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { drainCommand } from './drain.js';
import { execCommand } from './exec.js';
import { getCommand } from './get.js';
import { logsCommand } from './logs.js';
import { rolloutCommand } from './rollout.js';
import { scaleCommand } from './scale.js';
import { serverCommand } from './server.js';
import { topCommand } from './top.js';
import { upCommand } from './up.js';

/** Adding a command = one file + one line here. */
export const COMMANDS: readonly CliCommand[] = [upCommand, serverCommand, agentCommand, applyCommand, getCommand, describeCommand, logsCommand, execCommand, topCommand, deleteCommand, configCommand, scaleCommand, rolloutCommand, cordonCommand, drainCommand];
