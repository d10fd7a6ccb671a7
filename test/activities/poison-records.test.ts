import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PageContext } from '../../src/activities/pages';
import { processInvoicePage } from '../../src/activities/pages';
import { clearCountryCache, fetchContacts } from '../../src/activities/sevdesk-reads';
import { unreadableContactIds, upsertSourceContacts } from '../../src/db/customers';
import { ensureAccount } from '../../src/db/interfaces';
import { listCustomers, statusFacts } from '../../src/db/views';
import type { SevdeskClient } from '../../src/sevdesk/client';
import { closeDefaultDispatchers, createSevdeskClient } from '../../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../../src/shared';
import type { TestServer } from '../sevdesk/helpers/test-server';
import { fixtureObjects, json, startTestServer } from '../sevdesk/helpers/test-server';
import { randomId, testDb } from '../helpers/env';

// One odd sevDesk record never stops a page (docs/architecture.md, "Invariants"). Against a scripted sevDesk
// (real HTTP, the real client and schemas) and the real PostgreSQL: a contact name with a NUL character, an
// amount of 1e15, a due date that cannot be computed, a duplicate id, e-mails as people type them and a
// malformed CommunicationWay. The rest of the page is written; what cannot be stored is reported with number,
// id, reason. The page writer's own bisection is test/db/page-write.test.ts.

const db = testDb();
let server: TestServer;
let client: SevdeskClient;

const baseInvoice = fixtureObjects('invoice_list.json')[0]!;
const baseContact = fixtureObjects('contact_list.json')[0]!;
const baseWay = fixtureObjects('communication_way_list.json')[0]!;
const baseAddress = fixtureObjects('contact_address_list.json')[0]!;

/** What the scripted sevDesk serves: contacts by id, their ways and addresses, countries. */
const world = {
  contacts: new Map<string, Record<string, unknown>>(),
  ways: [] as Record<string, unknown>[],
  addresses: [] as Record<string, unknown>[],
};

const ref = (id: string) => ({ id, objectName: 'Contact' });

function addContact(id: string, name: string, emails: unknown[], extra: Record<string, unknown> = {}) {
  world.contacts.set(id, { ...baseContact, id, name, update: '2026-01-07T14:22:55+01:00', ...extra });
  emails.forEach((value, k) => {
    world.ways.push({ ...baseWay, id: `${id}0${k}`, contact: ref(id), value, main: k === 0 ? '1' : '0' });
  });
  world.addresses.push({ ...baseAddress, id: `${id}99`, contact: ref(id), street: `Weg ${id}` });
}

const invoice = (id: string, contactId: string, over: Record<string, unknown> = {}) => ({
  ...baseInvoice,
  id,
  invoiceNumber: `RE-${id}`,
  contact: ref(contactId),
  ...over,
});

beforeAll(async () => {
  server = await startTestServer();
  server.fallback((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const p = u.pathname.replace(/^\/api\/v1/, '');
    const contactId = u.searchParams.get('contact[id]');
    const byContact = (rows: Record<string, unknown>[]) =>
      contactId ? rows.filter((r) => (r['contact'] as { id?: string } | undefined)?.id === contactId) : rows;
    const one = /^\/Contact\/(\d+)$/.exec(p);
    if (one) {
      const c = world.contacts.get(one[1]!);
      return json(200, { objects: c ? [c] : [] })(req, res);
    }
    if (p === '/CommunicationWay') return json(200, { objects: byContact(world.ways) })(req, res);
    if (p === '/ContactAddress') return json(200, { objects: byContact(world.addresses) })(req, res);
    if (p === '/StaticCountry') {
      return json(200, { objects: [{ id: '1', code: 'de', name: 'Deutschland', nameEn: 'Germany' }] })(
        req,
        res,
      );
    }
    return json(200, { objects: [] })(req, res);
  });
  client = createSevdeskClient({ baseUrl: server.url, token: 'a'.repeat(32) });
});

afterAll(async () => {
  await server.close();
  await db.close();
  await closeDefaultDispatchers();
});

