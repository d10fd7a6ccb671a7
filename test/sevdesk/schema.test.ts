import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CommunicationWay,
  Contact,
  ContactAddress,
  ErrorEnvelope,
  Invoice,
  ListEnvelope,
  ObjectRef,
  StaticCountry,
} from '../../src/sevdesk/schema';
import { STATIC_COUNTRY_GERMANY } from '../fixtures';
import { FIXTURES_DIR, fixture, fixtureObjects } from './helpers/test-server';

describe('sevDesk schemas against the recorded fixtures', () => {
  it('finds the fixtures in the repository', () => {
    expect(
      readdirSync(FIXTURES_DIR)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual([
      'communication_way_list.json',
      'contact_address_list.json',
      'contact_list.json',
      'error_404.json',
      'invoice_list.json',
    ]);
  });

  it.each([
    ['invoice_list.json', Invoice, 2],
    ['contact_list.json', Contact, 1],
    ['communication_way_list.json', CommunicationWay, 2],
    ['contact_address_list.json', ContactAddress, 1],
  ] as const)('%s: the envelope and every object parse', (name, schema, count) => {
    const env = ListEnvelope.parse(fixture(name));
    expect(env.objects).toHaveLength(count);
    for (const o of env.objects) expect(schema.safeParse(o).error).toBeUndefined();
  });

  it('reads the open RE invoice as on the wire', () => {
    const [re] = fixtureObjects('invoice_list.json').map((o) => Invoice.parse(o));
    expect(re).toMatchObject({
      id: '140112233',
      invoiceNumber: 'RE-1042',
      invoiceType: 'RE',
      status: '200',
      contact: { id: '98765432', objectName: 'Contact' },
      invoiceDate: '2026-03-02T00:00:00+01:00',
      timeToPay: '14',
      currency: 'EUR',
      sumNet: '1250',
      sumGross: '1487.5',
      sumGrossForeignCurrency: '0',
      paidAmount: '0',
      update: '2026-03-02T10:16:40+01:00',
    });
    expect(re?.origin).toBeUndefined();
    // What the sync reads beyond the typed fields survives: the company check and the accounting sums.
    expect(re?.sevClient).toEqual(fixtureObjects('invoice_list.json')[0]?.['sevClient']);
    expect(re?.sevClient).toBeDefined();
    // Fields the sync does not read are accepted and dropped (never copied on the hot path).
    expect(Object.keys(re ?? {})).not.toContain('sepaCreditorId');
    expect(Object.keys(re ?? {})).not.toContain('taxRule');
  });

  it("reads the SR's origin: the invoice it cancels", () => {
    const sr = fixtureObjects('invoice_list.json')
      .map((o) => Invoice.parse(o))
      .find((i) => i.invoiceType === 'SR');
    expect(sr?.origin).toEqual({ id: '140117702', objectName: 'Invoice' });
    expect(sr?.status).toBe('1000');
    expect(sr?.sumGross).toBe('-99.96');
  });

  it('reads an organisation contact', () => {
    const [c] = fixtureObjects('contact_list.json').map((o) => Contact.parse(o));
    expect(c).toMatchObject({ id: '98765432', name: 'Musterbau GmbH', surename: null, familyname: null });
    expect(c?.parent).toBeUndefined();
  });

  it('reads communication ways with string flags and address with a country ref', () => {
    const ways = fixtureObjects('communication_way_list.json').map((o) => CommunicationWay.parse(o));
    expect(ways.map((w) => [w.type, w.main, w.key?.id])).toEqual([
      ['EMAIL', '1', '8'],
      ['PHONE', '0', '2'],
    ]);
    const [a] = fixtureObjects('contact_address_list.json').map((o) => ContactAddress.parse(o));
    expect(a).toMatchObject({
      street: 'Industriestraße 12',
      zip: '80331',
      city: 'München',
      country: { id: '1' },
    });
  });

  it('parses the error envelope, and the older shape with code null', () => {
    const e = ErrorEnvelope.parse(fixture('error_404.json'));
    expect(e.error).toMatchObject({ code: 151, responseCode: 404 });
    expect(
      ErrorEnvelope.parse({ objects: null, error: { message: "Can't read file", code: null } }).error.code,
    ).toBeNull();
    expect(ErrorEnvelope.safeParse({ objects: [] }).success).toBe(false);
  });

  it('accepts total as a string or an integer', () => {
    expect(ListEnvelope.parse({ objects: [], total: '157' }).total).toBe('157');
    expect(ListEnvelope.parse({ objects: [], total: 157 }).total).toBe(157);
    expect(ListEnvelope.safeParse({ objects: [], total: 'many' }).success).toBe(false);
    expect(ListEnvelope.safeParse({ objects: null }).success).toBe(false);
  });

  it('parses a static country', () => {
    const de = StaticCountry.parse(STATIC_COUNTRY_GERMANY);
    expect(de).toMatchObject({ code: 'de', nameEn: 'Germany' });
    // `locale` is not read by the sync: accepted, and dropped.
    expect(Object.keys(de)).not.toContain('locale');
    expect(StaticCountry.parse({ ...STATIC_COUNTRY_GERMANY, id: 1 }).id).toBe('1');
    expect(StaticCountry.safeParse({ ...STATIC_COUNTRY_GERMANY, id: 'one' }).success).toBe(false);
  });

  describe('tolerant where sevDesk is loose', () => {
    const base = fixtureObjects('invoice_list.json')[0]!;
    const read = (patch: Record<string, unknown>) => Invoice.parse({ ...base, ...patch });

    // Each form is one sevDesk documents or has been seen to send; the value is what it means.
    it.each([
      [{ id: 140112233 }, 'id', '140112233'],
      [{ status: 200 }, 'status', '200'],
      [{ status: '500' }, 'status', '500'],
      [{ sumGross: 119 }, 'sumGross', '119'],
      [{ sumGross: 46.65 }, 'sumGross', '46.65'],
      [{ sumGross: 1e21 }, 'sumGross', '1000000000000000000000'],
      [{ sumGross: 1e-7 }, 'sumGross', '0.0000001'],
      [{ sumNet: ' 12.50 ' }, 'sumNet', '12.5'],
      [{ sumNet: '+5' }, 'sumNet', '5'],
      [{ sumNet: '.5' }, 'sumNet', '0.5'],
      [{ paidAmount: 12.5 }, 'paidAmount', '12.5'],
      [{ paidAmount: '12.5' }, 'paidAmount', '12.5'],
      [{ paidAmount: '0' }, 'paidAmount', '0'],
      [{ paidAmount: null }, 'paidAmount', '0'],
      [{ paidAmount: '' }, 'paidAmount', '0'],
      [{ sumGrossForeignCurrency: null }, 'sumGrossForeignCurrency', undefined],
      [{ sumGrossForeignCurrency: '' }, 'sumGrossForeignCurrency', undefined],
      [{ sumGrossForeignCurrency: 0 }, 'sumGrossForeignCurrency', '0'],
      [{ origin: null }, 'origin', undefined],
      [{ origin: { id: '77', objectName: 'Order' } }, 'origin', { id: '77', objectName: 'Order' }],
      [{ contact: null }, 'contact', undefined],
      [
        { contact: { id: 98765432, objectName: 'Contact' } },
        'contact',
        { id: '98765432', objectName: 'Contact' },
      ],
      [{ currency: 'eur' }, 'currency', 'EUR'],
      [{ timeToPay: 14 }, 'timeToPay', '14'],
      [{ timeToPay: '' }, 'timeToPay', null],
      [{ invoiceNumber: 1042 }, 'invoiceNumber', '1042'],
      [{ invoiceNumber: '' }, 'invoiceNumber', ''],
      [{ invoiceDate: '2026-03-02' }, 'invoiceDate', '2026-03-02'],
      [{ invoiceDate: '2026-03-02T00:00:00Z' }, 'invoiceDate', '2026-03-02T00:00:00Z'],
      [{ sendType: '' }, 'sendType', ''],
    ])('reads %j', (patch, field, value) => {
      expect(read(patch)[field as keyof Invoice]).toEqual(value);
    });

    it.each([
      [true, '1'],
      [1, '1'],
      ['1', '1'],
      ['true', '1'],
      [false, '0'],
      [0, '0'],
      ['0', '0'],
      [null, '0'],
    ])('reads a flag sent as %j as %j', (main, flag) => {
      const [way] = fixtureObjects('communication_way_list.json');
      const parsed = CommunicationWay.parse({ ...way, main });
      expect(parsed.malformed).toBeUndefined();
      expect(parsed.main).toBe(flag);
    });

    it('reads a numeric postcode as its digits and a null country as none', () => {
      const [address] = fixtureObjects('contact_address_list.json');
      const a = ContactAddress.parse({ ...address, zip: 10115, country: null });
      expect(a.zip).toBe('10115');
      expect(a.malformed).toBeUndefined();
      expect(a.country).toBeUndefined();
    });

    it('reads a person without a parent (null) and numbers as text', () => {
      const [c] = fixtureObjects('contact_list.json');
      expect(
        Contact.parse({ ...c, parent: null, name: null, surename: 'Eva', familyname: 'Ott' }),
      ).toMatchObject({
        surename: 'Eva',
        familyname: 'Ott',
        parent: undefined,
      });
    });
  });

  describe('strict only where no meaning is safe', () => {
    const base = fixtureObjects('invoice_list.json')[0]!;
    it('starts from a fixture invoice that parses', () => {
      expect(Invoice.safeParse(base).success).toBe(true);
    });
    const fails = (patch: Record<string, unknown>) =>
      Invoice.safeParse({ ...base, ...patch }).error?.issues[0]?.path;

    it.each([
      [{ id: 'abc' }, ['id']],
      [{ id: -1 }, ['id']],
      [{ sumNet: 'zwölf' }, ['sumNet']],
      [{ sumNet: null }, ['sumNet']],
      [{ sumGross: '' }, ['sumGross']],
      [{ sumGross: '1.487,50' }, ['sumGross']],
      [{ sumGross: '1e3' }, ['sumGross']],
      [{ sumGross: Number.NaN }, ['sumGross']],
      [{ paidAmount: 'paid' }, ['paidAmount']],
      [{ contact: { id: 'nine', objectName: 'Contact' } }, ['contact', 'id']],
      [{ invoiceDate: 'yesterday' }, ['invoiceDate']],
      [{ invoiceDate: '2026-02-30' }, ['invoiceDate']],
      [{ invoiceDate: null }, ['invoiceDate']],
      [{ currency: 'euro' }, ['currency']],
      [{ currency: null }, ['currency']],
      [{ timeToPay: 'two weeks' }, ['timeToPay']],
      [{ status: 'open' }, ['status']],
      [{ update: '02.03.2026' }, ['update']],
    ])('rejects %j', (patch, path) => {
      expect(fails(patch)).toEqual(path);
    });

    it('accepts null invoiceNumber (draft) and missing optional references', () => {
      const { paymentMethod: _pm, ...rest } = base;
      expect(Invoice.safeParse({ ...rest, invoiceNumber: null, timeToPay: null }).success).toBe(true);
    });

    it('keeps a way with a flag of no meaning, marked, and rejects a ref without objectName', () => {
      const [way] = fixtureObjects('communication_way_list.json');
      // Kept, but marked: the problem stays with its contact (whose data is then not guessed).
      expect(CommunicationWay.parse({ ...way, main: 'yes' }).malformed).toMatch(/main/);
      const { contact: _c, ...orphan } = way!;
      expect(CommunicationWay.safeParse({ ...orphan, main: 'yes' }).success).toBe(false);
      expect(ObjectRef.safeParse({ id: '1' }).success).toBe(false);
    });
  });

  describe('nullable fields the spec allows', () => {
    const base = fixtureObjects('invoice_list.json')[0]!;
    const [way] = fixtureObjects('communication_way_list.json');

    it('reads paidAmount null as 0', () => {
      expect(Invoice.parse({ ...base, paidAmount: null }).paidAmount).toBe('0');
    });

    it.each([[''], [null], [undefined]])('reads timeToPay %j as no term', (timeToPay) => {
      const patch = timeToPay === undefined ? {} : { timeToPay };
      const { timeToPay: _t, ...rest } = base;
      expect(Invoice.parse({ ...rest, ...patch }).timeToPay).toBeNull();
    });

    it('accepts an EUR invoice without the ForeignCurrency fields', () => {
      const { sumNetForeignCurrency: _n, sumGrossForeignCurrency: _g, ...rest } = base;
      const inv = Invoice.parse(rest);
      expect(inv.sumGrossForeignCurrency).toBeUndefined();
    });

    it('reads a CommunicationWay with main null as not main', () => {
      const parsed = CommunicationWay.parse({ ...way, main: null });
      expect(parsed.main).toBe('0');
      expect(parsed.malformed).toBeUndefined();
    });

    it('keeps a malformed way or address with its contact and the reason', () => {
      const bad = CommunicationWay.parse({ ...way, id: 77, main: 'abc' });
      expect(bad).toMatchObject({ id: '77', contact: way!['contact'], value: null });
      expect(bad.malformed).toMatch(/id|main/);
      const [address] = fixtureObjects('contact_address_list.json');
      const badAddress = ContactAddress.parse({ ...address, zip: { code: 12345 } });
      expect(badAddress.malformed).toMatch(/zip/);
      expect(badAddress.street).toBeNull();
    });

    it('reads a contact without academicTitle as null', () => {
      const [c] = fixtureObjects('contact_list.json');
      const { academicTitle: _a, ...rest } = c!;
      expect(Contact.parse(rest).academicTitle).toBeNull();
    });
  });
});
