import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { applyAmountBasis, reassignContacts, upsertSourceContacts } from '../../src/db/customers';
import { ensureAccount } from '../../src/db/interfaces';
import type { PageInput } from '../../src/db/page-write';
import { writeInvoicePage } from '../../src/db/page-write';
import { listCustomers, statusFacts } from '../../src/db/views';
import { randomId, testDb } from '../helpers/env';
import { contactRow, invoiceRow, pageOf } from '../helpers/rows';

// Contacts, customers and their values: matching that OneCockpit data cannot break (customers typed in
// OneCockpit keep their spelling; the match key is email_key(email) on both sides, unique per account,
// migration 0001), re-pointing invoices when a contact changes, and the gross/net switch.

const db = testDb();
afterAll(() => db.close());

const contact = (id: string, email: string | null) => contactRow(id, email, { street: 'Hauptstr. 1' });
const invoice = (id: string, contactId: string, gross: string, net = gross) =>
  invoiceRow(id, contactId, gross, { amount_net: net });
let accountId: string;
const page = (over: Partial<PageInput>) => pageOf(accountId, over);
beforeEach(async () => {
  accountId = randomId('acct');
  await ensureAccount(db.sql, accountId);
});
const values = async () =>
  Object.fromEntries((await listCustomers(db.sql, accountId)).map((c) => [c.email, c.values]));

describe('matching OneCockpit customers', () => {
  it('matches a customer typed as "Anna@X.de " to the sevDesk e-mail anna@x.de', async () => {
    await db.sql`
      insert into customers (account_id, email, company, phone)
      values (${accountId}, ${'Anna@X.de '}, 'Von Hand GmbH', null)`;
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'anna@x.de')], invoices: [invoice('10', '1', '12.50')] }),
    );
    const customers = await listCustomers(db.sql, accountId);
    expect(customers).toHaveLength(1);
    expect(customers[0]).toMatchObject({
      email: 'Anna@X.de ',
      company: 'Von Hand GmbH',
      street: 'Hauptstr. 1',
      values: { invoices: '12.50', total: '12.50' },
    });
    expect(customers[0]?.invoices.map((i) => i.number)).toEqual(['RE-10']);
  });

  it('moves invoices to an OneCockpit customer when the sevDesk e-mail changes to its address', async () => {
    await db.sql`insert into customers (account_id, email) values (${accountId}, ${'\u00a0BOB@x.de'})`;
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'old@x.de')], invoices: [invoice('10', '1', '5.00')] }),
    );
    await upsertSourceContacts(db.sql, accountId, 'sevdesk', [contact('1', 'bob@x.de')]);
    await reassignContacts(db.sql, accountId, 'sevdesk', ['1']);
    const byEmail = Object.fromEntries(
      (await listCustomers(db.sql, accountId)).map((c) => [c.email, c.values.invoices]),
    );
    expect(byEmail).toEqual({ '\u00a0BOB@x.de': '5.00', 'old@x.de': '0.00' });
  });

  it('creates one customer for two sevDesk contacts whose e-mails differ only in case', async () => {
    await writeInvoicePage(
      db.sql,
      page({
        contacts: [contact('1', 'eva@x.de'), contact('2', 'eva@x.de')],
        invoices: [invoice('10', '1', '1.00'), invoice('11', '2', '2.00')],
      }),
    );
    await db.sql`
      insert into customers (account_id, email) values (${accountId}, ${'EVA@X.DE'})
      on conflict do nothing`;
    const customers = await listCustomers(db.sql, accountId);
    expect(customers.map((c) => [c.email, c.values.invoices])).toEqual([['eva@x.de', '3.00']]);
  });
});

describe('re-pointing invoices when a contact changes', () => {
  it('records an invoice without e-mail as unassigned and assigns it once the contact has one', async () => {
    const res = await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', null)], invoices: [invoice('10', '1', '10.00')] }),
    );
    expect(res).toMatchObject({ assigned: 0, unassigned: 1 });
    let facts = await statusFacts(db.sql, accountId);
    expect(facts.unassigned).toEqual([
      { invoiceNumber: 'RE-10', sourceId: '10', reason: 'the sevDesk contact has no e-mail address' },
    ]);
    await upsertSourceContacts(db.sql, accountId, 'sevdesk', [contact('1', 'late@x.de')]);
    expect(await reassignContacts(db.sql, accountId, 'sevdesk', ['1'])).toEqual({ moved: 1 });
    facts = await statusFacts(db.sql, accountId);
    expect(facts.unassigned).toEqual([]);
    expect(await values()).toEqual({ 'late@x.de': { invoices: '10.00', total: '10.00' } });
  });

  it('moves invoices when a contact changes its e-mail, recomputing both customers', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'old@x.de')], invoices: [invoice('10', '1', '10.00')] }),
    );
    await upsertSourceContacts(db.sql, accountId, 'sevdesk', [contact('1', 'new@x.de')]);
    await reassignContacts(db.sql, accountId, 'sevdesk', ['1']);
    expect(await values()).toEqual({
      'new@x.de': { invoices: '10.00', total: '10.00' },
      'old@x.de': { invoices: '0.00', total: '0.00' },
    });
  });
});

describe('the gross/net switch', () => {
  it('recomputes only the invoices of this interface (source sevdesk)', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts: [contact('1', 'a@x.de')], invoices: [invoice('10', '1', '119.00', '100.00')] }),
    );
    const [cu] = await db.sql<{ id: number }[]>`select id from customers where account_id = ${accountId}`;
    // An invoice from another program, counted gross by its own interface.
    await db.sql`
      insert into invoices (account_id, customer_id, source, source_id, number, type, source_status, status,
        amount_gross, amount_net, amount, paid_amount, currency, content_hash)
      values (${accountId}, ${cu!.id}, 'lexoffice', 'L1', 'LX-1', 'RE', '200', 'open', 238, 200, 238, 0, 'EUR', 'x')`;
    await applyAmountBasis(db.sql, accountId, 'net');
    const amounts = await db.sql<{ source: string; amount: string }[]>`
      select source, amount::text from invoices where account_id = ${accountId} order by source`;
    expect(amounts).toEqual([
      { source: 'lexoffice', amount: '238.00' },
      { source: 'sevdesk', amount: '100.00' },
    ]);
    const [c] = await listCustomers(db.sql, accountId);
    expect(c?.values.invoices).toBe('338.00');
  });
});
