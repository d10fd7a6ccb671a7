import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate';

/** The migrations committed in drizzle/: what a fresh database must end up with. */
const MIGRATIONS = (
  JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  }
).entries.length;

describe('migrations', () => {
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
  const names: string[] = [];
  const freshUrl = (): string => {
    const name = `sevsync_migrate_${randomBytes(4).toString('hex')}`;
    names.push(name);
    const url = new URL(inject('adminDatabaseUrl'));
    url.pathname = `/${name}`;
    return url.toString();
  };
  const url = freshUrl();

  afterAll(async () => {
    for (const name of names) await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it('creates the database, applies to an empty database, and again as a no-op', async () => {
    expect(MIGRATIONS).toBeGreaterThan(0);
    const first = await migrateDatabase(url.toString());
    expect(first).toEqual({ created: true, applied: MIGRATIONS });
    const second = await migrateDatabase(url.toString());
    expect(second).toEqual({ created: false, applied: 0 });

    const sql = postgres(url.toString(), { max: 1 });
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
    await sql.end();
    expect(tables.map((t) => t.table_name)).toEqual([
      'accounts',
      'audit_log',
      'customer_values',
      'customers',
      'event_retention',
      'event_seqs',
      'events',
      'import_checkpoints',
      'interfaces',
      'invoice_issues',
      'invoice_reminders',
      'invoices',
      'sign_in_links',
      'source_contacts',
      'sync_runs',
      'walk_seen',
      'web_sessions',
      'webhook_endpoints',
      'webhook_progress',
    ]);
  });

  it('runs concurrently on an empty database without interleaving: one applies everything, the other nothing', async () => {
    const empty = freshUrl();
    const name = names.at(-1)!;
    await admin.unsafe(`create database "${name}"`);
    const results = await Promise.all([migrateDatabase(empty), migrateDatabase(empty)]);
    expect(results.map((r) => r.applied).sort((a, b) => a - b)).toEqual([0, MIGRATIONS]);
    const sql = postgres(empty, { max: 1 });
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    await sql.end();
    expect(row?.n).toBe(MIGRATIONS);
  });
});
