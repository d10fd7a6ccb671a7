import { describe, expect, it } from 'vitest';
import { SandboxStore, type CommunicationWay, type Contact, type Invoice } from '../../sandbox';
import { STATIC_COUNTRY_GERMANY } from '../fixtures';
import { BERLIN_ISO, MONEY, cents } from './helpers';

// Every wire field of a recorded invoice (scalars: always present; references: present when set).
// prettier-ignore
const INVOICE_SCALARS = [
  'id', 'objectName', 'additionalInformation', 'invoiceNumber', 'create', 'update', 'invoiceDate', 'header',
  'headText', 'footText', 'timeToPay', 'discountTime', 'discount', 'addressName', 'addressStreet',
  'addressZip', 'addressCity', 'addressParentName', 'addressParentName2', 'addressName2', 'addressGender',
  'address', 'payDate', 'deliveryDate', 'deliveryDateUntil', 'status', 'smallSettlement', 'taxRate', 'taxText',
  'taxType', 'dunningLevel', 'reminderTotal', 'reminderDebit', 'reminderDeadline', 'reminderCharge',
  'sendDate', 'sendType', 'enshrined', 'invoiceType', 'accountIntervall', 'accountLastInvoice',
  'accountNextInvoice', 'accountStartDate', 'accountEndDate', 'currency', 'sumNet', 'sumTax', 'sumGross',
  'sumDiscounts', 'sumNetForeignCurrency', 'sumTaxForeignCurrency', 'sumGrossForeignCurrency',
  'sumDiscountsForeignCurrency', 'sumNetAccounting', 'sumTaxAccounting', 'sumGrossAccounting',
  'sumDiscountNet', 'sumDiscountGross', 'sumDiscountNetForeignCurrency', 'sumDiscountGrossForeignCurrency',
  'paidAmount', 'showNet', 'customerInternalNote', 'einvoiceReference', 'sepaMandateReference',
  'sepaCreditorId', 'sepaPayerIban', 'sendPaymentReceivedNotificationDate',
] as const;
const ALWAYS_REFS = [
  'contact',
  'sevClient',
  'createUser',
  'contactPerson',
  'addressCountry',
  'taxRule',
] as const;
const OPTIONAL_REFS = ['paymentMethod', 'costCentre', 'taxSet', 'origin'] as const;
const MONEY_FIELDS = INVOICE_SCALARS.filter((f): f is Extract<typeof f, `sum${string}`> =>
  f.startsWith('sum'),
);

