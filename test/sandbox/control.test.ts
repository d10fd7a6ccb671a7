import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommunicationWay, Invoice } from '../../sandbox';
import { api, control, withSandbox, type ErrorBody, type ListBody } from './helpers';

const sb = withSandbox({ seed: 4, data: { invoices: 100 } });
beforeAll(sb.start);
afterAll(sb.stop);

describe('control API (/__sandbox)', () => {
  it('adds, finalises, pays, cancels and deletes invoices', async () => {
    const sandbox = sb.get();
    const contactId = [...sandbox.store.contacts()][0]!.id;
    const created = await control<{ objects: Invoice }>(sandbox, 'POST', '/invoices', {
      contactId,
      status: '100',
      sumNet: '250',
      invoiceDate: '2026-11-02T00:00:00+01:00',
    });
    expect(created.status).toBe(201);
    const id = created.body.objects.id;
    expect((await api<ListBody<Invoice>>(sandbox, `/Invoice/${id}`)).body.objects[0]).toMatchObject({
      status: '100',
      sumGross: '297.5',
      invoiceDate: '2026-11-02T00:00:00+01:00',
    });
    const finalised = await control<{ objects: Invoice }>(sandbox, 'POST', `/invoices/${id}/finalize`);
    expect(finalised.body.objects.invoiceNumber).toMatch(/^RE-\d+$/);
    const paid = await control<{ objects: Invoice }>(sandbox, 'POST', `/invoices/${id}/pay`, {
      amount: '100',
    });
    expect(paid.body.objects).toMatchObject({ status: '750', paidAmount: 100 });
    const cancelled = await control<ErrorBody>(sandbox, 'POST', `/invoices/${id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { error: { code: 390 } } });
    await control(sandbox, 'POST', `/invoices/${id}/pay`, {});
    const sr = await control<{ objects: Invoice }>(sandbox, 'POST', `/invoices/${id}/cancel`);
    expect(sr.status).toBe(201);
    expect(sr.body.objects.origin?.id).toBe(id);

    const draft = await control<{ objects: Invoice }>(sandbox, 'POST', '/invoices', {
      contactId,
      status: '100',
    });
    expect((await control(sandbox, 'DELETE', `/invoices/${draft.body.objects.id}`)).status).toBe(200);
    expect((await api(sandbox, `/Invoice/${draft.body.objects.id}`)).status).toBe(404);
    expect(await control(sandbox, 'DELETE', `/invoices/${id}`)).toMatchObject({
      status: 409,
      body: { error: { code: 159 } },
    });
  });

  it('adds contacts and sets their e-mail', async () => {
    const sandbox = sb.get();
    const added = await control<{ objects: { id: string } }>(sandbox, 'POST', '/contacts', {
      kind: 'organisation',
      name: 'Kontrollbau GmbH',
      address: { street: 'Am Markt 1', zip: '50667', city: 'Köln' },
    });
    const id = added.body.objects.id;
    const set = await control<{ objects: CommunicationWay[] }>(sandbox, 'POST', `/contacts/${id}/email`, {
      email: 'info@kontrollbau.example',
    });
    expect(set.body.objects).toMatchObject([{ type: 'EMAIL', value: 'info@kontrollbau.example', main: '1' }]);
    const ways = await api<ListBody<CommunicationWay>>(sandbox, `/CommunicationWay?contact[id]=${id}`);
    expect(ways.body.objects).toHaveLength(1);
    await control(sandbox, 'POST', `/contacts/${id}/email`, { email: null });
    expect(
      (await api<ListBody<CommunicationWay>>(sandbox, `/CommunicationWay?contact[id]=${id}`)).body.objects,
    ).toEqual([]);
  });

  it('manages faults, the request count and the token', async () => {
    const sandbox = sb.get();
    const added = await control<{ objects: unknown[] }>(sandbox, 'POST', '/faults', {
      kind: 'rate-limit',
      path: '/Contact',
      times: 'Infinity',
    });
    expect(added.body.objects).toEqual([{ kind: 'rate-limit', path: '/Contact', times: 'Infinity' }]);
    expect((await api(sandbox, '/Contact')).status).toBe(429);
    expect((await api(sandbox, '/Contact')).status).toBe(429);
    await control(sandbox, 'DELETE', '/faults');
    expect((await api(sandbox, '/Contact')).status).toBe(200);
    await control(sandbox, 'POST', '/faults', { kind: 'server-error-html', pathPattern: '^/Invoice/\\d+$' });
    expect((await api(sandbox, '/Invoice')).status).toBe(200);
    expect((await api(sandbox, '/Invoice/1')).status).toBe(500);

    sandbox.requests.reset();
    await api(sandbox, '/Invoice');
    expect((await control<{ count: number }>(sandbox, 'GET', '/requests')).body).toEqual({ count: 1 });

    const old = sandbox.token;
    expect(
      (await control(sandbox, 'POST', '/token', { token: 'fedcba9876543210fedcba9876543210' })).status,
    ).toBe(200);
    expect((await api(sandbox, '/Invoice', { token: old })).status).toBe(401);
    expect((await api(sandbox, '/Invoice', { token: 'fedcba9876543210fedcba9876543210' })).status).toBe(200);
    sandbox.setToken(old);
  });

  it('validates bodies and names unknown routes', async () => {
    const sandbox = sb.get();
    for (const [path, body] of [
      ['/faults', { kind: 'meteor' }],
      ['/faults', { kind: 'slow', delayMs: -1 }],
      ['/invoices', { contactId: 'x', sumNet: 12 }],
      ['/invoices', { contactId: 'x', surprise: true }],
      ['/token', {}],
    ] as const) {
      const res = await control<ErrorBody>(sandbox, 'POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toMatch(/^Invalid body/);
    }
    expect((await control(sandbox, 'GET', '/nothing')).status).toBe(404);
  });
});
