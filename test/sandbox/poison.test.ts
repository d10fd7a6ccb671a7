import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommunicationWay, Contact, Invoice } from '../../sandbox';
import { api, control, withSandbox, type ListBody } from './helpers';

// Poison records for tests and the fault campaign: raw wire fields served over an object's real ones, for
// every read, until cleared. The stored data is unchanged.

const sb = withSandbox({ seed: 5, data: { invoices: 30 } });
beforeAll(sb.start);
afterAll(sb.stop);

describe('poison records (/__sandbox/poison)', () => {
  it('serves raw fields over an invoice, a contact and a way until cleared', async () => {
    const sandbox = sb.get();
    const invoice = [...sandbox.store.invoices()][0]!;
    const contact = [...sandbox.store.contacts()][0]!;
    const way = sandbox.store.communicationWays(contact.id)[0]!;
    for (const [objectName, id, fields] of [
      ['Invoice', invoice.id, { sumGross: '1000000000000000', timeToPay: '', paidAmount: null }],
      ['Contact', contact.id, { name: 'Nul\u0000 GmbH' }],
      ['CommunicationWay', way.id, { value: 'Anna <Anna@X.de>; b@y.de' }],
    ] as const) {
      expect((await control(sandbox, 'POST', '/poison', { objectName, id, fields })).status).toBe(201);
    }
    const one = await api<ListBody<Invoice>>(sandbox, `/Invoice/${invoice.id}`);
    expect(one.body.objects[0]).toMatchObject({
      id: invoice.id,
      sumGross: '1000000000000000',
      timeToPay: '',
    });
    expect(one.body.objects[0]?.paidAmount).toBeNull();
    const listed = await api<ListBody<Invoice>>(sandbox, '/Invoice?limit=1000');
    expect(listed.body.objects.find((i) => i.id === invoice.id)?.sumGross).toBe('1000000000000000');
    const c = await api<ListBody<Contact>>(sandbox, `/Contact/${contact.id}`);
    expect(c.body.objects[0]?.name).toBe('Nul\u0000 GmbH');
    const ways = await api<ListBody<CommunicationWay>>(
      sandbox,
      `/CommunicationWay?contact[id]=${contact.id}&contact[objectName]=Contact`,
    );
    expect(ways.body.objects.find((w) => w.id === way.id)?.value).toBe('Anna <Anna@X.de>; b@y.de');
    expect((await control<{ objects: unknown[] }>(sandbox, 'GET', '/poison')).body.objects).toHaveLength(3);

    // In-process reads see it too (the HTTP replies are built from them).
    expect(sandbox.store.getInvoice(invoice.id)?.sumGross).toBe('1000000000000000');
    await control(sandbox, 'DELETE', '/poison');
    const clean = await api<ListBody<Invoice>>(sandbox, `/Invoice/${invoice.id}`);
    expect(clean.body.objects[0]?.sumGross).toBe(invoice.sumGross);
  });

  it('refuses an unknown object kind', async () => {
    const res = await control(sb.get(), 'POST', '/poison', { objectName: 'Order', id: '1', fields: {} });
    expect(res.status).toBe(400);
  });
});
