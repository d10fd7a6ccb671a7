import { describe, expect, it } from 'vitest';
import { SandboxError, SandboxStore } from '../../sandbox';
import { cents, manualClock } from './helpers';

const NOW = '2026-11-20T10:00:00+01:00';
const unix = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

function fresh(): { store: SandboxStore; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock(NOW);
  return { store: new SandboxStore({ seed: 11, data: { invoices: 300 }, now: clock.now }), clock };
}

function errorOf(fn: () => unknown): SandboxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SandboxError) return err;
    throw err;
  }
  throw new Error('expected a SandboxError');
}

describe('SandboxStore mutations', () => {
  it('adds contacts with e-mails, phones and an address', () => {
    const { store } = fresh();
    const orgId = store.addContact({
      kind: 'organisation',
      name: 'Testbau GmbH',
      emails: [{ value: 'info@testbau.example' }],
    });
    const id = store.addContact({
      kind: 'person',
      surename: 'Erika',
      familyname: 'Mustermann',
      academicTitle: 'Dr.',
      parentId: orgId,
      emails: [
        { value: 'Erika@Testbau.example', main: true },
        { value: 'rechnung@testbau.example', key: 8 },
      ],
      phones: ['+49 30 1234567'],
      mobiles: ['+49 151 12345678'],
      address: { street: 'Hauptstraße 1', zip: '10115', city: 'Berlin' },
    });
    const contact = store.contact(id)!;
    expect(contact).toMatchObject({
      name: null,
      surename: 'Erika',
      familyname: 'Mustermann',
      academicTitle: 'Dr.',
      parent: { id: orgId, objectName: 'Contact' },
      create: '2026-11-20T10:00:00+01:00',
    });
    expect(store.communicationWays(id).map((w) => [w.type, w.value, w.main, w.key.id])).toEqual([
      ['EMAIL', 'Erika@Testbau.example', '1', '1'],
      ['EMAIL', 'rechnung@testbau.example', '0', '8'],
      ['PHONE', '+49 30 1234567', '1', '2'],
      ['MOBILE', '+49 151 12345678', '1', '4'],
    ]);
    expect(store.addresses(id)).toMatchObject([
      { street: 'Hauptstraße 1', zip: '10115', city: 'Berlin', country: { id: '1' } },
    ]);
    expect(errorOf(() => store.addContact({ kind: 'person', surename: 'X', parentId: id })).status).toBe(400);
  });

  it('sets, replaces and removes the main e-mail, bumping the contact update', () => {
    const { store, clock } = fresh();
    const id = store.addContact({ kind: 'person', surename: 'Max', familyname: 'Muster' });
    expect(store.communicationWays(id)).toEqual([]);
    clock.advance(60);
    store.setContactEmail(id, 'max@muster.example');
    expect(store.communicationWays(id)).toMatchObject([
      { type: 'EMAIL', value: 'max@muster.example', main: '1' },
    ]);
    expect(store.contact(id)?.update).toBe('2026-11-20T10:01:00+01:00');
    clock.advance(60);
    store.setContactEmail(id, 'neu@muster.example');
    const ways = store.communicationWays(id);
    expect(ways).toHaveLength(1);
    expect(ways[0]).toMatchObject({ value: 'neu@muster.example', update: '2026-11-20T10:02:00+01:00' });
    store.setContactEmail(id, null);
    expect(store.communicationWays(id).filter((w) => w.type === 'EMAIL')).toEqual([]);

    // A generated contact: its main e-mail is replaced (or one added), every other way stays as it was.
    const generated = [...store.contacts()][0]!;
    const before = store.communicationWays(generated.id);
    const others = (ws: typeof before) => ws.filter((w) => !(w.type === 'EMAIL' && w.main === '1'));
    const hadMain = before.length !== others(before).length;
    clock.advance(60);
    store.setContactEmail(generated.id, 'x@y.example');
    expect(store.contact(generated.id)?.update).toBe('2026-11-20T10:03:00+01:00');
    const after = store.communicationWays(generated.id);
    const emails = after.filter((w) => w.type === 'EMAIL' && w.main === '1');
    expect(emails.map((w) => w.value)).toEqual(['x@y.example']);
    expect(others(after)).toEqual(others(before));
    expect(after).toHaveLength(before.length + (hadMain ? 0 : 1));
  });

  it('updates contacts without changing the addresses on their old invoices', () => {
    const { store } = fresh();
    const invoice = [...store.invoices()].find((i) => i.addressStreet !== null)!;
    const updated = store.updateContact(invoice.contact.id, {
      address: { street: 'Neuer Weg 5', zip: '80331', city: 'München' },
    });
    expect(updated.update).toBe('2026-11-20T10:00:00+01:00');
    expect(store.addresses(invoice.contact.id)[0]).toMatchObject({ street: 'Neuer Weg 5' });
    expect(store.getInvoice(invoice.id)?.addressStreet).toBe(invoice.addressStreet);
  });

  it('walks an invoice through draft, finalised, partly paid and paid', () => {
    const { store, clock } = fresh();
    const contactId = [...store.contacts()][2]!.id;
    const lastRe = Math.max(
      ...[...store.invoices()]
        .filter((i) => i.invoiceNumber?.startsWith('RE-'))
        .map((i) => Number(i.invoiceNumber!.slice(3))),
    );
    const draft = store.addInvoice({ contactId, status: '100', sumNet: '100.5', taxRate: 7 });
    expect(draft).toMatchObject({
      status: '100',
      invoiceNumber: null,
      sendType: '0',
      sumNet: '100.5',
      sumTax: '7.04',
      sumGross: '107.54',
    });
    expect(store.invoiceCount()).toBe(301);

    clock.advance(10);
    const open = store.finalizeInvoice(draft.id);
    expect(open).toMatchObject({
      status: '200',
      invoiceNumber: `RE-${lastRe + 1}`,
      header: `Rechnung Nr. RE-${lastRe + 1}`,
    });
    expect(open.update).toBe('2026-11-20T10:00:10+01:00');

    clock.advance(10);
    const partial = store.payInvoice(draft.id, '50');
    expect(partial).toMatchObject({ status: '750', paidAmount: 50 });
    const paid = store.payInvoice(draft.id);
    expect(paid).toMatchObject({ status: '1000', paidAmount: 107.54 });
    expect(errorOf(() => store.payInvoice(draft.id))).toMatchObject({ status: 422, code: 750 });
  });

  it('adds foreign-currency and partially paid invoices with consistent sums', () => {
    const { store } = fresh();
    const contactId = [...store.contacts()][0]!.id;
    const chf = store.addInvoice({
      contactId,
      sumNet: '1000',
      currency: 'CHF',
      status: '750',
      paidAmount: '100',
    });
    expect(chf).toMatchObject({ currency: 'CHF', sumNet: '1000', sumGross: '1190', paidAmount: 100 });
    expect(cents(chf.sumGrossForeignCurrency)).toBe(
      cents(chf.sumNetForeignCurrency) + cents(chf.sumTaxForeignCurrency),
    );
    expect(chf.sumNetForeignCurrency).toBe('940');
    expect(errorOf(() => store.addInvoice({ contactId, status: '750', paidAmount: '5000' })).status).toBe(
      400,
    );
    expect(errorOf(() => store.addInvoice({ contactId: '1' }))).toMatchObject({ status: 404, code: 151 });
  });

  it('cancels like sevDesk and refuses what sevDesk refuses', () => {
    const { store, clock } = fresh();
    const contactId = [...store.contacts()][1]!.id;
    const original = store.addInvoice({ contactId, sumNet: '84' });
    clock.advance(3600);
    const sr = store.cancelInvoice(original.id);
    const after = store.getInvoice(original.id)!;
    expect(sr).toMatchObject({
      invoiceType: 'SR',
      status: '1000',
      paidAmount: 0,
      origin: { id: original.id, objectName: 'Invoice' },
      sumNet: '-84',
      sumTax: '-15.96',
      sumGross: '-99.96',
      invoiceDate: '2026-11-20T11:00:00+01:00',
      enshrined: '2026-11-20T11:00:00+01:00',
      contact: original.contact,
      paymentMethod: original.paymentMethod,
    });
    expect(sr.header).toBe(
      `Stornorechnung Nr. ${sr.invoiceNumber} zur Rechnung Nr. ${original.invoiceNumber}`,
    );
    expect(Number(sr.invoiceNumber!.slice(3))).toBe(Number(original.invoiceNumber!.slice(3)) + 1);
    expect(after).toMatchObject({ status: '1000', paidAmount: 0, update: '2026-11-20T11:00:00+01:00' });
    expect(after).not.toHaveProperty('cancelled');

    expect(errorOf(() => store.cancelInvoice(original.id))).toMatchObject({ status: 422, code: 421 });
    const partly = store.addInvoice({ contactId, status: '750' });
    expect(errorOf(() => store.cancelInvoice(partly.id))).toMatchObject({ status: 200, code: 390 });
    expect(errorOf(() => store.cancelInvoice('1'))).toMatchObject({ status: 404, code: 151 });

    const changed = store.queryInvoices(
      { updateAfter: unix(NOW) },
      { offset: 0, limit: 100, countAll: true },
    );
    expect(changed.items.map((i) => i.id).sort()).toEqual([original.id, sr.id, partly.id].sort());
  });

  it('deletes drafts only', () => {
    const { store } = fresh();
    const contactId = [...store.contacts()][0]!.id;
    const draft = store.addInvoice({ contactId, status: '100' });
    const open = store.addInvoice({ contactId });
    const count = store.invoiceCount();
    store.deleteInvoice(draft.id);
    expect(store.getInvoice(draft.id)).toBeUndefined();
    expect(store.invoiceCount()).toBe(count - 1);
    expect([...store.invoices()].map((i) => i.id)).not.toContain(draft.id);
    expect(errorOf(() => store.deleteInvoice(draft.id))).toMatchObject({ status: 404, code: 151 });
    expect(errorOf(() => store.deleteInvoice(open.id))).toMatchObject({ status: 409, code: 159 });
  });

  it('pages by position past deleted generated drafts', () => {
    const { store } = fresh();
    const all = [...store.invoices()];
    const drafts = all.filter((i) => i.status === '100').slice(0, 3);
    expect(drafts.length).toBe(3);
    for (const d of drafts) store.deleteInvoice(d.id);
    const expected = all.filter((i) => !drafts.includes(i)).map((i) => i.id);
    const seen: string[] = [];
    for (let offset = 0; ; offset += 13) {
      const page = store.queryInvoices({}, { offset, limit: 13, countAll: false });
      seen.push(...page.items.map((i) => i.id));
      if (page.items.length < 13) break;
    }
    expect(seen).toEqual(expected);
  });
});
