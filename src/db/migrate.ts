import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { createDb } from './client';
import type { GrantResult } from './roles';
import { grantRuntimeRole } from './roles';

export const MIGRATIONS_FOLDER = path.resolve(__dirname, '..', '..', 'drizzle');

export interface MigrateOptions {
  /** The role the worker and the server connect as: granted what they need after the migrations (./roles.ts). */
  appRole?: string | undefined;
}

/**
 * Creates the database if it does not exist yet (a fresh machine), then applies pending migrations, as the role
 * of `url` (the one that owns the schema); with `appRole`, then grants the runtime role its privileges.
 */
export async function migrateDatabase(
  url: string,
  opts: MigrateOptions = {},
): Promise<{ created: boolean; applied: number; granted?: GrantResult }> {
  const created = await ensureDatabase(url);
  // No statement_timeout: a migration (or the wait for another replica's lock) may take longer than 60 s.
  const handle = createDb(url, { max: 1, statementTimeoutMs: 0 });
  try {
    // Concurrent `migrate` runs (several replicas starting at once) must not interleave.
    await handle.sql`select pg_advisory_lock(7422001)`;
    const before = await countApplied(handle.sql);
    await migrate(handle.db, { migrationsFolder: MIGRATIONS_FOLDER }).catch((err: unknown) => {
      throw migrationError(err);
    });
    const after = await countApplied(handle.sql);
    const granted = opts.appRole ? await grantRuntimeRole(handle.sql, opts.appRole) : undefined;
    await handle.sql`select pg_advisory_unlock(7422001)`;
    return { created, applied: after - before, ...(granted ? { granted } : {}) };
  } finally {
    await handle.close();
  }
}

/**
 * drizzle reports a failed migration as "Failed query: <the whole statement>"; what the operator needs is
 * PostgreSQL's message, its detail and hint (a migration that refuses existing data says there what to do).
 */
function migrationError(err: unknown): unknown {
  const cause = err instanceof Error ? err.cause : undefined;
  if (!(cause instanceof postgres.PostgresError)) return err;
  const lines = [cause.message, cause.detail, cause.hint && `hint: ${cause.hint}`].filter(Boolean);
  return new Error(`migration failed: ${lines.join('\n')}`, { cause });
}

async function countApplied(sql: postgres.Sql): Promise<number> {
  const [exists] = await sql<
    { t: string | null }[]
  >`select to_regclass('drizzle.__drizzle_migrations')::text as t`;
  if (!exists?.t) return 0;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return row?.n ?? 0;
}

async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return false;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length > 0) return false;
    await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
    return true;
  } catch (err) {
    // No right to connect to `postgres` or to create databases: the operator created it; migrate will tell.
    if (err instanceof Error && /already exists/.test(err.message)) return false;
    return false;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
