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
      paidAmount: 0,
      update: '2026-03-02T10:16:40+01:00',
    });
    expect(re?.origin).toBeUndefined();
    // Loose: fields the sync ignores survive untouched.
    expect(re?.['sepaCreditorId']).toBeNull();
    expect(re?.['taxRule']).toEqual({ id: '1', objectName: 'TaxRule' });
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
    const c = StaticCountry.parse({
      id: '1',
      objectName: 'StaticCountry',
      code: 'de',
      name: 'Deutschland',
      nameEn: 'Germany',
      translationCode: 'COUNTRY_DE',
      locale: 'de_DE',
      priority: '1',
    });
    expect(c).toMatchObject({ code: 'de', nameEn: 'Germany', locale: 'de_DE' });
  });

  describe('strict on what the sync reads', () => {
    const base = fixtureObjects('invoice_list.json')[0]!;
    it('starts from a fixture invoice that parses', () => {
      expect(Invoice.safeParse(base).success).toBe(true);
    });
    const fails = (patch: Record<string, unknown>) =>
      Invoice.safeParse({ ...base, ...patch }).error?.issues[0]?.path;

    it.each([
      [{ id: 140112233 }, ['id']],
      [{ sumNet: 1250 }, ['sumNet']],
      [{ sumGross: '1.487,50' }, ['sumGross']],
      [{ sumGross: '1e3' }, ['sumGross']],
      [{ paidAmount: '0' }, ['paidAmount']],
      [{ contact: { id: 98765432, objectName: 'Contact' } }, ['contact', 'id']],
      [{ invoiceDate: 'yesterday' }, ['invoiceDate']],
      [{ currency: 'eur' }, ['currency']],
      [{ timeToPay: 'two weeks' }, ['timeToPay']],
      [{ status: 200 }, ['status']],
    ])('rejects %j', (patch, path) => {
      expect(fails(patch)).toEqual(path);
    });

    it('accepts null invoiceNumber (draft) and missing optional references', () => {
      const { paymentMethod: _pm, ...rest } = base;
      expect(Invoice.safeParse({ ...rest, invoiceNumber: null, timeToPay: null }).success).toBe(true);
    });

    it('rejects a flag that is not "0"/"1" and a ref without objectName', () => {
      const [way] = fixtureObjects('communication_way_list.json');
      expect(CommunicationWay.safeParse({ ...way, main: true }).success).toBe(false);
      expect(ObjectRef.safeParse({ id: '1' }).success).toBe(false);
    });
  });
});
