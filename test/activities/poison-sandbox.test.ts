import { describe, expect, it } from 'vitest';
import { processInvoicePage } from '../../src/activities/pages';
import { clearCountryCache, fetchAllContacts } from '../../src/activities/sevdesk-reads';
import { upsertSourceContacts } from '../../src/db/customers';
import { listCustomers, statusFacts } from '../../src/db/views';
import { createSevdeskClient, walkPages } from '../../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../../src/shared';
import { sandboxAccount, useSandboxDb } from '../helpers/sandbox-db';

// The import path (all contacts, then every invoice page) against the sandbox with poison records served
// over real ones: a NUL character in a contact name, an amount of 1e15, "" and absurd payment terms, a null
// paidAmount, and an e-mail typed as "Name <Addr>; other". Nothing stops a page; only the amount that cannot
// be stored is missing, and it is reported with its number, id and reason.

const env = useSandboxDb({ seed: 909, data: { invoices: 600 } });
const { db } = env;

const shown = (i: { invoiceType: string; status: string }) =>
  ['RE', 'AR', 'TR', 'ER'].includes(i.invoiceType) && ['200', '750', '1000'].includes(i.status);

describe('an import over poison records', () => {
  it('stores everything that can be stored and reports the rest', async () => {
    clearCountryCache();
    const invoices = [...env.sb.store.invoices()].filter(shown);
    const [huge, noTerm, absurd, nullPaid, nulName] = invoices;
    env.sb.store.setPoison('Invoice', huge!.id, { sumGross: '1000000000000000' });
    env.sb.store.setPoison('Invoice', noTerm!.id, { timeToPay: '' });
    env.sb.store.setPoison('Invoice', absurd!.id, { timeToPay: '99999999' });
    env.sb.store.setPoison('Invoice', nullPaid!.id, { paidAmount: null });
    env.sb.store.setPoison('Contact', nulName!.contact.id, {
      name: 'Nul\u0000l GmbH',
      surename: null,
      familyname: null,
    });
    const mainEmail = (contactId: string) =>
      env.sb.store.communicationWays(contactId).find((w) => w.type === 'EMAIL' && w.main === '1' && w.value);
    const typed = invoices.find(
      (i) =>
        i.contact.id !== nulName!.contact.id && i.contact.id !== huge!.contact.id && mainEmail(i.contact.id),
    )!;
    const typedWay = mainEmail(typed.contact.id)!;
    env.sb.store.setPoison('CommunicationWay', typedWay.id, {
      value: `Buchhaltung <${typedWay.value!.toUpperCase()}>; zweite@x.de`,
    });

    const { accountId, client, ctx } = await sandboxAccount(db.sql, env.sb);
    const contacts = await fetchAllContacts(client);
    expect(contacts.problems).toEqual([]);
    await upsertSourceContacts(db.sql, accountId, SOURCE_SEVDESK, contacts.rows);
    const invalidIds: string[] = [];
    for await (const { page } of walkPages((offset, limit) => client.listInvoices({ offset, limit }), {
      limit: 100,
    })) {
      const out = await processInvoicePage(ctx, page);
      invalidIds.push(...(out.invalidIds ?? []));
    }
    expect(invalidIds).toEqual([huge!.id]);

    const facts = await statusFacts(db.sql, accountId);
    expect(facts.invalid).toEqual([
      {
        invoiceNumber: huge!.invoiceNumber,
        sourceId: huge!.id,
        reason: expect.stringMatching(/^sumGross out of range/),
      },
    ]);
    const stored = await db.sql<{ source_id: string; due_date: string | null; paid: string }[]>`
      select source_id, due_date::text, paid_amount::text as paid from invoices
      where account_id = ${accountId} and type <> 'SR'`;
    expect(stored.length).toBe(invoices.length - 1);
    const byId = new Map(stored.map((r) => [r.source_id, r]));
    expect(byId.has(huge!.id)).toBe(false);
    expect(byId.get(noTerm!.id)?.due_date).toBeNull();
    expect(byId.get(absurd!.id)?.due_date).toBeNull();
    expect(byId.get(nullPaid!.id)?.paid).toBe('0.00');

    const customers = await listCustomers(db.sql, accountId);
    expect(customers.some((c) => c.company === 'Null GmbH')).toBe(true);
    if (typedWay) {
      const key = typedWay.value!.trim().toLowerCase();
      expect(customers.find((c) => c.email === key)?.invoices.map((i) => i.number)).toContain(
        typed.invoiceNumber,
      );
      expect(customers.some((c) => c.email.includes('<') || c.email.includes(';'))).toBe(false);
    }
    env.sb.store.clearPoison();
  });

  it('reads all contacts per object: a transient fault is read again, a lasting one stays with its contact', async () => {
    clearCountryCache();
    const client = createSevdeskClient({ baseUrl: env.sb.url, token: env.sb.token });
    const baseline = await fetchAllContacts(client);
    expect(baseline.problems).toEqual([]);

    // One corrupted CommunicationWay in one reply: read again, nothing to report.
    env.sb.faults.add({ kind: 'malformed', path: '/CommunicationWay', field: 'main', times: 1 });
    const retried = await fetchAllContacts(client);
    expect(retried.problems).toEqual([]);
    expect(retried.rows).toEqual(baseline.rows);
    expect(env.sb.faults.pending()).toEqual([]);

    // Lasting: one way and one contact stay malformed. Only those two contacts are affected.
    const withEmail = baseline.rows.filter((r) => r.email !== null);
    const [a, b] = withEmail;
    const way = env.sb.store.communicationWays(a!.source_id).find((w) => w.type === 'EMAIL')!;
    env.sb.store.setPoison('CommunicationWay', way.id, { main: 'abc' });
    env.sb.store.setPoison('Contact', b!.source_id, { update: 'gestern' });
    try {
      const read = await fetchAllContacts(client);
      const byId = new Map(read.rows.map((r) => [r.source_id, r]));
      expect(byId.get(a!.source_id)).toMatchObject({
        email: null,
        read_error: expect.stringMatching(/main/),
      });
      expect(byId.get(b!.source_id)).toMatchObject({
        email: null,
        read_error: expect.stringMatching(/update/),
      });
      const others = read.rows.filter((r) => r.source_id !== a!.source_id && r.source_id !== b!.source_id);
      expect(others.every((r) => !r.read_error)).toBe(true);
      expect(others.length).toBe(baseline.rows.length - 2);
      expect(read.problems).toHaveLength(2);
    } finally {
      env.sb.store.clearPoison();
    }
  });
});
