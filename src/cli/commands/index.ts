import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** A command registers its name, flags and help eagerly, and imports its implementation only when run. */
export interface CliCommand {
  register(program: Command, context: CliContext): void;
}

import { applyCommand } from './apply.js';
import { configCommand } from './config.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { getCommand } from './get.js';
import { serverCommand } from './server.js';

/** Adding a command = one file + one line here. */
export const COMMANDS: readonly CliCommand[] = [serverCommand, applyCommand, getCommand, describeCommand, deleteCommand, configCommand];
