import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommunicationWay, Contact, ContactAddress, Invoice, StaticCountry } from '../../sandbox';
import { api, manualClock, withSandbox, type ErrorBody, type ListBody } from './helpers';

const clock = manualClock('2026-11-20T10:00:00+01:00');
const sb = withSandbox({ seed: 5, data: { invoices: 600, contacts: 80 }, now: clock.now });
beforeAll(sb.start);
afterAll(sb.stop);

const LIMIT_MESSAGE = "Invalid 'limit' parameter. Please provide an integer value between 1 and 1000.";

async function invoices(query: string): Promise<Invoice[]> {
  const res = await api<ListBody<Invoice>>(sb.get(), `/Invoice?limit=1000&${query}`);
  expect(res.status).toBe(200);
  return res.body.objects;
}

function allInvoices(): Invoice[] {
  return [...sb.get().store.invoices()];
}

/** The expected result of a filter, which must not be empty: an empty expectation would pass any filter. */
function some<T>(expected: T[]): T[] {
  expect(expected.length).toBeGreaterThan(0);
  return expected;
}

describe('authentication', () => {
  it('answers 401 with the error envelope without a valid Authorization header', async () => {
    const token = sb.get().token;
    for (const attempt of [
      { token: null, query: '' },
      { token: `Bearer ${token}`, query: '' },
      { token: null, query: `?token=${token}` },
      { token: token.toUpperCase(), query: '' },
    ]) {
      const res = await api<ErrorBody>(sb.get(), `/Invoice${attempt.query}`, { token: attempt.token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: {
          exceptionUUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
          message: 'Authentication required',
          errorCode: 0,
          code: null,
          data: [],
          responseCode: 401,
        },
        objects: null,
      });
    }
    expect((await api(sb.get(), '/Invoice?limit=1')).status).toBe(200);
  });

  it('uses a 32-character lowercase hex token by default and honours setToken', async () => {
    const sandbox = sb.get();
    const old = sandbox.token;
    expect(old).toMatch(/^[0-9a-f]{32}$/);
    sandbox.setToken('0123456789abcdef0123456789abcdef');
    expect((await api(sandbox, '/Invoice?limit=1', { token: old })).status).toBe(401);
    expect((await api(sandbox, '/Invoice?limit=1')).status).toBe(200);
    sandbox.setToken(old);
  });
});

