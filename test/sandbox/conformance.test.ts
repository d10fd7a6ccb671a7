import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../../sandbox';
import { SPEC_EXCEPTIONS, applySpecExceptions, wrappedInObjects } from '../../sandbox/spec-exceptions';
import { api, withSandbox, type ListBody } from './helpers';
import { buildValidators, describeErrors, loadSpec } from './openapi';

// Sandbox responses against the official spec's schemas, patched only by sandbox/spec-exceptions.ts.
const CLOSED = [
  'Model_InvoiceResponse',
  'Model_ContactResponse',
  'Model_CommunicationWayResponse',
  'Model_ContactAddressResponse',
];

const sb = withSandbox({ seed: 9, data: { invoices: 1500 } });
beforeAll(sb.start);
afterAll(sb.stop);

const validators = buildValidators({ closed: CLOSED });

async function body(path: string, init?: RequestInit): Promise<unknown> {
  const res = await api(sb.get(), path, init);
  return res.body;
}

function expectValid(validate: ReturnType<typeof validators.schema>, data: unknown): void {
  const ok = validate(data);
  expect(describeErrors(validate).slice(0, 10)).toEqual([]);
  expect(ok).toBe(true);
}

describe('OpenAPI conformance', () => {
  it('GET /Invoice (every type and status, foreign currency, cancellations) matches getInvoices', async () => {
    const validate = validators.response('get', '/Invoice', '200');
    for (let offset = 0; offset < 1500; offset += 1000) {
      expectValid(validate, await body(`/Invoice?limit=1000&offset=${offset}&countAll=true`));
    }
    expectValid(validate, await body('/Invoice?limit=50&embed=contact'));
  });

  it('GET /Invoice/{id} matches getInvoiceById', async () => {
    const sr = [...sb.get().store.invoices()].find((i) => i.invoiceType === 'SR')!;
    expectValid(validators.response('get', '/Invoice/{invoiceId}', '200'), await body(`/Invoice/${sr.id}`));
  });

  it('POST /Invoice/{id}/cancelInvoice matches cancelInvoice (inside the measured envelope)', async () => {
    const open = [...sb.get().store.invoices()].find((i) => i.invoiceType === 'RE' && i.status === '200')!;
    const reply = (await body(`/Invoice/${open.id}/cancelInvoice`, { method: 'POST' })) as {
      objects: Invoice;
    };
    expect(wrappedInObjects('cancelInvoice')).toBe(true);
    expectValid(validators.response('post', '/Invoice/{invoiceId}/cancelInvoice', '201'), reply.objects);
  });

  it('GET /Contact?depth=1 matches getContacts', async () => {
    expectValid(validators.response('get', '/Contact', '200'), await body('/Contact?depth=1&limit=1000'));
  });

  it('GET /CommunicationWay matches getCommunicationWays', async () => {
    expectValid(
      validators.response('get', '/CommunicationWay', '200'),
      await body('/CommunicationWay?limit=1000'),
    );
  });

  it('GET /ContactAddress matches getContactAddresses', async () => {
    expectValid(
      validators.response('get', '/ContactAddress', '200'),
      await body('/ContactAddress?limit=1000'),
    );
  });

  it('errors match the spec error schema', async () => {
    const validate = validators.schema('validationError');
    expectValid(validate, await body('/Invoice/1'));
    expectValid(validate, await body('/Invoice?limit=0'));
    expectValid(validate, await body('/Invoice', { headers: { Authorization: 'wrong' } }));
  });

  it('needs the exceptions: the unpatched spec rejects the live shapes', async () => {
    const strict = buildValidators({ exceptions: [], closed: CLOSED });
    const invoices = (await body('/Invoice?limit=100')) as ListBody<Invoice>;
    const validate = strict.response('get', '/Invoice', '200');
    expect(validate(invoices)).toBe(false);
    const messages = describeErrors(validate).join('\n');
    expect(messages).toContain('must NOT have additional properties');
    expect(messages).toMatch(/must be boolean/);
  });

  it('stays strict: an undeclared field or a wrong type still fails', async () => {
    const [invoice] = ((await body('/Invoice?limit=1')) as ListBody<Invoice>).objects;
    const validate = validators.schema('Model_InvoiceResponse');
    expect(validate({ ...invoice, cancelled: true })).toBe(false);
    expect(validate({ ...invoice, sumGross: 12.5 })).toBe(false);
    expect(validate({ ...invoice, status: '300' })).toBe(false);
    expect(validate({ ...invoice, showNet: true })).toBe(false);
  });

  it('keeps the exception list honest against the spec', () => {
    const schemas = loadSpec().components.schemas;
    expect(() => applySpecExceptions(schemas)).not.toThrow();
    expect(() =>
      applySpecExceptions(schemas, [
        {
          kind: 'extra',
          schema: 'Model_InvoiceResponse',
          properties: { sumNet: {} },
          source: '-',
          why: 'already declared',
        },
      ]),
    ).toThrow(/declared now/);
    expect(() =>
      applySpecExceptions(schemas, [
        { kind: 'nullable', schema: 'Model_InvoiceResponse', properties: ['nope'], source: '-', why: '-' },
      ]),
    ).toThrow(/no property/);
    // Every exception says where it is known from, in words, not by a reference to notes elsewhere.
    for (const ex of SPEC_EXCEPTIONS) {
      expect(ex.source).toMatch(/^(measured|spec|sevDesk pages): \S.{10,}/);
      expect(ex.source).not.toMatch(/§|[A-Z-]+\.md\b/);
    }
  });
});