let accountId: string;
let ctx: PageContext;
beforeEach(async () => {
  accountId = randomId('acct');
  await ensureAccount(db.sql, accountId);
  ctx = { sql: db.sql, client, accountId, source: SOURCE_SEVDESK, amountBasis: 'gross', baseCurrency: 'EUR' };
  world.contacts.clear();
  world.ways.length = 0;
  world.addresses.length = 0;
  clearCountryCache();
});

/** A page as the client reads it: the scripted /Invoice reply, parsed by the real schemas. */
async function page(objects: unknown[]) {
  server.script(json(200, { objects }));
  return client.listInvoices({ limit: 1000 });
}

describe('a page with poison records', () => {
  it('writes the rest of the page and reports the odd ones with number, id and reason', async () => {
    addContact('101', 'Müller\u0000 GmbH', ['mueller@x.de']);
    addContact('102', 'Zweite GmbH', ['Anna Muster <Anna@Zweite.DE>']);
    addContact('103', 'Junk GmbH', ['anna(at)junk.de']);
    addContact('104', 'Lone\ud800 Surrogate KG', ['\u200bsur@x.de\u00a0; other@x.de']);
    const listed = await page([
      invoice('1', '101'),
      invoice('2', '102', { sumGross: '1000000000000000', sumNet: '840336134453781.51' }),
      invoice('3', '102', { timeToPay: '99999999' }),
      invoice('4', '102', { timeToPay: '' }),
      invoice('5', '102', { sumGross: '10', update: '2026-03-02T10:00:00+01:00' }),
      invoice('5', '102', { sumGross: '20', update: '2026-03-02T11:00:00+01:00' }),
      invoice('6', '103'),
      invoice('7', '104', { paidAmount: null, sumGross: '100', status: '200' }),
      invoice('8', '102', { paidAmount: 40, sumGross: '100', status: '200' }),
    ]);
    // The schema accepts what the spec allows ("" term, null paidAmount): nothing is lost at the edge.
    expect(listed.invalid).toEqual([]);
    const out = await processInvoicePage(ctx, listed);
    expect(out.invalidIds).toEqual(['2']);

    const facts = await statusFacts(db.sql, accountId);
    expect(facts.invalid).toEqual([
      { invoiceNumber: 'RE-2', sourceId: '2', reason: expect.stringMatching(/sumGross out of range/) },
    ]);
    expect(facts.counts.invalid).toBe(1);
    expect(facts.unassigned).toEqual([
      { invoiceNumber: 'RE-6', sourceId: '6', reason: 'unusable e-mail address: "anna(at)junk.de"' },
    ]);

    const customers = await listCustomers(db.sql, accountId);
    expect(customers.map((c) => [c.email, c.company])).toEqual([
      ['anna@zweite.de', 'Zweite GmbH'],
      ['mueller@x.de', 'Müller GmbH'],
      ['sur@x.de', 'Lone Surrogate KG'],
    ]);
    const zweite = customers.find((c) => c.email === 'anna@zweite.de')!;
    expect(zweite.invoices.map((i) => [i.number, i.dueDate, i.amount, i.status, i.paidAmount])).toEqual([
      ['RE-3', null, '1487.50', 'open', '0.00'],
      ['RE-4', null, '1487.50', 'open', '0.00'],
      ['RE-5', '2026-03-16', '20.00', 'open', '0.00'],
      // Partly paid, older style (status 200, paidAmount > 0): open, with the paid amount.
      ['RE-8', '2026-03-16', '100.00', 'open', '40.00'],
    ]);
    expect(zweite.values.invoices).toBe('3095.00');
    expect(customers.find((c) => c.email === 'sur@x.de')?.invoices[0]).toMatchObject({
      number: 'RE-7',
      paidAmount: '0.00',
    });
    expect(out).toMatchObject({ assigned: 6, unassigned: 1, invalid: 1 });

    // The same invoice read fine later resolves its issue.
    await processInvoicePage(ctx, await page([invoice('2', '102', { sumGross: '12' })]));
    expect((await statusFacts(db.sql, accountId)).invalid).toEqual([]);
  });

  it('keeps the stored contact when one of its e-mails arrives malformed, and reports it', async () => {
    addContact('201', 'Eva GmbH', ['eva.main@x.de', 'eva.other@x.de']);
    await processInvoicePage(ctx, await page([invoice('21', '201')]));
    const mainWay = world.ways.find((w) => w['value'] === 'eva.main@x.de')!;
    mainWay['main'] = 'abc';
    // A new contact whose only e-mail is malformed: nothing to keep, so its invoice is unassigned.
    addContact('202', 'Neu GmbH', ['neu@x.de']);
    world.ways.find((w) => w['value'] === 'neu@x.de')!['main'] = 7;

    const rows = await fetchContacts(client, ['201', '202']);
    expect(rows.map((r) => [r.source_id, r.email, r.read_error?.slice(0, 37)])).toEqual([
      ['201', null, 'the sevDesk contact could not be read'],
      ['202', null, 'the sevDesk contact could not be read'],
    ]);
    await upsertSourceContacts(db.sql, accountId, SOURCE_SEVDESK, rows);
    await processInvoicePage(
      ctx,
      await page([invoice('21', '201', { sumGross: '5' }), invoice('22', '202')]),
    );

    const customers = await listCustomers(db.sql, accountId);
    expect(customers.map((c) => [c.email, c.invoices.map((i) => i.number)])).toEqual([
      ['eva.main@x.de', ['RE-21']],
    ]);
    const facts = await statusFacts(db.sql, accountId);
    expect(facts.unassigned).toEqual([
      {
        invoiceNumber: 'RE-22',
        sourceId: '22',
        reason: expect.stringMatching(
          /^the sevDesk contact could not be read: CommunicationWay \d+ is malformed/,
        ),
      },
    ]);
    expect(facts.invalid.map((x) => x.sourceId).sort()).toEqual(['contact:201', 'contact:202']);

    // Read fine again: the issues resolve and the new contact's invoice is assigned on its next page.
    mainWay['main'] = '1';
    world.ways.find((w) => w['value'] === 'neu@x.de')!['main'] = '1';
    await upsertSourceContacts(
      db.sql,
      accountId,
      SOURCE_SEVDESK,
      await fetchContacts(client, ['201', '202']),
    );
    await processInvoicePage(ctx, await page([invoice('22', '202')]));
    const after = await statusFacts(db.sql, accountId);
    expect(after.invalid).toEqual([]);
    expect(after.unassigned).toEqual([]);
  });

  it('reports a contact that cannot be read at all, never failing the page', async () => {
    addContact('301', 'Gut GmbH', ['gut@x.de']);
    world.contacts.set('302', { ...baseContact, id: '302', update: 'gestern' });
    const out = await processInvoicePage(ctx, await page([invoice('31', '301'), invoice('32', '302')]));
    expect(out).toMatchObject({ assigned: 1, unassigned: 1 });
    const facts = await statusFacts(db.sql, accountId);
    expect(facts.unassigned).toEqual([
      {
        invoiceNumber: 'RE-32',
        sourceId: '32',
        reason: expect.stringMatching(/^the sevDesk contact could not be read/),
      },
    ]);
    expect(facts.invalid).toEqual([
      {
        invoiceNumber: null,
        sourceId: 'contact:302',
        reason: expect.stringMatching(/^sevDesk contact 302: /),
      },
    ]);
    expect(await unreadableContactIds(db.sql, accountId, SOURCE_SEVDESK)).toEqual(['302']);

    // The next page that needs the contact reads it again; once it reads fine, everything resolves.
    world.contacts.set('302', { ...baseContact, id: '302', name: 'Wieder da GmbH' });
    world.ways.push({ ...baseWay, id: '30200', contact: ref('302'), value: 'da@x.de', main: '1' });
    await processInvoicePage(ctx, await page([invoice('32', '302')]));
    const after = await statusFacts(db.sql, accountId);
    expect(after.invalid).toEqual([]);
    expect(after.unassigned).toEqual([]);
    expect(await unreadableContactIds(db.sql, accountId, SOURCE_SEVDESK)).toEqual([]);
  });
});
