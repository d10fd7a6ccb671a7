import { describe, expect, it } from 'vitest';
import { clearCountryCache, COUNTRY_CACHE_TTL_MS, countryNames } from '../../src/activities/sevdesk-reads';
import { pickEmailDetailed, toContactRow } from '../../src/domain/contact';
import { CONTACT_UNREADABLE } from '../../src/domain/reasons';
import { emailKey, parseEmail } from '../../src/domain/email';
import { dueDate, toInvoiceRow } from '../../src/domain/invoice';
import { RecordError } from '../../src/domain/limits';
import { newestPerId } from '../../src/domain/page';
import { cleanText, storableText } from '../../src/domain/text';
import type { SevdeskClient } from '../../src/sevdesk/client';
import { CommunicationWay, Contact, Invoice } from '../../src/sevdesk/schema';
import { sevdeskFixture } from '../fixtures';

const load = (name: string) => sevdeskFixture(name) as { objects: Record<string, unknown>[] };
const baseInvoice = load('invoice_list.json').objects[0]!;
const inv = (patch: Record<string, unknown>) => Invoice.parse({ ...baseInvoice, ...patch });
const way = (over: Record<string, unknown>): CommunicationWay =>
  CommunicationWay.parse({
    id: '1',
    type: 'EMAIL',
    value: 'x@example.de',
    main: '0',
    contact: { id: '5', objectName: 'Contact' },
    ...over,
  });
const contact = Contact.parse({
  id: '5',
  name: 'Beratung GmbH',
  surename: null,
  familyname: null,
  academicTitle: null,
  update: '2026-01-01T10:00:00+01:00',
});

