// `sevsync migrate`.
import type { Command } from 'commander';
import { migrateDatabase } from '../db/migrate';
import { envConfig } from './common';

export function addMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      'apply database migrations (creates the database if missing) as SEVSYNC_MIGRATION_DATABASE_URL ' +
        '(else DATABASE_URL), then grant the runtime role its privileges',
    )
    .action(async () => {
      const config = envConfig();
      const m = config.migration ?? { databaseUrl: config.databaseUrl, appRole: undefined };
      const res = await migrateDatabase(m.databaseUrl, { appRole: m.appRole });
      const granted = res.granted ? `; granted the runtime role "${res.granted.role}"` : '';
      console.log(
        `${res.created ? 'created the database; ' : ''}applied ${res.applied} migration(s)${granted}`,
      );
      for (const w of res.granted?.warnings ?? []) console.error(`warning: ${w}`);
    });
}