/** What a client sees: the JSON of the object. */
function wire<T>(value: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

describe('generation', () => {
  const store = new SandboxStore({ seed: 7, data: { invoices: 2000 } });
  const invoices = [...store.invoices()];
  const contacts = [...store.contacts()];
  const ways = new Map<string, CommunicationWay[]>(
    contacts.map((c) => [c.id, store.communicationWays(c.id)]),
  );

  it('is deterministic per seed and differs between seeds', () => {
    const again = new SandboxStore({ seed: 7, data: { invoices: 2000 } });
    const other = new SandboxStore({ seed: 8, data: { invoices: 2000 } });
    expect([...again.invoices()]).toEqual(invoices);
    expect([...again.contacts()]).toEqual(contacts);
    expect(again.communicationWays(contacts[3]!.id)).toEqual(ways.get(contacts[3]!.id));
    expect(JSON.stringify([...other.invoices()].slice(0, 50))).not.toEqual(
      JSON.stringify(invoices.slice(0, 50)),
    );
  });

  it('has every invoice type and status, drafts, partial payments and foreign currencies', () => {
    const types = new Set(invoices.map((i) => i.invoiceType));
    const statuses = new Set(invoices.map((i) => i.status));
    expect([...types].sort()).toEqual(['AR', 'ER', 'MA', 'RE', 'SR', 'TR', 'WKR']);
    expect([...statuses].sort()).toEqual(['100', '1000', '200', '50', '750']);
    expect(invoices.filter((i) => i.invoiceType === 'RE').length).toBeGreaterThan(invoices.length / 2);
    const taxTexts = new Set(invoices.map((i) => i.taxText));
    expect(taxTexts).toContain('Umsatzsteuer 19%');
    expect(taxTexts).toContain('Umsatzsteuer 7%');
    expect(invoices.some((i) => i.sumTax === '0' && i.invoiceType !== 'SR')).toBe(true);
    const foreign = invoices.filter((i) => i.currency !== 'EUR');
    expect(new Set(foreign.map((i) => i.currency))).toContain('CHF');
    expect(new Set(foreign.map((i) => i.currency))).toContain('USD');
    for (const i of foreign) expect(i.sumGrossForeignCurrency).not.toBe('0');
    for (const i of invoices.filter((x) => x.status === '50')) expect(i.invoiceType).toBe('WKR');
  });

  it('prints every §5 field with the null rule, ids as strings, money without trailing zeros', () => {
    // Collected, then asserted once: 2000 invoices × 80 fields of single expects would be slow.
    const problems: string[] = [];
    const check = (ok: boolean, what: string): void => {
      if (!ok && problems.length < 20) problems.push(what);
    };
    for (const invoice of invoices) {
      const json = wire(invoice);
      const at = `invoice ${invoice.id}`;
      for (const field of INVOICE_SCALARS) check(field in json, `${at}: missing ${field}`);
      for (const field of ALWAYS_REFS)
        check(/^\d+$/.test(String((json[field] as { id?: unknown })?.id)), `${at}: ${field}`);
      for (const field of OPTIONAL_REFS) {
        if (field in json)
          check(/^\d+$/.test(String((json[field] as { id?: unknown }).id)), `${at}: ${field}`);
      }
      check(
        Object.keys(json).length ===
          Object.keys(invoice).filter((k) => invoice[k as keyof Invoice] !== undefined).length,
        at,
      );
      check(/^\d+$/.test(invoice.id), `${at}: id`);
      for (const field of MONEY_FIELDS)
        check(MONEY.test(invoice[field]), `${at}: ${field}=${invoice[field]}`);
      check(typeof invoice.paidAmount === 'number', `${at}: paidAmount`);
      check(/^\d+$/.test(invoice.timeToPay ?? ''), `${at}: timeToPay`);
      for (const field of ['create', 'update', 'invoiceDate', 'deliveryDate'] as const) {
        check(BERLIN_ISO.test(invoice[field]), `${at}: ${field}=${invoice[field]}`);
      }
      check(Date.parse(invoice.update) >= Date.parse(invoice.create), `${at}: update < create`);
      check(
        cents(invoice.sumGross) === cents(invoice.sumNet) + cents(invoice.sumTax),
        `${at}: gross != net + tax`,
      );
      if (invoice.currency !== 'EUR') {
        check(
          cents(invoice.sumGrossForeignCurrency) ===
            cents(invoice.sumNetForeignCurrency) + cents(invoice.sumTaxForeignCurrency),
          `${at}: foreign sums`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('makes drafts without number, open, partially paid and paid invoices like sevDesk', () => {
    for (const i of invoices) {
      const gross = cents(i.sumGross) / 100;
      if (i.status === '100') {
        expect(i.invoiceNumber).toBeNull();
        expect(i.sendType).toBe('0');
        expect(i.enshrined).toBeNull();
      } else {
        expect(i.invoiceNumber).toMatch(/^(RE|AR|TR|ER|MA|WKR)-\d+$/);
      }
      if (i.status === '750') {
        expect(i.paidAmount).toBeGreaterThan(0);
        expect(i.paidAmount).toBeLessThan(gross);
      }
      if (i.status === '200') expect(i.paidAmount).toBe(0);
    }
    const paid = invoices.filter((i) => i.status === '1000' && i.invoiceType !== 'SR' && i.paidAmount !== 0);
    expect(paid.length).toBeGreaterThan(1000);
    for (const i of paid) expect(i.paidAmount).toBe(cents(i.sumGross) / 100);
  });

  it('numbers from per-type sequences, SR sharing the RE sequence without gaps', () => {
    const numbers = invoices.map((i) => i.invoiceNumber).filter((n): n is string => n !== null);
    expect(new Set(numbers).size).toBe(numbers.length);
    const re = invoices
      .filter((i) => i.invoiceNumber?.startsWith('RE-'))
      .map((i) => Number(i.invoiceNumber!.slice(3)));
    expect(re).toEqual(re.map((_, k) => 1000 + k));
    for (const sr of invoices.filter((i) => i.invoiceType === 'SR')) expect(sr.invoiceNumber).toMatch(/^RE-/);
  });

  it('pairs cancellations exactly as measured on sevDesk', () => {
    const byId = new Map(invoices.map((i) => [i.id, i]));
    const srs = invoices.filter((i) => i.invoiceType === 'SR');
    expect(srs.length).toBeGreaterThan(20);
    for (const sr of srs) {
      const original = byId.get(sr.origin!.id) as Invoice;
      expect(sr.origin).toEqual({ id: original.id, objectName: 'Invoice' });
      expect(sr.status).toBe('1000');
      expect(sr.paidAmount).toBe(0);
      expect(sr.enshrined).not.toBeNull();
      expect(sr.header).toBe(
        `Stornorechnung Nr. ${sr.invoiceNumber} zur Rechnung Nr. ${original.invoiceNumber}`,
      );
      for (const f of MONEY_FIELDS) expect(cents(sr[f]) + cents(original[f]), f).toBe(0);
      expect(sr.contact).toEqual(original.contact);
      expect(sr.customerInternalNote).toBe(original.customerInternalNote);
      expect(sr.paymentMethod).toEqual(original.paymentMethod);
      expect(original.status).toBe('1000');
      expect(original.paidAmount).toBe(0);
      expect(original.update).toBe(sr.create);
      expect(Number(sr.invoiceNumber!.slice(3))).toBeGreaterThan(Number(original.invoiceNumber!.slice(3)));
    }
  });

  it('creates invoices only for contacts that already existed', () => {
    const created = new Map(contacts.map((c) => [c.id, Date.parse(c.create)]));
    for (const i of invoices) expect(Date.parse(i.create)).toBeGreaterThan(created.get(i.contact.id)!);
  });

  it('makes realistic German contacts: persons, organisations, people of organisations, titles', () => {
    const persons = contacts.filter((c) => c.surename !== null || c.familyname !== null);
    const orgs = contacts.filter((c) => c.name !== null);
    expect(persons.length + orgs.length).toBe(contacts.length);
    for (const p of persons) expect(p.name).toBeNull();
    expect(orgs.some((o) => /GmbH$/.test(o.name!))).toBe(true);
    expect(orgs.some((o) => / (UG \(haftungsbeschränkt\)|e\.K\.|GbR)$/.test(o.name!))).toBe(true);
    const members = persons.filter((p) => p.parent);
    expect(members.length).toBeGreaterThan(0);
    for (const m of members) expect(store.contact(m.parent!.id)?.name).toEqual(expect.any(String));
    expect(new Set(persons.map((p) => p.academicTitle))).toEqual(new Set([null, 'Dr.', 'Prof. Dr.']));
    expect(new Set(contacts.map((c) => c.customerNumber)).size).toBe(contacts.length);
  });

  it('makes communication ways with the cases a customer match must handle', () => {
    const emailsOf = (c: Contact): CommunicationWay[] => ways.get(c.id)!.filter((w) => w.type === 'EMAIL');
    const without = contacts.filter((c) => emailsOf(c).length === 0);
    expect(without.length / contacts.length).toBeGreaterThan(0.02);
    expect(without.length / contacts.length).toBeLessThan(0.1);
    const all = [...ways.values()].flat();
    const emails = all.filter((w) => w.type === 'EMAIL');
    expect(emails.some((w) => w.value !== w.value.toLowerCase())).toBe(true);
    expect(contacts.some((c) => emailsOf(c).length > 1)).toBe(true);
    expect(emails.some((w) => w.key.id === '8' && w.main === '0')).toBe(true);
    expect(contacts.some((c) => emailsOf(c).length > 0 && emailsOf(c).every((w) => w.main === '0'))).toBe(
      true,
    );
    for (const c of contacts) expect(emailsOf(c).filter((w) => w.main === '1').length).toBeLessThanOrEqual(1);
    expect(all.some((w) => w.type === 'PHONE')).toBe(true);
    expect(all.some((w) => w.type === 'MOBILE')).toBe(true);
    for (const w of all) {
      expect(w.main).toMatch(/^[01]$/);
      expect(w.id).toMatch(/^\d+$/);
    }
  });

  it('makes addresses with street and house number, zip, city and a StaticCountry', () => {
    const addresses = contacts.flatMap((c) => store.addresses(c.id));
    expect(addresses.length).toBeGreaterThan(contacts.length * 0.9);
    for (const a of addresses) {
      expect(a.street).toMatch(/\d/);
      expect(a.zip).toEqual(expect.any(String));
      expect(a.city).toEqual(expect.any(String));
    }
    const countries = addresses.map((a) => a.country.id);
    expect(countries.filter((id) => id === '1').length / countries.length).toBeGreaterThan(0.75);
    expect(countries).toContain('2');
    expect(countries).toContain('3');
    const table = store.countries();
    expect(table.length).toBeGreaterThanOrEqual(30);
    expect(table[0]).toEqual(STATIC_COUNTRY_GERMANY);
    for (const c of table) expect(c.code).toMatch(/^[a-z]{2}$/);
  });

  it('handles a million invoices lazily: the last page at once, in modest memory', () => {
    const before = process.memoryUsage();
    const big = new SandboxStore({ seed: 3, data: { invoices: 1_000_000 } });
    const page = big.queryInvoices({}, { offset: 999_000, limit: 1000, countAll: true });
    const after = process.memoryUsage();
    const growth = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);

    expect(page.total).toBe(1_000_000);
    expect(page.items).toHaveLength(1000);
    // The last page is the last 1000 invoices, the same objects as GET by id serves.
    const last = page.items.at(-1)!;
    expect(big.getInvoice(last.id)).toEqual(last);
    const ids = page.items.map((i) => Number(i.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(big.queryInvoices({}, { offset: 1_000_000, limit: 1000, countAll: false }).items).toEqual([]);
    expect(big.contactCount()).toBe(125_000);
    // Lazy: a million invoices built as objects would take gigabytes.
    expect(growth).toBeLessThan(300 * 1024 * 1024);
  });
});
