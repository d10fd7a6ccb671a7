import { describe, expect, it } from 'vitest';
import { pickEmail, pickPhone, toContactRow } from '../../src/domain/contact';
import type { InvoiceClass } from '../../src/domain/invoice';
import { classifyInvoice, toInvoiceRow } from '../../src/domain/invoice';
import { classifyPage } from '../../src/domain/page';
import { addPageStats, countPage, emptyPageStats } from '../../src/domain/page-stats';
import { emptyCounts } from '../../src/shared';
import { CommunicationWay, Contact, ContactAddress, Invoice } from '../../src/sevdesk/schema';
import { sevdeskFixture } from '../fixtures';

const load = (name: string) => sevdeskFixture(name) as { objects: unknown[] };

const way = (over: Partial<CommunicationWay>): CommunicationWay =>
  CommunicationWay.parse({ id: '1', type: 'EMAIL', value: 'x@example.de', main: '0', ...over });

describe('classifyInvoice (docs/sevdesk.md, "Which invoices count, and the evidence")', () => {
  const toInvoice = { id: '9', objectName: 'Invoice' };
  const toOrder = { id: '9', objectName: 'Order' };
  // Per class, the (type, status, origin) that lead to it.
  const cases: [InvoiceClass, [string, string, { id: string; objectName: string }?][]][] = [
    [
      'invoice',
      [
        ['RE', '200'],
        ['AR', '750'],
        ['TR', '1000'],
        ['ER', '200'],
      ],
    ],
    ['withdrawn', [['RE', '100']]],
    ['storno', [['SR', '1000', toInvoice]]],
    [
      'unknown-status',
      [
        ['RE', '500'],
        ['ER', '300'],
      ],
    ],
    [
      'ignored',
      [
        ['SR', '1000'],
        ['SR', '1000', toOrder],
        ['WKR', '200'],
        ['WKR', '100'],
        ['MA', '200'],
        ['MA', '500'],
      ],
    ],
  ];
  it.each(cases.flatMap(([expected, list]) => list.map(([t, st, o]) => [t, st, o, expected] as const)))(
    '%s with status %s (origin %j) -> %s',
    (invoiceType, status, origin, expected) => {
      expect(classifyInvoice({ invoiceType, status, origin })).toBe(expected);
    },
  );
});

describe('toInvoiceRow', () => {
  const [open, storno] = load('invoice_list.json').objects.map((o) => Invoice.parse(o));

  it('maps the fixture exactly: date in Berlin time, due = date + timeToPay, money with two decimals', () => {
    const row = toInvoiceRow(open!, 'EUR');
    expect(row).toMatchObject({
      source_id: open!.id,
      number: open!.invoiceNumber,
      status: 'open',
      currency: 'EUR',
    });
    expect(row.amount_gross).toMatch(/^-?\d+\.\d{2}$/);
    expect(row.invoice_date).toBe(open!.invoiceDate.slice(0, 10));
    const due = new Date(`${row.invoice_date}T00:00:00Z`);
    due.setUTCDate(due.getUTCDate() + Number(open!.timeToPay));
    expect(row.due_date).toBe(due.toISOString().slice(0, 10));
  });

  it('links an SR to its origin and keeps its negative sums', () => {
    const row = toInvoiceRow(storno!, 'EUR');
    expect(row.origin_source_id).toBe('140117702');
    expect(row.amount_gross.startsWith('-')).toBe(true);
  });

  it('keeps a foreign-currency amount for display and converts paidAmount exactly', () => {
    const row = toInvoiceRow(
      { ...open!, currency: 'CHF', sumGrossForeignCurrency: '1200.5', status: '750', paidAmount: '46.65' },
      'EUR',
    );
    expect(row).toMatchObject({
      foreign_amount: '1200.50',
      foreign_currency: 'CHF',
      paid_amount: '46.65',
      currency: 'EUR',
    });
  });

  it('changes its content hash when a field changes and only then', () => {
    expect(toInvoiceRow(open!, 'EUR').content_hash).toBe(toInvoiceRow({ ...open! }, 'EUR').content_hash);
    expect(toInvoiceRow(open!, 'EUR').content_hash).not.toBe(
      toInvoiceRow({ ...open!, status: '1000' }, 'EUR').content_hash,
    );
  });
});

