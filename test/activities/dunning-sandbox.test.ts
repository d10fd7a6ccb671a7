// An overdue invoice and its dunning reminder (MA, origin -> the invoice) from the sandbox, through the page
// write, as `customers --json` shows them: overdue, the reminder attached, the link into sevDesk.
import { describe, expect, it } from 'vitest';
import { processInvoicePage } from '../../src/activities/pages';
import { clearCountryCache, fetchAllContacts } from '../../src/activities/sevdesk-reads';
import { upsertSourceContacts } from '../../src/db/customers';
import { listCustomers, statusFacts } from '../../src/db/views';
import { walkPages } from '../../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../../src/shared';
import { sandboxAccount, useSandboxDb } from '../helpers/sandbox-db';

const env = useSandboxDb({ seed: 4242, data: { invoices: 10 } });

describe('overdue invoices and dunning reminders from sevDesk', () => {
  it('shows the invoice overdue with its reminder and a link; the reminder is no invoice of its own', async () => {
    const { store } = env.sb;
    const email = 'mahnung@example.de';
    const contactId = store.addContact({
      kind: 'organisation',
      name: 'Säumig GmbH',
      emails: [{ value: email }],
    });
    const invoice = store.addInvoice({
      contactId,
      sumNet: '100',
      invoiceDate: new Date('2025-01-06T00:00:00+01:00'),
      timeToPay: 14,
    });
    const ma = store.addInvoice({
      contactId,
      invoiceType: 'MA',
      sumNet: '100',
      reminderCharge: '5',
      invoiceDate: new Date('2025-02-03T00:00:00+01:00'),
      originInvoiceId: invoice.id,
      dunningLevel: 1,
    });
    expect(ma.origin).toEqual({ id: invoice.id, objectName: 'Invoice' });

    clearCountryCache();
    const { accountId, client, ctx } = await sandboxAccount(env.db.sql, env.sb);
    await upsertSourceContacts(env.db.sql, accountId, SOURCE_SEVDESK, (await fetchAllContacts(client)).rows);
    for await (const { page } of walkPages((offset, limit) => client.listInvoices({ offset, limit }))) {
      await processInvoicePage(ctx, page);
    }
    const customer = (await listCustomers(env.db.sql, accountId)).find((c) => c.email === email);
    expect(customer?.invoices).toEqual([
      expect.objectContaining({
        number: invoice.invoiceNumber,
        status: 'open',
        dueDate: '2025-01-20',
        overdue: true,
        daysOverdue: expect.any(Number),
        dunningLevel: 1,
        dunnings: [{ level: 1, date: '2025-02-03' }],
        sevdeskUrl: `https://my.sevdesk.de/fi/detail/type/RE/id/${invoice.id}`,
      }),
    ]);
    expect(customer?.invoices[0]?.daysOverdue).toBeGreaterThan(300);
    // The reminder's sums (fee included) are in no value.
    expect(customer?.values).toEqual({ invoices: '119.00', total: '119.00' });
    expect((await statusFacts(env.db.sql, accountId)).invalid).toEqual([]);
  });
});
