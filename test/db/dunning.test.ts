import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/db/interfaces';
import type { PageInput } from '../../src/db/page-write';
import { writeInvoicePage } from '../../src/db/page-write';
import { listCustomers } from '../../src/db/views';
import type { ReadContext, ReminderRow } from '../../src/domain/dunning';
import { DEFAULT_INVOICE_URL } from '../../src/domain/dunning';
import { foldEvents } from '../../src/domain/event-fold';
import { randomId, testDb } from '../helpers/env';
import { allAccountEvents, canonicalCustomers } from '../helpers/feed';
import { contactRow, invoiceRow, pageOf } from '../helpers/rows';

// Dunning reminders (MA) attach to their invoice whichever arrives first; overdue is derived when read; the
// fold of the feed stays equal to the view.

const db = testDb();
afterAll(() => db.close());

let accountId: string;
const page = (over: Partial<PageInput>) => pageOf(accountId, over);
const ctx: ReadContext = { today: '2026-04-01', invoiceUrl: DEFAULT_INVOICE_URL };
beforeEach(async () => {
  accountId = randomId('acct');
  await ensureAccount(db.sql, accountId);
});

const reminder = (id: string, origin: string, level: number | null, date: string): ReminderRow => ({
  source_id: id,
  origin_source_id: origin,
  dunning_level: level,
  reminder_date: date,
  source_update: `${date}T09:00:00.000Z`,
});
const contacts = [contactRow('c1', 'eva@example.de')];
const due = invoiceRow('10', 'c1', '119.00', { due_date: '2026-03-16' });

async function view() {
  const customers = await listCustomers(db.sql, accountId, ctx);
  const events = await allAccountEvents(db.sql, accountId, 7);
  expect(canonicalCustomers(foldEvents(events, ctx))).toEqual(canonicalCustomers(customers));
  return { invoices: customers[0]?.invoices ?? [], events };
}

describe('dunning reminders and overdue', () => {
  it('attaches a reminder that arrives after its invoice, with an invoice.updated event', async () => {
    await writeInvoicePage(db.sql, page({ contacts, invoices: [due] }));
    await writeInvoicePage(db.sql, page({ reminders: [reminder('90', '10', 1, '2026-03-25')] }));
    const { invoices, events } = await view();
    expect(invoices).toEqual([
      expect.objectContaining({
        number: 'RE-10',
        dueDate: '2026-03-16',
        overdue: true,
        daysOverdue: 16,
        dunningLevel: 1,
        dunnings: [{ level: 1, date: '2026-03-25' }],
        sevdeskUrl: 'https://my.sevdesk.de/fi/detail/type/RE/id/10',
      }),
    ]);
    const last = events.at(-1)!;
    expect(last.type).toBe('invoice.updated');
    expect(last.data['dunningLevel']).toBe(1);
    expect(Object.keys(last.data['changes'] as object).sort()).toEqual(['dunningLevel', 'dunnings']);
    expect(last.data).not.toHaveProperty('overdue');
  });

  it('keeps a reminder whose invoice is unknown pending, and attaches it when the invoice arrives', async () => {
    await writeInvoicePage(
      db.sql,
      page({ reminders: [reminder('91', '10', 2, '2026-03-30'), reminder('90', '10', 1, '2026-03-25')] }),
    );
    expect((await listCustomers(db.sql, accountId, ctx)).length).toBe(0);
    await writeInvoicePage(db.sql, page({ contacts, invoices: [due] }));
    const { invoices } = await view();
    expect(invoices[0]).toMatchObject({
      dunningLevel: 2,
      dunnings: [
        { level: 1, date: '2026-03-25' },
        { level: 2, date: '2026-03-30' },
      ],
    });
    // The same page again changes nothing and says nothing.
    const before = (await allAccountEvents(db.sql, accountId, 7)).length;
    await writeInvoicePage(db.sql, page({ reminders: [reminder('90', '10', 1, '2026-03-25')] }));
    expect((await allAccountEvents(db.sql, accountId, 7)).length).toBe(before);
  });

  it('drops a reminder that went back to draft; values never move', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts, invoices: [due], reminders: [reminder('90', '10', 1, '2026-03-25')] }),
    );
    const values = (await listCustomers(db.sql, accountId, ctx))[0]?.values;
    await writeInvoicePage(db.sql, page({ withdrawnIds: ['90'] }));
    const { invoices } = await view();
    expect(invoices[0]).toMatchObject({ dunningLevel: null, dunnings: [] });
    expect((await listCustomers(db.sql, accountId, ctx))[0]?.values).toEqual(values);
    expect(values).toEqual({ invoices: '119.00', total: '119.00' });
  });

  it('derives overdue from the day it is read: not on the due date, not when paid', async () => {
    const paid = invoiceRow('11', 'c1', '50.00', {
      due_date: '2026-03-01',
      status: 'paid',
      source_status: '1000',
      paid_amount: '50.00',
    });
    await writeInvoicePage(db.sql, page({ contacts, invoices: [due, paid] }));
    const onDue = await listCustomers(db.sql, accountId, { ...ctx, today: '2026-03-16' });
    expect(onDue[0]?.invoices.map((i) => [i.number, i.overdue, i.daysOverdue])).toEqual([
      ['RE-10', false, null],
      ['RE-11', false, null],
    ]);
    const next = await listCustomers(db.sql, accountId, { ...ctx, today: '2026-03-17' });
    expect(next[0]?.invoices.map((i) => [i.number, i.overdue, i.daysOverdue])).toEqual([
      ['RE-10', true, 1],
      ['RE-11', false, null],
    ]);
    await view();
  });
});
