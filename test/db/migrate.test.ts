import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { migrateDatabase } from '../../src/db/migrate';

describe('migrations', () => {
  const name = `sevsync_migrate_${randomBytes(4).toString('hex')}`;
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });

  afterAll(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it('creates the database, applies to an empty database, and again as a no-op', async () => {
    const first = await migrateDatabase(url.toString());
    expect(first.created).toBe(true);
    expect(first.applied).toBeGreaterThan(0);
    const second = await migrateDatabase(url.toString());
    expect(second).toEqual({ created: false, applied: 0 });

    const sql = postgres(url.toString(), { max: 1 });
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
    await sql.end();
    expect(tables.map((t) => t.table_name)).toEqual([
      'accounts',
      'customer_values',
      'customers',
      'import_checkpoints',
      'interfaces',
      'invoice_issues',
      'invoices',
      'source_contacts',
      'sync_runs',
      'walk_seen',
    ]);
  });

  it('runs concurrently without interleaving', async () => {
    const results = await Promise.all([migrateDatabase(url.toString()), migrateDatabase(url.toString())]);
    expect(results.map((r) => r.applied)).toEqual([0, 0]);
  });
});
