import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DbHandle } from '../../src/db/client';
import { createDb } from '../../src/db/client';
import { pruneEvents } from '../../src/db/events';
import { ensureAccount } from '../../src/db/interfaces';
import { migrateDatabase } from '../../src/db/migrate';
import { writeInvoicePage } from '../../src/db/page-write';
import { parseMigrationSettings } from '../../src/db/roles';
import { analyzeIfStale, analyzeSyncTables } from '../../src/db/statistics';
import { listCustomers } from '../../src/db/views';
import type { PrivateDb } from '../helpers/private-db';
import { privateDatabase } from '../helpers/private-db';
import { contactRow, invoiceRow, pageOf } from '../helpers/rows';

// Migrations run as the role that owns the schema; the worker and the server as a runtime role that `migrate`
// grants row access, sequences and functions, and nothing that changes the schema (docs/deploys.md,
// "Database roles").

const withUser = (url: string, user: string): string => {
  const u = new URL(url);
  u.username = user;
  return u.toString();
};

describe('the runtime role', () => {
  const role = `sevsync_rt_${randomBytes(4).toString('hex')}`;
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
  let owner: PrivateDb;
  let runtime: DbHandle;
  let runtimeUrl: string;

  beforeAll(async () => {
    owner = await privateDatabase();
    await admin.unsafe(`create role "${role}" login`);
    const res = await migrateDatabase(owner.url, { appRole: role });
    expect(res).toEqual({ created: false, applied: 0, granted: { role, warnings: [] } });
    runtimeUrl = withUser(owner.url, role);
    runtime = createDb(runtimeUrl, { max: 2 });
  });

  afterAll(async () => {
    await runtime?.close();
    await owner?.drop();
    // Its grants and default privileges lived in the dropped database: the role goes with nothing left.
    await admin.unsafe(`drop role if exists "${role}"`);
    await admin.end();
  });

  it('connects as itself and writes pages: customers, invoices, values, issues and their events', async () => {
    const [who] = await runtime.sql<{ u: string }[]>`select current_user as u`;
    expect(who?.u).toBe(role);
    await ensureAccount(runtime.sql, 'acct-rt');
    const res = await writeInvoicePage(
      runtime.sql,
      pageOf('acct-rt', {
        contacts: [contactRow('1', 'eva@firma.de'), contactRow('2', null)],
        invoices: [
          invoiceRow('10', '1', '100.00'),
          invoiceRow('11', '1', '20.50'),
          invoiceRow('12', '2', '5.00'),
        ],
      }),
    );
    expect(res).toMatchObject({ written: 3, assigned: 2, unassigned: 1 });
    const customers = await listCustomers(runtime.sql, 'acct-rt');
    expect(customers.map((c) => [c.email, c.values])).toEqual([
      ['eva@firma.de', { invoices: '120.50', total: '120.50' }],
    ]);
    const [events] = await runtime.sql<{ n: number }[]>`
      select count(*)::int as n from events where account_id = 'acct-rt'`;
    expect(events?.n).toBeGreaterThan(0);
  });

  it('runs the maintenance the worker does: ANALYZE through sevsync_analyze, and event retention', async () => {
    const notices: string[] = [];
    const sql = postgres(runtimeUrl, { max: 1, onnotice: (n) => notices.push(String(n['message'])) });
    try {
      await analyzeSyncTables(sql);
      await analyzeIfStale(sql);
      // A plain ANALYZE by a role that does not own the table only warns and skips it.
      await sql`analyze invoices`;
    } finally {
      await sql.end();
    }
    expect(notices).toEqual([expect.stringMatching(/skipping "invoices"/)]);
    const [stats] = await owner.sql<{ analyzed: boolean }[]>`
      select last_analyze is not null as analyzed from pg_stat_user_tables where relname = 'invoices'`;
    expect(stats?.analyzed).toBe(true);
    // Only the tables of the page writes: the function analyzes nothing else it is asked for.
    await expect(runtime.sql`select sevsync_analyze(array['accounts', 'nope'])`).resolves.toBeDefined();

    const pruned = await pruneEvents(runtime.sql, {
      retentionDays: 1,
      now: new Date(Date.now() + 2 * 86_400_000),
    });
    expect(pruned.deleted).toBeGreaterThan(0);
  });

  it('is refused every change of the schema', async () => {
    const refused = { code: '42501' };
    await expect(runtime.sql`create table sneaky (id int)`).rejects.toMatchObject(refused);
    await expect(runtime.sql`drop table invoices`).rejects.toMatchObject(refused);
    await expect(runtime.sql`alter table invoices add column sneaky int`).rejects.toMatchObject(refused);
    await expect(runtime.sql`create index sneaky_idx on invoices (number)`).rejects.toMatchObject(refused);
    await expect(runtime.sql`truncate events`).rejects.toMatchObject(refused);
    await expect(runtime.sql`select count(*) from drizzle.__drizzle_migrations`).rejects.toMatchObject(
      refused,
    );
  });

  it('gets the same privileges on a table a later migration creates (default privileges)', async () => {
    await owner.sql`create table later_table (id bigserial primary key, v text)`;
    try {
      await runtime.sql`insert into later_table (v) values ('x')`;
      const rows = await runtime.sql`select v from later_table`;
      expect(rows).toEqual([{ v: 'x' }]);
    } finally {
      await owner.sql`drop table later_table`;
    }
  });

  it('refuses a runtime role that does not exist, naming it', async () => {
    await expect(migrateDatabase(owner.url, { appRole: 'sevsync_no_such_role' })).rejects.toThrow(
      /runtime role "sevsync_no_such_role" does not exist/,
    );
  });
});

describe('parseMigrationSettings', () => {
  const app = 'postgres://sevsync_app:pw@db:5432/sevsync';
  const owner = 'postgres://sevsync_owner:pw@db:5432/sevsync';

  it('uses DATABASE_URL and grants nothing when no migration URL or role is set', () => {
    expect(parseMigrationSettings({}, app)).toEqual({ databaseUrl: app, appRole: undefined });
  });

  it('derives the runtime role from DATABASE_URL when the migration URL names another user', () => {
    expect(parseMigrationSettings({ SEVSYNC_MIGRATION_DATABASE_URL: owner }, app)).toEqual({
      databaseUrl: owner,
      appRole: 'sevsync_app',
    });
    expect(parseMigrationSettings({ SEVSYNC_MIGRATION_DATABASE_URL: app }, app).appRole).toBeUndefined();
  });

  it('takes SEVSYNC_DB_APP_ROLE over the derived one', () => {
    expect(
      parseMigrationSettings({ SEVSYNC_MIGRATION_DATABASE_URL: owner, SEVSYNC_DB_APP_ROLE: 'worker' }, app),
    ).toEqual({ databaseUrl: owner, appRole: 'worker' });
  });

  it('names the variable that is wrong', () => {
    expect(() => parseMigrationSettings({ SEVSYNC_MIGRATION_DATABASE_URL: 'mysql://x' }, app)).toThrow(
      /SEVSYNC_MIGRATION_DATABASE_URL: must be a postgres:\/\/ URL/,
    );
  });
});
