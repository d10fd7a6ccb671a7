import { describe, expect, it } from 'vitest';
import {
  berlinToday,
  dunningLevelOf,
  dunningsOf,
  invoiceUrl,
  overdueOf,
  parseInvoiceUrlTemplate,
  DEFAULT_INVOICE_URL,
  toReminderRow,
} from '../../src/domain/dunning';
import { classifyInvoice, dueDate } from '../../src/domain/invoice';
import { classifyPage } from '../../src/domain/page';
import { Invoice } from '../../src/sevdesk/schema';
import { invoiceExtras } from '../../src/server/views/invoice-extras';

const ma = (over: Record<string, unknown> = {}) =>
  Invoice.parse({
    id: '900',
    objectName: 'Invoice',
    invoiceNumber: 'MA-1',
    invoiceType: 'MA',
    status: '200',
    invoiceDate: '2026-11-03T00:00:00+01:00',
    timeToPay: '14',
    sumNet: '0',
    sumGross: '5',
    paidAmount: 0,
    currency: 'EUR',
    update: '2026-11-03T10:00:00+01:00',
    contact: { id: '1', objectName: 'Contact' },
    origin: { id: '100', objectName: 'Invoice' },
    dunningLevel: '1',
    ...over,
  });

describe('due date and overdue', () => {
  it.each([
    ['14', '2026-03-16'],
    ['0', '2026-03-02'],
    [null, null],
    ['', null],
    ['abc', null],
    ['-5', null],
    ['99999', null],
  ])('timeToPay %j: due %j', (timeToPay, expected) => {
    expect(dueDate('2026-03-02', timeToPay)).toBe(expected);
  });

  it("uses Berlin's calendar date for today", () => {
    expect(berlinToday(new Date('2026-03-16T22:59:59Z'))).toBe('2026-03-16');
    expect(berlinToday(new Date('2026-03-16T23:00:00Z'))).toBe('2026-03-17');
    expect(berlinToday(new Date('2026-07-16T22:00:00Z'))).toBe('2026-07-17');
  });

  it('is overdue only when open and past the due date', () => {
    expect(overdueOf({ status: 'open', dueDate: '2026-03-16' }, '2026-03-16')).toEqual({
      overdue: false,
      daysOverdue: null,
    });
    expect(overdueOf({ status: 'open', dueDate: '2026-03-16' }, '2026-03-31')).toEqual({
      overdue: true,
      daysOverdue: 15,
    });
    // Across the switch to summer time: whole calendar days.
    expect(overdueOf({ status: 'open', dueDate: '2026-03-28' }, '2026-03-30').daysOverdue).toBe(2);
    expect(overdueOf({ status: 'paid', dueDate: '2026-03-01' }, '2026-03-31').overdue).toBe(false);
    expect(overdueOf({ status: 'cancelled', dueDate: '2026-03-01' }, '2026-03-31').overdue).toBe(false);
    expect(overdueOf({ status: 'open', dueDate: null }, '2026-03-31').overdue).toBe(false);
  });
});

describe('reminders (MA)', () => {
  it('classifies an MA with an invoice origin as a reminder, without one as ignored', () => {
    expect(classifyInvoice(ma())).toBe('reminder');
    expect(classifyInvoice(ma({ origin: null }))).toBe('ignored');
    expect(classifyInvoice(ma({ origin: { id: '5', objectName: 'Order' } }))).toBe('ignored');
    expect(classifyInvoice(ma({ status: '100' }))).toBe('withdrawn');
  });

  it('reads the level leniently and the date in Berlin', () => {
    expect(toReminderRow(ma())).toMatchObject({
      source_id: '900',
      origin_source_id: '100',
      dunning_level: 1,
      reminder_date: '2026-11-03',
    });
    for (const [v, level] of [
      ['2', 2],
      [3, 3],
      [' 1 ', 1],
      [null, null],
      ['', null],
      ['abc', null],
      ['0', null],
      ['-1', null],
      ['1.5', null],
      [{}, null],
    ] as const) {
      expect(dunningLevelOf(v)).toBe(level);
    }
  });

  it('keeps a reminder out of the invoices and reports one with an unreadable date, not the page', () => {
    const good = ma();
    const bad = { ...ma({ id: '901' }), invoiceDate: 'not a date' };
    const page = classifyPage({ objects: [good, bad], invalid: [], rawCount: 2 } as never, 'EUR');
    expect(page.invoices).toEqual([]);
    expect(page.reminders.map((r) => r.source_id)).toEqual(['900']);
    expect(page.invalid.map((x) => x.sourceId)).toEqual(['901']);
  });

  it('orders reminders by date and takes the highest level', () => {
    expect(
      dunningsOf([
        { level: 2, date: '2026-11-20' },
        { level: 1, date: '2026-11-03' },
        { level: null, date: '2026-11-10' },
      ]),
    ).toEqual({
      dunningLevel: 2,
      dunnings: [
        { level: 1, date: '2026-11-03' },
        { level: null, date: '2026-11-10' },
        { level: 2, date: '2026-11-20' },
      ],
    });
  });
});

describe('the link into sevDesk', () => {
  it('fills the template, URL-encoded', () => {
    expect(invoiceUrl(DEFAULT_INVOICE_URL, 'RE', '123')).toBe(
      'https://my.sevdesk.de/fi/detail/type/RE/id/123',
    );
    expect(invoiceUrl('https://x.example/{invoiceType}?id={id}', 'A/B', '1&2')).toBe(
      'https://x.example/A%2FB?id=1%262',
    );
  });

  it('accepts https templates only', () => {
    expect(parseInvoiceUrlTemplate(DEFAULT_INVOICE_URL).ok).toBe(true);
    expect(parseInvoiceUrlTemplate('http://my.sevdesk.de/{id}').ok).toBe(false);
    expect(parseInvoiceUrlTemplate('javascript:alert(1)//{id}').ok).toBe(false);
    expect(parseInvoiceUrlTemplate('https://my.sevdesk.de/fi').ok).toBe(false);
    expect(parseInvoiceUrlTemplate('https://my.sevdesk.de/{nope}/{id}').ok).toBe(false);
    expect(parseInvoiceUrlTemplate('https://u:p@my.sevdesk.de/{id}').ok).toBe(false);
  });
});

describe('invoiceExtras', () => {
  it('shows overdue, the reminders and the link, escaped', () => {
    const html = invoiceExtras({
      overdue: true,
      daysOverdue: 12,
      dunnings: [{ level: 1, date: '2026-11-03' }],
      sevdeskUrl: 'https://my.sevdesk.de/fi/detail/type/RE/id/1?a=<b>&c="d"',
    });
    expect(html).toContain('<span class="badge overdue">überfällig</span> <small>seit 12 Tagen</small>');
    expect(html).toContain('1. Mahnung am 03.11.2026');
    expect(html).toContain(
      'href="https://my.sevdesk.de/fi/detail/type/RE/id/1?a=&lt;b&gt;&amp;c=&quot;d&quot;" target="_blank" rel="noopener noreferrer">in sevDesk öffnen</a>',
    );
    expect(invoiceExtras({ overdue: false, daysOverdue: null, dunnings: [], sevdeskUrl: null })).toBe('');
    expect(invoiceExtras({ sevdeskUrl: 'javascript:alert(1)' })).toBe('');
  });
});
