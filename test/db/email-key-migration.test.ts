import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate';

// Migration 0001 makes the customer match key `email_key(email)` unique per account. Customers that already
// share a key (typed "Anna@X.de " in OneCockpit, created as "anna@x.de" by the sync) are merged first.

describe('migration 0001: one customer per e-mail key', () => {
  const name = `sevsync_emailkey_${randomBytes(4).toString('hex')}`;
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-mig-'));

  afterAll(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('merges existing duplicates without losing invoices, values or fields', async () => {
    await admin.unsafe(`create database "${name}"`);
    // Only 0000, as a database created before this change.
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
    const journalPath = path.join(dir, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag.startsWith('0000_'));
    writeFileSync(journalPath, JSON.stringify(journal));
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await migrate(drizzle(sql), { migrationsFolder: dir });
      await sql`insert into accounts (id, name) values ('a', 'A'), ('b', 'B')`;
      const [typed] = await sql<{ id: number }[]>`
        insert into customers (account_id, email, company, phone, total_value)
        values ('a', 'Anna@X.de ', 'Von Hand GmbH', null, 150) returning id`;
      const [synced] = await sql<{ id: number }[]>`
        insert into customers (account_id, email, company, phone, total_value)
        values ('a', 'anna@x.de', null, '030 1', 100) returning id`;
      await sql`insert into customers (account_id, email) values ('a', 'other@x.de'), ('b', 'ANNA@x.de')`;
      await sql`
        insert into customer_values (customer_id, kind, amount) values
          (${typed!.id}, 'invoices', 50), (${typed!.id}, 'manual', 100), (${synced!.id}, 'invoices', 100)`;
      await sql`
        insert into invoices (account_id, customer_id, source, source_id, type, source_status, status, amount_gross,
          amount_net, amount, paid_amount, currency, content_hash)
        values ('a', ${typed!.id}, 'sevdesk', '1', 'RE', '200', 'open', 50, 50, 50, 0, 'EUR', 'h1'),
          ('a', ${synced!.id}, 'sevdesk', '2', 'RE', '200', 'open', 100, 100, 100, 0, 'EUR', 'h2')`;

      // Every migration after 0000 (0001 and the later ones) applies on top.
      const later = (
        JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
          entries: { tag: string }[];
        }
      ).entries.filter((e) => !e.tag.startsWith('0000_')).length;
      expect(await migrateDatabase(url.toString())).toEqual({ created: false, applied: later });

      const customers = await sql<
        { id: number; account_id: string; email: string; company: string | null }[]
      >`
        select id, account_id, email, company, phone, total_value::text as total from customers
        order by account_id, email`;
      expect(customers).toEqual([
        {
          id: synced!.id,
          account_id: 'a',
          email: 'anna@x.de',
          company: 'Von Hand GmbH',
          phone: '030 1',
          total: '250.00',
        },
        expect.objectContaining({ account_id: 'a', email: 'other@x.de' }),
        expect.objectContaining({ account_id: 'b', email: 'ANNA@x.de' }),
      ]);
      const values = await sql`
        select kind, amount::text from customer_values where customer_id = ${synced!.id} order by kind`;
      expect(values).toEqual([
        { kind: 'invoices', amount: '150.00' },
        { kind: 'manual', amount: '100.00' },
      ]);
      const moved =
        await sql`select source_id from invoices where customer_id = ${synced!.id} order by source_id`;
      expect(moved.map((r) => r['source_id'])).toEqual(['1', '2']);

      // From now on the key is unique: "Anna@X.de " cannot come back as a second customer.
      await expect(
        sql`insert into customers (account_id, email) values ('a', ' ANNA@x.DE\u00a0')`,
      ).rejects.toThrow(/customers_account_email_key_uq/);
      const [key] = await sql<{ k: string }[]>`select email_key(${'\u200b Anna@X.de\u00a0 '}) as k`;
      expect(key?.k).toBe('anna@x.de');
    } finally {
      await sql.end();
    }
  });
});
