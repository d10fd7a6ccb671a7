// What every command group uses: the configuration from the environment, the application (or only the
// database) for the length of a command, `--json` or text output, and the `--account` option.
import type { Command } from 'commander';
import type { AppDeps } from '../app';
import { connectApp } from '../app';
import type { Config } from '../config';
import { loadConfig } from '../config';
import type { DbHandle } from '../db/client';
import { createDb } from '../db/client';

/** The configuration from the environment, read when a command runs (so `--help` needs none). */
export const envConfig = (): Config => loadConfig(process.env);

export async function withApp<T>(fn: (app: AppDeps) => Promise<T>): Promise<T> {
  const app = await connectApp(envConfig());
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** For commands that need only the database (no Temporal server). */
export async function withDb<T>(fn: (deps: { db: DbHandle; config: Config }) => Promise<T>): Promise<T> {
  const c = envConfig();
  const db = createDb(c.databaseUrl, { max: 1 });
  try {
    return await fn({ db, config: c });
  } finally {
    await db.close();
  }
}

export const print = (json: boolean, value: unknown, text: () => string): void =>
  console.log(json ? JSON.stringify(value, null, 2) : text());

export const accountOption = (cmd: Command): Command =>
  cmd.requiredOption('--account <id>', 'OneCockpit account id');
