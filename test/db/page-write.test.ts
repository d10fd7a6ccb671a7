import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDb, statementsSent } from '../../src/db/client';
import { ensureAccount } from '../../src/db/interfaces';
import type { PageInput } from '../../src/db/page-write';
import { writeInvoicePage } from '../../src/db/page-write';
import { listCustomers, statusFacts } from '../../src/db/views';
import type { ContactRow } from '../../src/domain/contact';
import type { InvoiceRow } from '../../src/domain/invoice';
import { randomId, testDb } from '../helpers/env';
import { recomputedInvoiceValues } from '../helpers/oracle';
import { contactRow, invoiceRow, pageOf } from '../helpers/rows';

// The page write on the real PostgreSQL: one page in one transaction, the unchanged-page shortcut, the dry
// run, and the bisection that isolates the rows PostgreSQL refuses.

const db = testDb();
afterAll(() => db.close());

const contact = (id: string, email: string | null, over: Partial<ContactRow> = {}): ContactRow => ({
  source_id: id,
  email,
  company: `Firma ${id} GmbH`,
  title: null,
  first_name: 'Eva',
  last_name: `Nachname${id}`,
  street: 'Hauptstr. 1',
  zip: '10115',
  city: 'Berlin',
  country: 'Deutschland',
  phone: '030 123',
  source_update: null,
  ...over,
});

const invoice = (id: string, contactId: string, gross: string, over: Partial<InvoiceRow> = {}) =>
  invoiceRow(id, contactId, gross, { due_date: '2026-03-16', ...over });