describe('e-mail values as typed (docs/sevdesk.md, "The forms sevsync accepts")', () => {
  it.each([
    ['anna@x.de', 'anna@x.de'],
    ['  Anna@X.de ', 'anna@x.de'],
    ['a@x.de; b@y.de', 'a@x.de'],
    ['a@x.de, b@y.de', 'a@x.de'],
    ['kein@adresse; b@y.de', 'b@y.de'],
    ['mailto:a@x.de', 'a@x.de'],
    ['MAILTO:A@X.DE?subject=Rechnung', 'a@x.de'],
    ['Anna Muster <anna@x.de>', 'anna@x.de'],
    ['"Muster, Anna" <anna@x.de>', 'anna@x.de'],
    ['\u200banna@x.de\u200b', 'anna@x.de'],
    ['an\u200bna@x.de', 'anna@x.de'],
    ['\u00a0anna@x.de\u00a0', 'anna@x.de'],
    ['\ufeffanna@x.de', 'anna@x.de'],
    ['"anna@x.de"', 'anna@x.de'],
    ["'anna@x.de'", 'anna@x.de'],
    ['<anna@x.de>', 'anna@x.de'],
    ['anna@x.de.', 'anna@x.de'],
    ['E-Mail: anna@x.de', 'anna@x.de'],
    ['jürgen@müller.de', 'jürgen@müller.de'],
    ['a.b+c@sub.x.co.uk', 'a.b+c@sub.x.co.uk'],
    ['a@x.de b@y.de', 'a@x.de'],
    ['anna\u0000@x.de\u0000 (Buchhaltung)', 'anna@x.de'],
  ])('finds the address in %j', (typed, expected) => {
    expect(parseEmail(typed)).toEqual({ email: expected, issue: null });
  });

  it.each([
    ['anna(at)x.de'],
    ['anna@x'],
    ['@x.de'],
    ['anna@@x.de'],
    ['anna x.de'],
    ['a..b@x.de'],
    ['anna@x.de@y.de'],
    ['bitte anrufen'],
    ['anna@-x.de'],
    ['anna\u0000(at)x.de\u0000 junk'],
  ])('reports %j as unusable, never as a key', (typed) => {
    const parsed = parseEmail(typed);
    expect(parsed.email).toBeNull();
    expect(parsed.issue).toMatch(/^unusable e-mail address: "/);
    expect(parsed.issue).not.toContain('\u0000');
  });

  it('treats a blank value as no address without an issue', () => {
    expect(parseEmail('')).toEqual({ email: null, issue: null });
    expect(parseEmail(' \u200b\u00a0 ')).toEqual({ email: null, issue: null });
    expect(parseEmail(null)).toEqual({ email: null, issue: null });
  });

  it('quotes only a short excerpt of a long junk value', () => {
    expect(parseEmail('x'.repeat(5000)).issue!.length).toBeLessThan(100);
  });

  it('gives the same key on both sides (OneCockpit and sevDesk)', () => {
    expect(emailKey('Anna@X.de ')).toBe(emailKey('anna@x.de'));
  });

  it('picks the usable address and reports a contact whose e-mails are all junk', () => {
    expect(
      pickEmailDetailed([
        way({ id: '1', value: 'bitte anrufen', main: '1' }),
        way({ id: '2', value: 'b@y.de' }),
      ]),
    ).toEqual({ email: 'b@y.de', issue: null });
    expect(pickEmailDetailed([way({ id: '1', value: 'mailto:Main@X.de', main: '1' })]).email).toBe(
      'main@x.de',
    );
    const junk = pickEmailDetailed([way({ id: '1', value: 'anna(at)x.de' })]);
    expect(junk).toEqual({ email: null, issue: 'unusable e-mail address: "anna(at)x.de"' });
    const row = toContactRow({
      contact,
      ways: [way({ value: 'anna(at)x.de' })],
      addresses: [],
      countries: new Map(),
    });
    expect(row).toMatchObject({ email: null, email_issue: 'unusable e-mail address: "anna(at)x.de"' });
  });
});

describe('text PostgreSQL can store', () => {
  it('strips NUL and lone surrogates and keeps the rest', () => {
    expect(storableText('Müller\u0000 GmbH')).toBe('Müller GmbH');
    expect(storableText('a\ud800b\udc00c')).toBe('abc');
    expect(storableText('emoji 😀 ok')).toBe('emoji 😀 ok');
  });

  it('cuts long values without splitting a surrogate pair', () => {
    expect(cleanText('x'.repeat(5000))).toHaveLength(1000);
    const cut = cleanText(`${'x'.repeat(999)}😀`);
    expect(cut).toBe('x'.repeat(999));
  });

  it('cleans contact fields', () => {
    const nul = Contact.parse({ ...contact, name: 'Nul\u0000l GmbH' });
    const row = toContactRow({ contact: nul, ways: [], addresses: [], countries: new Map() });
    expect(row.company).toBe('Null GmbH');
  });
});

describe('invoice rows that PostgreSQL accepts', () => {
  it('throws a RecordError with the field for an amount beyond numeric(14,2)', () => {
    expect(() => toInvoiceRow(inv({ sumGross: '1000000000000000' }), 'EUR')).toThrow(RecordError);
    expect(() => toInvoiceRow(inv({ sumGross: '1000000000000000' }), 'EUR')).toThrow(/sumGross out of range/);
    expect(() => toInvoiceRow(inv({ sumNet: '-1000000000000' }), 'EUR')).toThrow(/sumNet out of range/);
    expect(() => toInvoiceRow(inv({ paidAmount: 1e15 }), 'EUR')).toThrow(/paidAmount out of range/);
    expect(toInvoiceRow(inv({ sumGross: '999999999999.99' }), 'EUR').amount_gross).toBe('999999999999.99');
  });

  it('throws for dates outside 1900..2200', () => {
    expect(() => toInvoiceRow(inv({ invoiceDate: '9999-01-01T00:00:00+01:00' }), 'EUR')).toThrow(
      /invoiceDate out of range/,
    );
    expect(() => toInvoiceRow(inv({ invoiceDate: '1850-01-01T00:00:00+01:00' }), 'EUR')).toThrow(
      /invoiceDate out of range/,
    );
    expect(() => toInvoiceRow(inv({ update: '2999-01-01T00:00:00+01:00' }), 'EUR')).toThrow(
      /update out of range/,
    );
  });

  it.each([
    ['14', '2026-03-16'],
    ['0', '2026-03-02'],
    [' 30 ', '2026-04-01'],
    [null, null],
    ['', null],
    ['99999999', null],
    ['3651', null],
    ['-3651', null],
  ])('due date from timeToPay %j is %j', (timeToPay, expected) => {
    expect(dueDate('2026-03-02', timeToPay)).toBe(expected);
  });

  it('keeps an invoice whose due date cannot be computed (empty, missing or absurd term)', () => {
    for (const timeToPay of ['', null, '99999999']) {
      const row = toInvoiceRow(inv({ timeToPay }), 'EUR');
      expect(row.due_date).toBeNull();
      expect(row.amount_gross).toMatch(/^\d+\.\d{2}$/);
    }
  });

  it('cleans the invoice number', () => {
    expect(toInvoiceRow(inv({ invoiceNumber: 'RE-\u00001' }), 'EUR').number).toBe('RE-1');
  });

  it('reports a foreign invoice without its foreign amount; an EUR one does not need it', () => {
    const { sumGrossForeignCurrency: _g, sumNetForeignCurrency: _n, ...rest } = baseInvoice;
    expect(toInvoiceRow(Invoice.parse({ ...rest, currency: 'EUR' }), 'EUR').foreign_amount).toBeNull();
    expect(() => toInvoiceRow(Invoice.parse({ ...rest, currency: 'USD' }), 'EUR')).toThrow(
      /sumGrossForeignCurrency missing/,
    );
  });

  it('partly paid, older style: status 200 with paidAmount > 0 stays open and carries the paid amount', () => {
    const row = toInvoiceRow(inv({ status: '200', paidAmount: 46.65, sumGross: '100' }), 'EUR');
    expect(row).toMatchObject({
      status: 'open',
      source_status: '200',
      paid_amount: '46.65',
      amount_gross: '100.00',
    });
    expect(toInvoiceRow(inv({ status: '200', paidAmount: null }), 'EUR').paid_amount).toBe('0.00');
  });
});

describe('contacts read per object', () => {
  it('does not guess a contact whose e-mail is malformed: the row is marked unreadable', () => {
    const bad = way({ id: '2', main: 'abc', value: 'main@x.de' });
    expect(bad.malformed).toMatch(/main/);
    const row = toContactRow({
      contact,
      ways: [way({ id: '1', value: 'other@x.de' }), bad],
      addresses: [],
      countries: new Map(),
    });
    expect(row.email).toBeNull();
    expect(row.read_error).toMatch(new RegExp(`^${CONTACT_UNREADABLE}: CommunicationWay 2 is malformed`));
  });
});

describe('duplicate ids on a page', () => {
  it('keeps the version with the newest update', () => {
    const rows = [
      { id: '1', update: '2026-03-02T10:00:00+01:00', v: 'old' },
      { id: '2', update: '2026-03-02T10:00:00+01:00', v: 'only' },
      { id: '1', update: '2026-03-02T11:00:00+01:00', v: 'new' },
      { id: '1', update: '2026-03-02T09:00:00+01:00', v: 'older' },
    ];
    expect(newestPerId(rows).map((r) => `${r.id}:${r.v}`)).toEqual(['1:new', '2:only']);
  });
});

describe('country list cache', () => {
  it('loads the country list once per base URL within the TTL, and again after it', async () => {
    clearCountryCache();
    let calls = 0;
    const client = (baseUrl: string) =>
      ({
        baseUrl,
        listStaticCountries: async () => {
          calls++;
          return [{ id: '1', code: 'de', name: 'Deutschland', nameEn: 'Germany' }];
        },
      }) as unknown as SevdeskClient;
    const t0 = 1_000_000;
    expect((await countryNames(client('http://a/api/v1'), { now: t0 })).get('1')).toBe('Deutschland');
    await countryNames(client('http://a/api/v1'), { now: t0 + 60_000 });
    await countryNames(client('http://a/api/v1/'), { now: t0 + 120_000 });
    expect(calls).toBe(1);
    await countryNames(client('http://b/api/v1'), { now: t0 });
    expect(calls).toBe(2);
    await countryNames(client('http://a/api/v1'), { now: t0 + COUNTRY_CACHE_TTL_MS + 1 });
    expect(calls).toBe(3);
  });

  it('does not cache a failed load', async () => {
    clearCountryCache();
    let calls = 0;
    const flaky = {
      baseUrl: 'http://flaky/api/v1',
      listStaticCountries: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return [];
      },
    } as unknown as SevdeskClient;
    await expect(countryNames(flaky)).rejects.toThrow('boom');
    await expect(countryNames(flaky)).resolves.toEqual(new Map());
  });
});
