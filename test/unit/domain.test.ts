import { describe, expect, it } from 'vitest';
import { pickEmail, pickPhone, toContactRow } from '../../src/domain/contact';
import { classifyInvoice, toInvoiceRow } from '../../src/domain/invoice';
import { CommunicationWay, Contact, ContactAddress, Invoice } from '../../src/sevdesk/schema';
import { sevdeskFixture } from '../fixtures';

const load = (name: string) => sevdeskFixture(name) as { objects: unknown[] };

const way = (over: Partial<CommunicationWay>): CommunicationWay =>
  CommunicationWay.parse({ id: '1', type: 'EMAIL', value: 'x@example.de', main: '0', ...over });

describe('classifyInvoice (DESIGN: which invoices)', () => {
  it.each([
    ['RE', '200', undefined, 'invoice'],
    ['AR', '750', undefined, 'invoice'],
    ['TR', '1000', undefined, 'invoice'],
    ['ER', '200', undefined, 'invoice'],
    ['RE', '100', undefined, 'withdrawn'],
    ['SR', '1000', { id: '9', objectName: 'Invoice' }, 'storno'],
    ['SR', '1000', undefined, 'ignored'],
    ['WKR', '200', undefined, 'ignored'],
    ['WKR', '100', undefined, 'ignored'],
    ['MA', '200', undefined, 'ignored'],
    ['RE', '500', undefined, 'unknown-status'],
    ['ER', '300', undefined, 'unknown-status'],
    ['MA', '500', undefined, 'ignored'],
    ['SR', '1000', { id: '9', objectName: 'Order' }, 'ignored'],
  ] as const)('%s with status %s -> %s', (invoiceType, status, origin, expected) => {
    expect(classifyInvoice({ invoiceType, status, origin })).toBe(expected);
  });
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

describe('contact fields (DESIGN: customer match, contact fields transferred)', () => {
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
