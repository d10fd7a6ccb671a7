// What every command group uses: the configuration from the environment, the application (or only the
// database) for the length of a command, `--json` or text output, and the `--account` option.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { AppDeps } from '../app';
import { connectApp } from '../app';
import type { Config } from '../config';
import { loadConfig } from '../config';
import type { DbHandle } from '../db/client';
import { createDb } from '../db/client';
import { recordAudit } from '../app/sessions';

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

/**
 * An operator's change through the CLI, in the audit log like the HTTP surface's (actor `cli:<os user>`, no
 * address). Never a secret in `detail`.
 */
export async function auditCli(
  app: Pick<AppDeps, 'db'>,
  action: string,
  accountId: string | null,
  detail?: Record<string, unknown>,
): Promise<void> {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  await recordAudit(app, { actor: `cli:${user}`, action, accountId, ip: null, detail });
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