describe('writeInvoicePage', () => {
  let accountId: string;
  const page = (over: Partial<PageInput>) => pageOf(accountId, over);
  const values = async () => {
    const customers = await listCustomers(db.sql, accountId);
    return Object.fromEntries(customers.map((c) => [c.email, c.values]));
  };

  beforeEach(async () => {
    accountId = randomId('acct');
    await ensureAccount(db.sql, accountId);
  });

  it('creates customers with the ten fields and sums exact decimal values', async () => {
    const res = await writeInvoicePage(
      db.sql,
      page({
        contacts: [contact('1', 'eva@firma.de')],
        invoices: [
          invoice('10', '1', '0.10'),
          invoice('11', '1', '0.20'),
          invoice('12', '1', '1487.50', { source_status: '1000', status: 'paid', paid_amount: '1487.50' }),
        ],
      }),
    );
    expect(res).toMatchObject({
      written: 3,
      assigned: 3,
      unassigned: 0,
      openSum: '0.30',
      paidSum: '1487.50',
    });
    const [c] = await listCustomers(db.sql, accountId);
    expect(c).toMatchObject({
      email: 'eva@firma.de',
      company: 'Firma 1 GmbH',
      firstName: 'Eva',
      lastName: 'Nachname1',
      street: 'Hauptstr. 1',
      zip: '10115',
      city: 'Berlin',
      country: 'Deutschland',
      phone: '030 123',
      values: { invoices: '1487.80', total: '1487.80' },
    });
    expect(c?.invoices.map((i) => [i.number, i.status, i.amount])).toEqual([
      ['RE-10', 'open', '0.10'],
      ['RE-11', 'open', '0.20'],
      ['RE-12', 'paid', '1487.50'],
    ]);
  });

  it('stores text with the characters COPY escapes exactly as sevDesk sent it', async () => {
    const number = 'RE\\1\t2\n3\r4 \\N';
    await writeInvoicePage(
      db.sql,
      page({
        contacts: [contact('1', 'eva@firma.de')],
        invoices: [invoice('10', '1', '10.00', { number }), invoice('11', '1', '1.00', { number: null })],
      }),
    );
    const rows = await db.sql<{ source_id: string; number: string | null }[]>`
      select source_id, number from invoices where account_id = ${accountId} order by source_id`;
    expect(rows).toEqual([
      { source_id: '10', number },
      { source_id: '11', number: null },
    ]);
  });

  it('a page that repeats what is stored is read, not written; any difference is written', async () => {
    const rows = [
      invoice('20', '1', '10.00'),
      invoice('21', '1', '5.50', { source_status: '1000', status: 'paid', paid_amount: '5.50' }),
    ];
    await writeInvoicePage(db.sql, page({ contacts: [contact('1', 'eva@firma.de')], invoices: rows }));
    const stamps = async () =>
      (
        await db.sql<{ source_id: string; updated_at: string }[]>`
          select source_id, updated_at::text as updated_at from invoices where account_id = ${accountId} order by source_id`
      ).map((r) => `${r.source_id}@${r.updated_at}`);
    const before = await stamps();
    // The sync's overlap: the same page again, contacts already stored: one statement, no transaction.
    const counted = createDb(inject('databaseUrl'), { max: 1, countStatements: true });
    await counted.sql`select 1`; // the connection's own start-up is not the page's
    const sent = statementsSent();
    const again = await writeInvoicePage(counted.sql, page({ invoices: rows })).finally(() =>
      counted.close(),
    );
    expect(statementsSent() - sent).toBe(1);
    expect(again).toMatchObject({
      written: 0,
      assigned: 2,
      unassigned: 0,
      openSum: '10.00',
      paidSum: '5.50',
    });
    expect(await stamps()).toEqual(before);
    expect(await values()).toEqual({ 'eva@firma.de': { invoices: '15.50', total: '15.50' } });

    // One changed amount: the page is written and the values follow.
    const changed = await writeInvoicePage(
      db.sql,
      page({
        invoices: [
          rows[0]!,
          invoice('21', '1', '7.00', { source_status: '1000', status: 'paid', paid_amount: '7.00' }),
        ],
      }),
    );
    expect(changed).toMatchObject({ written: 1, paidSum: '7.00' });
    expect(await values()).toEqual({ 'eva@firma.de': { invoices: '17.00', total: '17.00' } });

    // An open issue on an unchanged row (a malformed copy read meanwhile): written, and the issue resolves.
    await db.sql`
      insert into invoice_issues (account_id, source, source_id, invoice_number, kind, reason)
      values (${accountId}, 'sevdesk', '20', 'RE-20', 'invalid', 'sumGross: expected a number')`;
    await writeInvoicePage(db.sql, page({ invoices: [rows[0]!], validIds: ['20'] }));
    const open = await db.sql`
      select 1 from invoice_issues where account_id = ${accountId} and resolved_at is null`;
    expect(open.length).toBe(0);
  });

  it('fills only empty fields of an existing customer and keeps other values in the total', async () => {
    const [row] = await db.sql<{ id: number }[]>`
      insert into customers (account_id, email, company, phone) values (${accountId}, 'eva@firma.de', 'Von Hand GmbH', '')
      returning id`;
    await db.sql`insert into customer_values (customer_id, kind, amount) values (${row!.id}, 'manual', 100)`;
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'eva@firma.de')], invoices: [invoice('10', '1', '50.00')] }),
    );
    const [c] = await listCustomers(db.sql, accountId);
    expect(c).toMatchObject({
      company: 'Von Hand GmbH',
      phone: '030 123',
      city: 'Berlin',
      values: { invoices: '50.00', total: '150.00' },
    });
  });

  it('cancels the original whichever of the pair arrives first, and neither counts', async () => {
    await writeInvoicePage(
      db.sql,
      page({
        contacts: [contact('1', 'a@x.de'), contact('2', 'b@x.de')],
        stornos: [
          invoice('21', '1', '-100.00', {
            type: 'SR',
            origin_source_id: '20',
            source_status: '1000',
            status: 'paid',
          }),
        ],
      }),
    );
    await writeInvoicePage(
      db.sql,
      page({
        invoices: [
          invoice('20', '1', '100.00', { source_status: '1000', status: 'paid' }),
          invoice('30', '2', '40.00'),
        ],
      }),
    );
    // Original first, SR on a later page:
    await writeInvoicePage(
      db.sql,
      page({ invoices: [invoice('31', '2', '60.00', { source_status: '1000', status: 'paid' })] }),
    );
    await writeInvoicePage(
      db.sql,
      page({
        stornos: [
          invoice('32', '2', '-60.00', {
            type: 'SR',
            origin_source_id: '31',
            source_status: '1000',
            status: 'paid',
          }),
        ],
      }),
    );
    expect(await values()).toEqual({
      'a@x.de': { invoices: '0.00', total: '0.00' },
      'b@x.de': { invoices: '40.00', total: '40.00' },
    });
    const customers = await listCustomers(db.sql, accountId);
    expect(customers.flatMap((c) => c.invoices.map((i) => `${i.number}:${i.status}`)).sort()).toEqual([
      'RE-20:cancelled',
      'RE-30:open',
      'RE-31:cancelled',
    ]);
  });

  it('takes a withdrawn (back to draft) invoice out of the totals, and back in when it returns', async () => {
    await writeInvoicePage(
      db.sql,
      page({
        contacts: [contact('1', 'a@x.de')],
        invoices: [invoice('10', '1', '10.00'), invoice('11', '1', '5.00')],
      }),
    );
    await writeInvoicePage(db.sql, page({ withdrawnIds: ['11'] }));
    expect((await values())['a@x.de']).toEqual({ invoices: '10.00', total: '10.00' });
    await writeInvoicePage(db.sql, page({ invoices: [invoice('11', '1', '5.00')] }));
    expect((await values())['a@x.de']).toEqual({ invoices: '15.00', total: '15.00' });
  });

  it('is idempotent: the same page again writes nothing', async () => {
    const input = page({ contacts: [contact('1', 'a@x.de')], invoices: [invoice('10', '1', '10.00')] });
    expect((await writeInvoicePage(db.sql, input)).written).toBe(1);
    expect((await writeInvoicePage(db.sql, input)).written).toBe(0);
  });

  it('dry run reports the same numbers as a real write and writes nothing', async () => {
    const input = page({
      contacts: [contact('1', 'a@x.de'), contact('2', null)],
      invoices: [invoice('10', '1', '10.00'), invoice('11', '2', '7.00')],
    });
    const dry = await writeInvoicePage(db.sql, input, { dryRun: true });
    const [n] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from invoices where account_id = ${accountId}`;
    expect(n?.n).toBe(0);
    expect(await listCustomers(db.sql, accountId)).toEqual([]);
    expect(await writeInvoicePage(db.sql, input)).toEqual(dry);
  });

  it('keeps equal numbers from two sources apart and lists them as a conflict', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'a@x.de')], invoices: [invoice('10', '1', '10.00')] }),
    );
    await db.sql`
      insert into invoices (account_id, source, source_id, number, type, source_status, status, amount_gross, amount_net,
        amount, paid_amount, currency, content_hash)
      values (${accountId}, 'lexoffice', '10', 'RE-10', 'RE', '200', 'open', 5, 5, 5, 0, 'EUR', 'x')`;
    const facts = await statusFacts(db.sql, accountId);
    expect(facts.conflicts).toEqual([{ invoiceNumber: 'RE-10', sources: ['lexoffice', 'sevdesk'] }]);
    const [row] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from invoices where account_id = ${accountId} and number = 'RE-10'`;
    expect(row?.n).toBe(2);
  });

  it('stores values equal to a from-scratch recomputation', async () => {
    await writeInvoicePage(
      db.sql,
      page({
        contacts: [contact('1', 'a@x.de'), contact('2', 'b@x.de')],
        invoices: [invoice('10', '1', '10.01'), invoice('11', '2', '20.02'), invoice('12', '2', '30.03')],
      }),
    );
    const stored = Object.fromEntries(Object.entries(await values()).map(([k, v]) => [k, v.invoices]));
    expect(stored).toEqual(Object.fromEntries(await recomputedInvoiceValues(db.sql, accountId)));
  });

  it('keeps accounts apart', async () => {
    const other = randomId('acct');
    await ensureAccount(db.sql, other);
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'a@x.de')], invoices: [invoice('10', '1', '10.00')] }),
    );
    await writeInvoicePage(db.sql, {
      ...page({ invoices: [invoice('10', '1', '99.00')] }),
      accountId: other,
    });
    expect(await values()).toEqual({ 'a@x.de': { invoices: '10.00', total: '10.00' } });
    // The other account has no source contact 1: its invoice stays unassigned rather than borrowing ours.
    expect(await listCustomers(db.sql, other)).toEqual([]);
    expect((await statusFacts(db.sql, other)).counts.unassigned).toBe(1);
  });

  it('splits a page PostgreSQL refuses until only the refused rows are left out and reported', async () => {
    // Rows that slipped past the domain checks: PostgreSQL refuses them (22003 overflow, 22008 bad date).
    const row = (id: string, over: Partial<InvoiceRow> = {}) => invoiceRow(id, '1', '10.00', over);
    const rows = Array.from({ length: 12 }, (_, k) => row(String(k + 1)));
    rows[3] = row('4', { amount_gross: '1e15' });
    rows[9] = row('10', { invoice_date: '2026-02-30' });
    const res = await writeInvoicePage(
      db.sql,
      page({
        contacts: [contactRow('1', 'eva@x.de', { company: 'Eva GmbH' })],
        invoices: rows,
        validIds: rows.map((r) => r.source_id),
      }),
    );
    expect(res.invalidIds?.sort()).toEqual(['10', '4']);
    expect(res).toMatchObject({ written: 10, assigned: 10, invalid: 2, openSum: '100.00' });
    const [eva] = await listCustomers(db.sql, accountId);
    expect(eva?.invoices).toHaveLength(10);
    expect(eva?.values.invoices).toBe('100.00');
    const facts = await statusFacts(db.sql, accountId);
    expect(facts.invalid).toEqual([
      {
        invoiceNumber: 'RE-10',
        sourceId: '10',
        reason: expect.stringMatching(/^could not be stored: .*date/),
      },
      { invoiceNumber: 'RE-4', sourceId: '4', reason: expect.stringMatching(/^could not be stored: /) },
    ]);
  });

  it('still throws a transient error (connection refused) for Temporal to retry', async () => {
    const dead = createDb('postgres://postgres@127.0.0.1:1/nothing', { max: 1 });
    try {
      await expect(
        writeInvoicePage(dead.sql, page({ invoices: [invoice('1', '1', '10.00')] })),
      ).rejects.toThrow(/ECONNREFUSED|connect/);
    } finally {
      await dead.close();
    }
  });
});
