import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { DbHandle, Sql } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';
import * as schema from '../src/db/schema';

/** The campaign's own sessions carry this name, so that terminating "the worker's" backends spares them. */
export const CONTROL_APP = 'sevsync-chaos-control';

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const url = databaseUrl(adminUrl, name);
  await migrateDatabase(url);
  return url;
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Like createDb, but named: the campaign drives the CLI operations and checks invariants through it. */
export function controlDb(url: string): DbHandle {
  const sql = postgres(url, { max: 4, onnotice: () => {}, connection: { application_name: CONTROL_APP } });
  return { sql, db: drizzle(sql, { schema }), close: () => sql.end({ timeout: 5 }) };
}

/** Terminates every session of the campaign's database except its own: in practice the worker's pool. */
export async function terminateBackends(sql: Sql): Promise<number> {
  const rows = await sql<{ ok: boolean }[]>`
    select pg_terminate_backend(pid) as ok from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and coalesce(application_name, '') <> ${CONTROL_APP}`;
  return rows.filter((r) => r.ok).length;
}

/**
 * Per account, the first moment after `since` at which it made progress: an import page checkpointed (or an
 * import finished) or an incremental sync completing without error. A checkpoint row keeps only its latest
 * update, so callers poll often and keep the earliest moment they saw.
 */
export async function progressByAccount(sql: Sql, since: Date): Promise<Map<string, Date>> {
  const after = since.toISOString();
  const rows = await sql<{ account_id: string; at: Date | string }[]>`
    select account_id, min(at) as at from (
      select account_id, updated_at as at from import_checkpoints where updated_at > ${after}::timestamptz
      union all
      select account_id, finished_at from sync_runs where finished_at > ${after}::timestamptz and error is null
    ) p group by account_id`;
  return new Map(rows.map((r) => [r.account_id, new Date(r.at)]));
}
