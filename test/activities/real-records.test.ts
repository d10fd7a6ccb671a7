// Records in the shapes and values real sevDesk accounts were recorded sending (test/fixtures/sevdesk/real,
// README.md there names each source), served over HTTP and run through the client and the whole page write.
// What each record must become is written here, from what sevDesk means by it, not read from src.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { pageContext, processInvoicePage } from '../../src/activities/pages';
import { clearCountryCache, fetchAllContacts } from '../../src/activities/sevdesk-reads';
import { upsertSourceContacts } from '../../src/db/customers';
import { ensureAccount } from '../../src/db/interfaces';
import { listCustomers, statusFacts } from '../../src/db/views';
import { closeDefaultDispatchers, createSevdeskClient, walkPages } from '../../src/sevdesk/client';
import { CommunicationWay, Contact, ContactAddress, Invoice } from '../../src/sevdesk/schema';
import { SOURCE_SEVDESK } from '../../src/shared';
import { SEVDESK_FIXTURES_DIR, STATIC_COUNTRY_GERMANY } from '../fixtures';
import type { TestServer } from '../sevdesk/helpers/test-server';
import { startTestServer } from '../sevdesk/helpers/test-server';
import { randomId, testDb } from '../helpers/env';

const REAL = path.join(SEVDESK_FIXTURES_DIR, 'real');
const objectsOf = (file: string): Record<string, unknown>[] => {
  const body = JSON.parse(readFileSync(path.join(REAL, file), 'utf8')) as { objects: unknown };
  return (Array.isArray(body.objects) ? body.objects : [body.objects]) as Record<string, unknown>[];
};
const bodyOf = (file: string): unknown => JSON.parse(readFileSync(path.join(REAL, file), 'utf8'));

/** The recorded account's contacts and their parts, served as the lists sevDesk serves. */
const LISTS: Record<string, () => unknown[]> = {
  '/api/v1/Contact': () => [
    ...objectsOf('sevdesk-rs.contact.json'),
    ...objectsOf('sevdesk-rs.contact_list_by_customer_number.json'),
    ...objectsOf('ordermanager2.contact.json'),
  ],
  '/api/v1/CommunicationWay': () => [
    ...objectsOf('sevdesk-rs.communication_way.json'),
    ...objectsOf('sevdesk-rs.communication_way_list.json'),
    ...objectsOf('ordermanager2.communicationWay.json'),
  ],
  '/api/v1/ContactAddress': () => [
    ...objectsOf('sevdesk-rs.contact_address.json'),
    ...objectsOf('sevdesk-rs.contact_address_list.json'),
    ...objectsOf('ordermanager2.contactAddress.json'),
  ],
  '/api/v1/StaticCountry': () => [STATIC_COUNTRY_GERMANY],
};

/** The recipient of the recorded invoices (contact 138615465), as the fixtures give its e-mail. */
const PRAXIS = 'empfang@praxis-lindenplatz.example';

const db = testDb();
let server: TestServer;
let invoiceFile = '';