describe('contact fields (docs/sevdesk.md, "Contacts, e-mails, addresses")', () => {
  it('picks the main e-mail, else key 8 Rechnungsadresse, else the first; trimmed and lower-cased', () => {
    expect(
      pickEmail([way({ id: '1', value: 'a@x.de' }), way({ id: '2', value: ' Main@X.de ', main: '1' })]),
    ).toBe('main@x.de');
    expect(
      pickEmail([
        way({ id: '1', value: 'a@x.de' }),
        way({ id: '2', value: 'Bill@X.de', key: { id: '8', objectName: 'CommunicationWayKey' } }),
      ]),
    ).toBe('bill@x.de');
    expect(pickEmail([way({ id: '3', value: 'b@x.de' }), way({ id: '2', value: 'a@x.de' })])).toBe('a@x.de');
    expect(pickEmail([way({ type: 'PHONE', value: '+49 30 1' })])).toBeNull();
  });

  it('takes PHONE before MOBILE', () => {
    expect(
      pickPhone([
        way({ id: '1', type: 'MOBILE', value: '0171 1' }),
        way({ id: '2', type: 'PHONE', value: '030 2' }),
      ]),
    ).toBe('030 2');
    expect(pickPhone([way({ id: '1', type: 'MOBILE', value: '0171 1' })])).toBe('0171 1');
  });

  it('builds the ten fields of the fixture organisation', () => {
    const contact = Contact.parse(load('contact_list.json').objects[0]);
    const ways = load('communication_way_list.json').objects.map((o) => CommunicationWay.parse(o));
    const addresses = load('contact_address_list.json').objects.map((o) => ContactAddress.parse(o));
    const row = toContactRow({ contact, ways, addresses, countries: new Map([['1', 'Deutschland']]) });
    expect(row.email).toBe(pickEmail(ways));
    expect(row.company).toBe(contact.name);
    expect(row.first_name).toBeNull();
    expect(row.street).toBe(addresses[0]?.street);
    expect(row.country).toBe('Deutschland');
  });

  it("gives a person its parent organisation's name as company and the academic title", () => {
    const person = Contact.parse({
      id: '5',
      name: null,
      surename: 'Anna',
      familyname: 'Schmidt',
      academicTitle: 'Dr.',
      parent: { id: '4', objectName: 'Contact' },
      update: '2026-01-01T10:00:00+01:00',
    });
    const org = Contact.parse({
      id: '4',
      name: 'Beratung GmbH',
      surename: null,
      familyname: null,
      academicTitle: null,
      update: '2026-01-01T10:00:00+01:00',
    });
    const row = toContactRow({ contact: person, parent: org, ways: [], addresses: [], countries: new Map() });
    expect(row).toMatchObject({
      company: 'Beratung GmbH',
      title: 'Dr.',
      first_name: 'Anna',
      last_name: 'Schmidt',
      email: null,
    });
  });
});

describe('classifyPage', () => {
  const [open] = load('invoice_list.json').objects.map((o) => Invoice.parse(o));
  const at = (id: string, over: Partial<Invoice> = {}): Invoice => ({ ...open!, id, ...over });
  const malformed = (id: string | null) => ({ id, error: new Error('sumGross: expected a number') });

  it('sorts a page into rows, drafts and invalid objects, one per id', () => {
    const page = {
      objects: [
        at('1', { update: '2026-03-02T10:00:00+01:00' }),
        at('2', { status: '100' }),
        at('3', { status: '500' }),
        at('1', { update: '2026-03-02T11:00:00+01:00', sumGross: '20' }),
        at('4', { invoiceType: 'SR', origin: { id: '1', objectName: 'Invoice' } }),
      ],
      invalid: [malformed('1'), malformed('5'), malformed('5'), malformed(null)],
      rawCount: 9,
      total: 9,
    } as unknown as Parameters<typeof classifyPage>[0];
    const c = classifyPage(page, 'EUR');
    expect(c.invoices.map((r) => [r.source_id, r.amount_gross])).toEqual([['1', '20.00']]);
    expect(c.stornos.map((r) => r.source_id)).toEqual(['4']);
    expect(c.withdrawnIds).toEqual(['2']);
    // The well-formed copy of 1 wins over its malformed one; 5 is reported once.
    expect(c.invalid.map((x) => x.sourceId)).toEqual(['5', 'unknown', '3']);
    expect(c.objectIds).toEqual(['1', '2', '3', '4']);
    expect(c.maxUpdate).toBe(Date.parse('2026-03-02T11:00:00+01:00') / 1000);
  });

  it('lets no stamp outside 1900..2200 move the cursor', () => {
    const page = {
      objects: [at('1', { update: '2999-01-01T00:00:00+00:00' })],
      invalid: [],
      rawCount: 1,
      total: 1,
    };
    expect(classifyPage(page, 'EUR').maxUpdate).toBeNull();
  });
});

describe('page figures', () => {
  const page = (over: Partial<ReturnType<typeof emptyPageStats>>) => ({ ...emptyPageStats(), ...over });

  it('adds up in decimal, merging the unassigned reasons, and keeps the other fields of the total', () => {
    const total = {
      ...page({ written: 1, assigned: 2, openSum: '0.10', unassignedReasons: { a: 1 } }),
      pass: 2,
    };
    const sum = addPageStats(
      total,
      page({
        written: 3,
        unassigned: 1,
        invalid: 1,
        openSum: '0.20',
        paidSum: '5.55',
        unassignedReasons: { a: 2, b: 1 },
      }),
    );
    expect(sum).toEqual({
      written: 4,
      assigned: 2,
      unassigned: 1,
      invalid: 1,
      openSum: '0.30',
      paidSum: '5.55',
      unassignedReasons: { a: 3, b: 1 },
      pass: 2,
    });
    expect(total.unassignedReasons).toEqual({ a: 1 });
  });

  it('counts a listed page, and objects read by id without a page', () => {
    const counts = emptyCounts();
    countPage(counts, { fetched: 1000, written: 7, invalid: 1 });
    countPage(counts, { fetched: 2, written: 2, invalid: 0 }, 0);
    expect(counts).toEqual({ pages: 1, fetched: 1002, written: 9, unassigned: 0, invalid: 1 });
  });
});
