// `sevsync migrate`.
import type { Command } from 'commander';
import { migrateDatabase } from '../db/migrate';
import { envConfig } from './common';

export function addMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (creates the database if missing)')
    .action(async () => {
      const res = await migrateDatabase(envConfig().databaseUrl);
      console.log(`${res.created ? 'created the database; ' : ''}applied ${res.applied} migration(s)`);
    });
}