describe('lists and paging', () => {
  it('refuses limits outside 1..1000 with the documented message', async () => {
    for (const limit of ['0', '1001', '-1', 'abc', 'none', '10.5', '10000', '']) {
      const res = await api<ErrorBody>(sb.get(), `/Invoice?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(res.body.error).toMatchObject({ message: LIMIT_MESSAGE, responseCode: 400 });
      expect(res.body.objects).toBeNull();
    }
    expect((await api<ListBody<Invoice>>(sb.get(), '/Invoice?limit=1000')).body.objects).toHaveLength(600);
    expect((await api<ListBody<Invoice>>(sb.get(), '/Invoice')).body.objects).toHaveLength(100);
    expect((await api(sb.get(), '/Contact?limit=0')).status).toBe(400);
  });

  it('pages in ascending id order; countAll adds the total as a string', async () => {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 77) {
      const res = await api<ListBody<Invoice>>(sb.get(), `/Invoice?limit=77&offset=${offset}&countAll=true`);
      expect(res.body.total).toBe(String(sb.get().store.invoiceCount()));
      ids.push(...res.body.objects.map((i) => i.id));
      if (res.body.objects.length < 77) break;
    }
    expect(ids).toEqual(allInvoices().map((i) => i.id));
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
    const plain = await api<ListBody<Invoice>>(sb.get(), '/Invoice?limit=1');
    expect(plain.body).not.toHaveProperty('total');
    expect((await api<ListBody<Invoice>>(sb.get(), '/Invoice?offset=100000')).body.objects).toEqual([]);
  });

  it('returns GET by id as a list of one, and 404/151 for unknown ids', async () => {
    const first = allInvoices()[0]!;
    const res = await api<ListBody<Invoice>>(sb.get(), `/Invoice/${first.id}`);
    expect(res.body.objects).toEqual([first]);
    for (const [path, model, id] of [
      ['/Invoice/1', 'Invoice', '1'],
      ['/Invoice/abc', 'Invoice', 'abc'],
      ['/Contact/1', 'Contact', '1'],
    ] as const) {
      const missing = await api<ErrorBody>(sb.get(), path);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toMatchObject({
        code: 151,
        responseCode: 404,
        message: `No Model_${model} with the id ${id} was found`,
      });
    }
  });
});

describe('invoice filters', () => {
  it('filters by status, type, contact, number and origin', async () => {
    const all = allInvoices();
    expect(await invoices('status=750')).toEqual(some(all.filter((i) => i.status === '750')));
    expect(await invoices('invoiceType=SR')).toEqual(some(all.filter((i) => i.invoiceType === 'SR')));
    const contactId = all[10]!.contact.id;
    expect(await invoices(`contact[id]=${contactId}&contact[objectName]=Contact`)).toEqual(
      some(all.filter((i) => i.contact.id === contactId)),
    );
    const numbered = all.find((i) => i.invoiceNumber?.startsWith('AR-'))!;
    expect(await invoices(`invoiceNumber=${numbered.invoiceNumber}`)).toEqual([numbered]);
    const sr = all.find((i) => i.invoiceType === 'SR')!;
    expect(await invoices(`origin[id]=${sr.origin!.id}&origin[objectName]=Invoice`)).toEqual([sr]);
    expect(await invoices('contact[id]=1')).toEqual([]);
  });

  it('filters by update/create stamps (strict) and invoice date (inclusive)', async () => {
    const all = allInvoices();
    const pivot = all[300]!;
    const t = Math.floor(Date.parse(pivot.update) / 1000);
    const after = await invoices(`updateAfter=${t}`);
    expect(after).toEqual(some(all.filter((i) => Date.parse(i.update) / 1000 > t)));
    expect(after.map((i) => i.id)).not.toContain(pivot.id);
    expect(await invoices(`updateBefore=${t}`)).toEqual(
      some(all.filter((i) => Date.parse(i.update) / 1000 < t)),
    );
    const c = Math.floor(Date.parse(pivot.create) / 1000);
    expect(await invoices(`createAfter=${c}`)).toEqual(
      some(all.filter((i) => Date.parse(i.create) / 1000 > c)),
    );
    expect(await invoices(`createBefore=${c}`)).toEqual(
      some(all.filter((i) => Date.parse(i.create) / 1000 < c)),
    );
    const d = Math.floor(Date.parse(pivot.invoiceDate) / 1000);
    const onDay = await invoices(`startDate=${d}&endDate=${d}`);
    expect(onDay.map((i) => i.id)).toContain(pivot.id);
    expect(onDay).toEqual(all.filter((i) => Date.parse(i.invoiceDate) / 1000 === d));
  });

  it('orders by invoice number on request and ignores unknown parameters', async () => {
    const desc = await invoices('orderByInvoiceNumber=DESC&invoiceType=RE');
    const numbers = desc.filter((i) => i.invoiceNumber).map((i) => Number(i.invoiceNumber!.slice(3)));
    expect(numbers).toEqual(some([...numbers].sort((a, b) => b - a)));
    expect(numbers).not.toEqual([...numbers].sort((a, b) => a - b));
    const unfiltered = await invoices('');
    expect(await invoices('customerIntenalNote=PO-1&foo=bar&showAll=true&X=1')).toEqual(unfiltered);
    expect(await invoices('updateAfter=yesterday')).toEqual(unfiltered);
  });

  it('embeds the contact on request', async () => {
    const [invoice] = await invoices('embed=contact&limit=1');
    const contact = invoice!.contact as Contact;
    expect(contact.objectName).toBe('Contact');
    expect(contact).toEqual(sb.get().store.contact(contact.id));
  });
});

describe('contacts, communication ways, addresses, countries', () => {
  it('lists organisations only by default and persons with depth=1', async () => {
    const all = [...sb.get().store.contacts()];
    const byDefault = await api<ListBody<Contact>>(sb.get(), '/Contact?limit=1000');
    expect(byDefault.body.objects).toEqual(all.filter((c) => c.name !== null));
    const deep = await api<ListBody<Contact>>(sb.get(), '/Contact?limit=1000&depth=1&countAll=true');
    expect(deep.body.objects).toEqual(all);
    expect(deep.body.total).toBe(String(all.length));
    const person = all.find((c) => c.surename !== null)!;
    expect((await api<ListBody<Contact>>(sb.get(), `/Contact/${person.id}`)).body.objects).toEqual([person]);
  });

  it('filters contacts by customerNumber, parent and updateAfter', async () => {
    const all = [...sb.get().store.contacts()];
    const member = all.find((c) => c.parent)!;
    const byNumber = await api<ListBody<Contact>>(
      sb.get(),
      `/Contact?depth=1&customerNumber=${member.customerNumber}`,
    );
    expect(byNumber.body.objects).toEqual([member]);
    const children = await api<ListBody<Contact>>(
      sb.get(),
      `/Contact?depth=1&parent[id]=${member.parent!.id}&parent[objectName]=Contact`,
    );
    expect(children.body.objects).toEqual(some(all.filter((c) => c.parent?.id === member.parent!.id)));
    const t = Math.floor(Date.parse(all[40]!.update) / 1000);
    const updated = await api<ListBody<Contact>>(sb.get(), `/Contact?depth=1&limit=1000&updateAfter=${t}`);
    expect(updated.body.objects).toEqual(some(all.filter((c) => Date.parse(c.update) / 1000 > t)));
    expect(updated.body.objects.length).toBeLessThan(all.length);
  });

  it('serves communication ways by contact, type and main', async () => {
    const store = sb.get().store;
    const contacts = [...store.contacts()];
    const all = contacts.flatMap((c) => store.communicationWays(c.id));
    const listed = await api<ListBody<CommunicationWay>>(
      sb.get(),
      '/CommunicationWay?limit=1000&countAll=true',
    );
    expect(listed.body.objects).toEqual(all);
    expect(listed.body.total).toBe(String(all.length));
    const page = await api<ListBody<CommunicationWay>>(sb.get(), '/CommunicationWay?limit=7&offset=11');
    expect(page.body.objects).toEqual(all.slice(11, 18));
    const c = contacts.find((x) => store.communicationWays(x.id).length > 1)!;
    const forContact = await api<ListBody<CommunicationWay>>(
      sb.get(),
      `/CommunicationWay?contact[id]=${c.id}&contact[objectName]=Contact`,
    );
    expect(forContact.body.objects).toEqual(store.communicationWays(c.id));
    const mainEmails = await api<ListBody<CommunicationWay>>(
      sb.get(),
      '/CommunicationWay?limit=1000&type=EMAIL&main=1',
    );
    expect(mainEmails.body.objects).toEqual(some(all.filter((w) => w.type === 'EMAIL' && w.main === '1')));
    expect(mainEmails.body.objects.length).toBeLessThan(all.length);
    const one = all[5]!;
    expect(
      (await api<ListBody<CommunicationWay>>(sb.get(), `/CommunicationWay/${one.id}`)).body.objects,
    ).toEqual([one]);
  });

  it('serves addresses by contact and the StaticCountry table', async () => {
    const store = sb.get().store;
    const contacts = [...store.contacts()];
    const all = contacts.flatMap((c) => store.addresses(c.id));
    const listed = await api<ListBody<ContactAddress>>(sb.get(), '/ContactAddress?limit=1000');
    expect(listed.body.objects).toEqual(all);
    const c = contacts[4]!;
    const forContact = await api<ListBody<ContactAddress>>(
      sb.get(),
      `/ContactAddress?contact[id]=${c.id}&contact[objectName]=Contact`,
    );
    expect(forContact.body.objects).toEqual(store.addresses(c.id));
    const countries = await api<ListBody<StaticCountry>>(sb.get(), '/StaticCountry?limit=1000');
    expect(countries.body.objects).toEqual(store.countries());
    const keys = await api<ListBody<{ id: string; name: string }>>(sb.get(), '/CommunicationWayKey');
    expect(keys.body.objects.find((k) => k.id === '8')?.name).toBe('Rechnungsadresse');
  });
});

describe('cancellation and deletion over HTTP', () => {
  it('cancels as measured on sevDesk: 201 {"objects":{SR}}, original paid with 0 and bumped', async () => {
    const sandbox = sb.get();
    const store = sandbox.store;
    const original = allInvoices().find((i) => i.invoiceType === 'RE' && i.status === '200')!;
    const nextRe =
      Math.max(
        ...allInvoices()
          .filter((i) => i.invoiceNumber?.startsWith('RE-'))
          .map((i) => Number(i.invoiceNumber!.slice(3))),
      ) + 1;
    clock.set('2026-11-21T09:30:00+01:00');
    const res = await api<{ objects: Invoice }>(sandbox, `/Invoice/${original.id}/cancelInvoice`, {
      method: 'POST',
    });
    expect(res.status).toBe(201);
    const sr = res.body.objects;
    expect(Array.isArray(sr)).toBe(false);
    expect(sr).toMatchObject({
      invoiceType: 'SR',
      status: '1000',
      paidAmount: 0,
      invoiceNumber: `RE-${nextRe}`,
      header: `Stornorechnung Nr. RE-${nextRe} zur Rechnung Nr. ${original.invoiceNumber}`,
      origin: { id: original.id, objectName: 'Invoice' },
      contact: original.contact,
      invoiceDate: '2026-11-21T09:30:00+01:00',
      sumGross: `-${original.sumGross}`,
    });
    expect(store.getInvoice(original.id)).toMatchObject({
      status: '1000',
      paidAmount: 0,
      update: '2026-11-21T09:30:00+01:00',
    });
    expect(await invoices(`origin[id]=${original.id}`)).toMatchObject([{ id: sr.id }]);
    const t = Math.floor(Date.parse('2026-11-21T09:00:00+01:00') / 1000);
    expect((await invoices(`updateAfter=${t}`)).map((i) => i.id)).toEqual(
      expect.arrayContaining([original.id, sr.id]),
    );

    const again = await api<ErrorBody>(sandbox, `/Invoice/${original.id}/cancelInvoice`, { method: 'POST' });
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe(421);
    const partly = allInvoices().find((i) => i.status === '750')!;
    const refused = await api<ErrorBody>(sandbox, `/Invoice/${partly.id}/cancelInvoice`, { method: 'POST' });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ error: { code: 390 }, objects: null });
  });

  it('deletes drafts (then 404/151) and refuses others with 409/159', async () => {
    const sandbox = sb.get();
    const draft = allInvoices().find((i) => i.status === '100')!;
    const del = await api<{ objects: unknown[] }>(sandbox, `/Invoice/${draft.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await api<ErrorBody>(sandbox, `/Invoice/${draft.id}`)).body.error.code).toBe(151);
    expect((await invoices('')).map((i) => i.id)).not.toContain(draft.id);
    const paid = allInvoices().find((i) => i.status === '1000')!;
    const refused = await api<ErrorBody>(sandbox, `/Invoice/${paid.id}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe(159);
  });
});

describe('a large account', () => {
  // How fast such pages come is measured by the benches ("sandbox HTTP incl. body", bench/README.md).
  it('serves full pages of 1000 anywhere in 200k invoices', async () => {
    const big = withSandbox({ data: { invoices: 200_000 } });
    await big.start();
    try {
      for (let k = 0; k < 12; k++) {
        const offset = 199_000 - k * 15_000;
        const res = await api<ListBody<Invoice>>(big.get(), `/Invoice?limit=1000&offset=${offset}`);
        expect(res.body.objects).toHaveLength(1000);
      }
    } finally {
      await big.stop();
    }
  });
});
