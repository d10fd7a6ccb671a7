import { describe, expect, it } from 'vitest';
import { SevdeskSchemaError } from '../../src/sevdesk/errors';
import { caught, invoices, useScriptedSevdesk } from './helpers/client';
import { json } from './helpers/test-server';

// What the client makes of a reply (src/sevdesk/client.ts): typed objects, and the ones that are not.

const { server, makeClient } = useScriptedSevdesk();

describe('parsing', () => {
  it('one malformed object lands in `invalid`; the rest of the page is fine', async () => {
    const [re, sr] = invoices;
    const broken = { ...sr, sumNet: 'abc' };
    const noId = { ...re, id: undefined, invoiceNumber: 'RE-9' };
    const third = { ...re, id: '140112299', invoiceNumber: 'RE-1050' };
    server.fallback(json(200, { objects: [re, broken, noId, third] }));
    const page = await makeClient().client.listInvoices({ limit: 4 });
    expect(page.rawCount).toBe(4);
    expect(page.objects.map((i) => i.id)).toEqual(['140112233', '140112299']);
    expect(page.invalid.map((i) => i.id)).toEqual(['140118871', null]);
    const [first] = page.invalid;
    expect(first?.error).toBeInstanceOf(SevdeskSchemaError);
    expect(first?.error).toMatchObject({ path: 'sumNet', objectId: '140118871', objectName: 'Invoice' });
    expect(first?.error.message).toContain('Invoice 140118871');
    expect(first?.error.message).toContain('sumNet');
    // The offending value is not echoed (it may be personal data).
    expect(first?.error.message).not.toContain('abc');
  });

  it('a malformed object on GET by id → SevdeskSchemaError naming id and field', async () => {
    server.fallback(
      json(200, { objects: [{ ...invoices[0], contact: { id: 'nine', objectName: 'Contact' } }] }),
    );
    const err = await caught(makeClient().client.getInvoice('140112233'));
    expect(err).toBeInstanceOf(SevdeskSchemaError);
    expect(err).toMatchObject({ objectId: '140112233', path: 'contact.id', retryable: false });
    expect(err.message).toMatch(/Invoice 140112233 .*contact\.id/);
    expect(server.requests).toHaveLength(1);
  });

  it('a bad envelope → SevdeskSchemaError, not retried', async () => {
    server.fallback(json(200, { objects: null }));
    const err = await caught(makeClient().client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskSchemaError);
    expect(err.message).toContain('Invoice list reply');
    expect(err).toMatchObject({ path: 'objects' });
    expect(server.requests).toHaveLength(1);
  });
});
