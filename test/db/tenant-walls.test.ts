import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate';
import type { PrivateDb } from '../helpers/private-db';
import { privateDatabase } from '../helpers/private-db';

// Migration 0006: a row that names another account-owned row by id names its account too (a composite foreign
// key), so the database itself refuses an invoice or a customer value that points at another account's customer.

const invoiceValues = (account: string, customer: number | null, sourceId: string) => ({
  account_id: account,
  customer_id: customer,
  source: 'sevdesk',
  source_id: sourceId,
  type: 'RE',
  source_status: '200',
  status: 'open',
  amount_gross: '10.00',
  amount_net: '10.00',
  amount: '10.00',
  paid_amount: '0.00',
  currency: 'EUR',
  content_hash: `h${sourceId}`,
});

describe('tenant walls', () => {
  let db: PrivateDb;
  let customerA: number;
  let customerB: number;

  beforeAll(async () => {
    db = await privateDatabase();
    await db.sql`insert into accounts (id, name) values ('a', 'A'), ('b', 'B')`;
    const [ca] = await db.sql<{ id: string }[]>`
      insert into customers (account_id, email) values ('a', 'anna@a.de') returning id`;
    const [cb] = await db.sql<{ id: string }[]>`
      insert into customers (account_id, email) values ('b', 'bert@b.de') returning id`;
    customerA = Number(ca!.id);
    customerB = Number(cb!.id);
  });

  afterAll(() => db?.drop());

  it("refuses an invoice that points at another account's customer", async () => {
    await db.sql`insert into invoices ${db.sql(invoiceValues('a', customerA, '1'))}`;
    await expect(
      db.sql`insert into invoices ${db.sql(invoiceValues('a', customerB, '2'))}`,
    ).rejects.toMatchObject({ code: '23503', constraint_name: 'invoices_customer_fk' });
    await expect(
      db.sql`update invoices set customer_id = ${customerB} where account_id = 'a' and source_id = '1'`,
    ).rejects.toMatchObject({ code: '23503', constraint_name: 'invoices_customer_fk' });
  });

  it("refuses a customer value of another account's customer; a value without its account gets the customer's", async () => {
    await expect(
      db.sql`insert into customer_values (account_id, customer_id, kind, amount)
        values ('a', ${customerB}, 'manual', 5)`,
    ).rejects.toMatchObject({ code: '23503', constraint_name: 'customer_values_customer_fk' });
    // As OneCockpit types a value: by customer id only.
    await db.sql`insert into customer_values (customer_id, kind, amount) values (${customerB}, 'manual', 5)`;
    const [v] = await db.sql<{ account_id: string }[]>`
      select account_id from customer_values where customer_id = ${customerB} and kind = 'manual'`;
    expect(v?.account_id).toBe('b');
  });

  it('unlinks the invoices of a deleted customer and keeps their account', async () => {
    const [c] = await db.sql<{ id: string }[]>`
      insert into customers (account_id, email) values ('a', 'gone@a.de') returning id`;
    await db.sql`insert into invoices ${db.sql(invoiceValues('a', Number(c!.id), '3'))}`;
    await db.sql`insert into customer_values (account_id, customer_id, kind, amount)
      values ('a', ${c!.id}, 'invoices', 10)`;
    await db.sql`delete from customers where id = ${c!.id}`;
    const [i] = await db.sql`select account_id, customer_id from invoices where source_id = '3'`;
    expect(i).toEqual({ account_id: 'a', customer_id: null });
    const [n] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from customer_values where customer_id = ${c!.id}`;
    expect(n?.n).toBe(0);
  });
});

describe('migration 0006 on existing data', () => {
  const name = `sevsync_walls_${randomBytes(4).toString('hex')}`;
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-mig-'));

  afterAll(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops, naming the rows, when an invoice points at another account; migrates once they are fixed', async () => {
    await admin.unsafe(`create database "${name}"`);
    // Everything before 0006, as a database deployed before this change.
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
    const journalPath = path.join(dir, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    // 0006 and every migration after it are what the second migrate applies.
    const pending = journal.entries.filter((e) => e.tag >= '0006_').length;
    journal.entries = journal.entries.filter((e) => e.tag < '0006_');
    writeFileSync(journalPath, JSON.stringify(journal));
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await migrate(drizzle(sql), { migrationsFolder: dir });
      await sql`insert into accounts (id, name) values ('a', 'A'), ('b', 'B')`;
      const [ca] = await sql<{ id: string }[]>`
        insert into customers (account_id, email) values ('a', 'anna@a.de') returning id`;
      const [cb] = await sql<{ id: string }[]>`
        insert into customers (account_id, email) values ('b', 'bert@b.de') returning id`;
      await sql`insert into customer_values (customer_id, kind, amount)
        values (${ca!.id}, 'invoices', 10), (${cb!.id}, 'manual', 7)`;
      await sql`insert into invoices ${sql(invoiceValues('a', Number(ca!.id), '1'))}`;
      const [bad] = await sql<{ id: string }[]>`
        insert into invoices ${sql(invoiceValues('a', Number(cb!.id), '2'))} returning id`;

      const failed = await migrateDatabase(url.toString()).then(
        () => null,
        (err: unknown) => err as Error & { cause?: postgres.PostgresError },
      );
      expect(failed?.message).toMatch(
        /1 invoice\(s\) point at a customer of another account; nothing was changed/,
      );
      expect(failed?.message).toMatch(/hint: find them with/);
      expect(failed?.cause?.detail).toContain(
        `invoice ${bad!.id} (account a) -> customer ${cb!.id} (account b)`,
      );
      // All or nothing: not even the new column is there.
      const [col] = await sql<{ n: number }[]>`
        select count(*)::int as n from information_schema.columns
        where table_name = 'customer_values' and column_name = 'account_id'`;
      expect(col?.n).toBe(0);

      await sql`update invoices set customer_id = null where id = ${bad!.id}`;
      expect(await migrateDatabase(url.toString())).toMatchObject({ created: false, applied: pending });
      const values = await sql`
        select account_id, customer_id::int, kind from customer_values order by customer_id`;
      expect(values).toEqual([
        { account_id: 'a', customer_id: Number(ca!.id), kind: 'invoices' },
        { account_id: 'b', customer_id: Number(cb!.id), kind: 'manual' },
      ]);
    } finally {
      await sql.end();
    }
  });
});