beforeAll(async () => {
  server = await startTestServer();
  server.fallback((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const offset = Number(u.searchParams.get('offset') ?? '0');
    const list = LISTS[u.pathname];
    // The invoice list is the recorded reply as it is (its `total` form included); one page of it.
    const body =
      u.pathname === '/api/v1/Invoice'
        ? offset === 0
          ? bodyOf(invoiceFile)
          : { objects: [] }
        : { objects: list && offset === 0 ? list() : [] };
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});

afterAll(async () => {
  await server.close();
  await db.close();
  await closeDefaultDispatchers();
});

/** A new account that reads the recorded account: its contacts, then one recorded invoice reply. */
async function syncFile(file: string) {
  invoiceFile = file;
  clearCountryCache();
  const accountId = randomId('acct-real');
  await ensureAccount(db.sql, accountId);
  const client = createSevdeskClient({ baseUrl: server.url, token: 'f'.repeat(32) });
  const contacts = await fetchAllContacts(client);
  await upsertSourceContacts(db.sql, accountId, SOURCE_SEVDESK, contacts.rows);
  const ctx = pageContext(db.sql, client, {
    accountId,
    baseCurrency: 'EUR',
    settings: { amountBasis: 'gross' },
  });
  const totals: (number | null)[] = [];
  for await (const { page } of walkPages((offset, limit) =>
    client.listInvoices({ offset, limit, countAll: true }),
  )) {
    totals.push(page.total);
    await processInvoicePage(ctx, page);
  }
  const customers = await listCustomers(db.sql, accountId);
  const facts = await statusFacts(db.sql, accountId);
  return { contacts, customers, facts, totals, praxis: customers.find((c) => c.email === PRAXIS) };
}

describe('real sevDesk records through the client and the page write', () => {
  it('reads the recorded contacts with their ten fields, nothing reported', async () => {
    const { contacts } = await syncFile('sevdesk-rs.invoice_draft.json');
    expect(contacts.problems).toEqual([]);
    const byId = new Map(contacts.rows.map((r) => [r.source_id, r]));
    expect(byId.get('138615465')).toMatchObject({
      email: PRAXIS,
      company: 'Praxis am Lindenplatz GmbH',
      street: 'Lindenplatz 4',
      city: 'Berlin',
      country: 'Deutschland',
    });
    expect(byId.get('138810376')).toMatchObject({
      email: 'buchhaltung@hansen-vogt.example',
      company: 'Hansen & Vogt Haustechnik GmbH',
    });
    expect(byId.get('54317047')).toMatchObject({ company: 'Kulturwerk Rheinufer', email: null });
  });

  // An ordinary open invoice of 34.51 to the Praxis, in each form sevDesk is recorded or documented to send.
  it.each([
    ['sevdesk-rs.invoice_enshrined.json', null],
    ['sevdesk-api.origin-null.json', null],
    ['sevdesk-api.origin-order.json', null],
    ['sevdesk-api.sendtype-empty.json', null],
    ['sevdesk-api.total-integer.json', 1],
    ['openapi.total-string.json', 1],
    ['openapi.paidamount-null.json', null],
  ] as const)('%s: RE-1000 open, 34.51, counted for the Praxis', async (file, total) => {
    const { praxis, facts, totals } = await syncFile(file);
    expect(totals).toEqual([total]);
    expect(praxis?.invoices).toEqual([
      expect.objectContaining({ number: 'RE-1000', status: 'open', amount: '34.51', paidAmount: '0.00' }),
    ]);
    expect(praxis?.invoices[0]?.dueDate).toBe('2026-09-15');
    expect(praxis?.values.invoices).toBe('34.51');
    expect(facts.invalid).toEqual([]);
    expect(facts.unassigned).toEqual([]);
  });

  it('a draft (no number, status 100) is not shown, with or without its contact', async () => {
    for (const file of [
      'sevdesk-rs.invoice_draft.json',
      'openapi.contact-null.json',
      'sevdesk-rs.write_invoice_save.json',
    ]) {
      const { customers, facts } = await syncFile(file);
      expect(
        customers.flatMap((c) => c.invoices),
        file,
      ).toEqual([]);
      expect(facts.invalid, file).toEqual([]);
      expect(facts.unassigned, file).toEqual([]);
    }
  });

  it('a cancelled invoice (paid, paidAmount 0) and its Storno: shown as cancelled, not counted', async () => {
    const { praxis, facts } = await syncFile('sevdesk-rs.invoice_list.json');
    expect(praxis?.invoices).toEqual([
      expect.objectContaining({ number: 'RE-1015', status: 'cancelled', amount: '46.65' }),
    ]);
    expect(praxis?.values.invoices).toBe('0.00');
    expect(facts.invalid).toEqual([]);
  });

  it('a Storno whose original was never seen changes nothing', async () => {
    const { customers, facts } = await syncFile('sevdesk-rs.write_invoice_cancel.json');
    expect(customers.flatMap((c) => c.invoices)).toEqual([]);
    expect(facts.invalid).toEqual([]);
  });

  it('status "500" (undocumented): not shown, not counted, reported with its number and why', async () => {
    const { praxis, facts } = await syncFile('sevdesk-api.status-500.json');
    expect(praxis?.invoices ?? []).toEqual([]);
    expect(facts.invalid).toEqual([
      {
        sourceId: '135169163',
        invoiceNumber: 'RE-1000',
        reason: expect.stringMatching(/status 500 is undocumented/),
      },
    ]);
  });

  it('every recorded object of a kind the sync reads parses, none marked malformed', () => {
    const schemas: Record<string, z.ZodType> = { Invoice, Contact, CommunicationWay, ContactAddress };
    const files = readdirSync(REAL).filter((f) => f.endsWith('.json'));
    let parsed = 0;
    for (const file of files) {
      for (const o of objectsOf(file)) {
        const schema = schemas[String(o['objectName'])];
        if (!schema) continue;
        const result = schema.safeParse(o);
        expect(result.error, `${file} ${String(o['id'])}`).toBeUndefined();
        expect((result.data as { malformed?: string }).malformed, file).toBeUndefined();
        parsed += 1;
      }
    }
    expect(parsed).toBeGreaterThanOrEqual(22);
  });
});
