// The operator CLI, `npx sevsync <command>`: the commands only parse arguments, call src/app and format the
// result. Exit codes: 0 ok, 1 failure with a clear message, 2 usage (docs/cli.md, "Exit codes").
import type { Command as CommandType } from 'commander';
import { Command, CommanderError } from 'commander';
import { AppError } from '../app';
import { ConfigError } from '../config';
import { addServeCommands } from '../server/command';
import { addEventsCommands } from './events';
import { addInterfaceCommands } from './interface';
import { addKeysCommands } from './keys';
import { addMigrateCommand } from './migrate';
import { addStatusCommands } from './status';
import { addSyncCommands } from './sync';
import { addWebhooksCommands } from './webhooks';
import { addWorkerCommand } from './worker';

/** Each group registers its commands, in the order `--help` lists them; a new group is one more entry. */
export const commandGroups: ((program: CommandType) => void)[] = [
  addMigrateCommand,
  addWorkerCommand,
  addKeysCommands,
  addInterfaceCommands,
  addSyncCommands,
  addStatusCommands,
  addEventsCommands,
  addWebhooksCommands,
  addServeCommands,
];

export function buildProgram(): CommandType {
  const program = new Command('sevsync')
    .description('sevDesk invoices to OneCockpit customers, on Temporal and PostgreSQL')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandGroups) register(program);
  return program;
}

/** Runs the command in `argv` (process.argv's shape); resolves to the process's exit code. */
export async function main(argv: string[]): Promise<number> {
  // `sevsync customers --json | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return 0;
      return 2;
    }
    if (err instanceof AppError || err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    const e = err as Error;
    console.error(`error: ${e.message ?? String(err)}`);
    return 1;
  }
}
