import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { applyAmountBasis, reassignContacts, upsertSourceContacts } from '../../src/db/customers';
import type { ChangeEvent } from '../../src/db/events';
import {
  accountEvents,
  customerValueHistory,
  EventsGoneError,
  globalEvents,
  pruneEvents,
} from '../../src/db/events';
import { markDeleted } from '../../src/db/imports';
import {
  deleteInterface,
  ensureAccount,
  insertInterface,
  listStoredTokens,
  replaceStoredToken,
  setActive,
  setInterfaceState,
} from '../../src/db/interfaces';
import type { PageInput } from '../../src/db/page-write';
import { writeInvoicePage } from '../../src/db/page-write';
import { listCustomers } from '../../src/db/views';
import { foldEvents } from '../../src/domain/event-fold';
import { ErrorTypes } from '../../src/shared';
import { randomId, testDb } from '../helpers/env';
import { allAccountEvents, canonicalCustomers } from '../helpers/feed';
import { privateDatabase } from '../helpers/private-db';
import { contactRow, invoiceRow, pageOf } from '../helpers/rows';

// The change feed as the page write and every other writer produce it: exactly the changes OneCockpit
// would see, in the transaction of the change, and nothing for a write that changes nothing. The proof is
// the fold: the account's events from the first one give what `customers --json` shows.

const db = testDb();
afterAll(() => db.close());

let accountId: string;
const page = (over: Partial<PageInput>) => pageOf(accountId, over);
beforeEach(async () => {
  accountId = randomId('acct');
  await ensureAccount(db.sql, accountId);
});

const allEvents = () => allAccountEvents(db.sql, accountId, 7);

async function expectFoldEqualsView(): Promise<ChangeEvent[]> {
  const events = await allEvents();
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const view = await listCustomers(db.sql, accountId);
  expect(canonicalCustomers(foldEvents(events))).toEqual(canonicalCustomers(view));
  return events;
}

const types = (events: ChangeEvent[]) => events.map((e) => e.type);

async function newEvents(action: () => Promise<unknown>): Promise<ChangeEvent[]> {
  const before = (await allEvents()).length;
  await action();
  return (await allEvents()).slice(before);
}

const eva = contactRow('1', 'eva@firma.de');
const re = (id: string, gross: string, over = {}) => invoiceRow(id, '1', gross, over);

describe('the change feed', () => {
  it('reports a new customer, its invoices and its values, with the causes; the fold equals the view', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts: [eva], invoices: [re('10', '1200.00'), re('11', '287.50')] }),
    );
    const events = await expectFoldEqualsView();
    expect(types(events)).toEqual([
      'customer.created',
      'invoice.created',
      'invoice.created',
      'customer.values_changed',
    ]);
    expect(events[1]).toMatchObject({
      account: accountId,
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      data: { sourceId: '10', number: 'RE-10', status: 'open', amount: '1200.00', customer: 'eva@firma.de' },
    });
    expect(events[3]!.data).toEqual({
      customer: 'eva@firma.de',
      currency: 'EUR',
      values: { invoices: '1487.50', total: '1487.50' },
      previous: { invoices: '0.00', total: '0.00' },
      causes: [
        { sourceId: '10', number: 'RE-10', change: 'created', status: 'open', amount: '1200.00' },
        { sourceId: '11', number: 'RE-11', change: 'created', status: 'open', amount: '287.50' },
      ],
    });
  });

  it('adds nothing for a re-read, a re-run with the contacts, or an empty page', async () => {
    const input = page({ contacts: [eva], invoices: [re('10', '100.00')] });
    await writeInvoicePage(db.sql, input);
    expect(await newEvents(() => writeInvoicePage(db.sql, input))).toEqual([]);
    expect(await newEvents(() => writeInvoicePage(db.sql, { ...input, contacts: [] }))).toEqual([]);
    expect(await newEvents(() => writeInvoicePage(db.sql, page({})))).toEqual([]);
    expect(await newEvents(() => writeInvoicePage(db.sql, input, { dryRun: true }))).toEqual([]);
  });

  it('reports a payment, a storno, a draft and a deletion as OneCockpit sees them', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts: [eva], invoices: [re('10', '100.00'), re('11', '50.00'), re('12', '25.00')] }),
    );
    const paid = await newEvents(() =>
      writeInvoicePage(
        db.sql,
        page({
          invoices: [re('10', '100.00', { source_status: '1000', status: 'paid', paid_amount: '100.00' })],
        }),
      ),
    );
    expect(types(paid)).toEqual(['invoice.updated']);
    expect(paid[0]!.data['changes']).toEqual({ status: ['open', 'paid'], paidAmount: ['0.00', '100.00'] });
    const storno = await newEvents(() =>
      writeInvoicePage(
        db.sql,
        page({
          stornos: [invoiceRow('20', '1', '-50.00', { type: 'SR', origin_source_id: '11', number: 'SR-1' })],
        }),
      ),
    );
    expect(types(storno)).toEqual(['invoice.updated', 'customer.values_changed']);
    expect(storno[0]!.data['changes']).toEqual({ status: ['open', 'cancelled'] });
    expect(storno[1]!.data).toMatchObject({
      values: { invoices: '125.00' },
      previous: { invoices: '175.00' },
      causes: [{ sourceId: '11', change: 'updated', status: 'cancelled' }],
    });
    const draft = await newEvents(() => writeInvoicePage(db.sql, page({ withdrawnIds: ['12'] })));
    expect(types(draft)).toEqual(['invoice.removed', 'customer.values_changed']);
    expect(draft[0]!.data).toMatchObject({ sourceId: '12', reason: 'draft' });
    const deleted = await newEvents(() => db.sql.begin((tx) => markDeleted(tx, accountId, ['10'])));
    expect(types(deleted)).toEqual(['invoice.removed', 'customer.values_changed']);
    expect(deleted[0]!.data).toMatchObject({ sourceId: '10', reason: 'deleted' });
    await expectFoldEqualsView();
  });

  it('reports an unassigned invoice, its issue, and the re-link once the contact has an e-mail', async () => {
    const noMail = contactRow('2', null);
    const first = await newEvents(() =>
      writeInvoicePage(db.sql, page({ contacts: [noMail], invoices: [invoiceRow('30', '2', '80.00')] })),
    );
    expect(types(first)).toEqual(['invoice.created', 'issue.opened']);
    expect(first[0]!.data['customer']).toBeNull();
    expect(first[1]!.data).toMatchObject({ kind: 'unassigned', sourceId: '30', invoiceNumber: 'RE-30' });
    await db.sql.begin((tx) =>
      upsertSourceContacts(tx, accountId, 'sevdesk', [contactRow('2', 'neu@kunde.de')]),
    );
    const relinked = await newEvents(() => reassignContacts(db.sql, accountId, 'sevdesk', ['2']));
    expect(types(relinked)).toEqual([
      'customer.created',
      'invoice.updated',
      'customer.values_changed',
      'issue.resolved',
    ]);
    expect(relinked[1]!.data['changes']).toEqual({ customer: [null, 'neu@kunde.de'] });
    expect(relinked[2]!.data).toMatchObject({
      customer: 'neu@kunde.de',
      values: { invoices: '80.00', total: '80.00' },
      causes: [{ sourceId: '30', change: 'updated' }],
    });
    await expectFoldEqualsView();
  });

  it('reports the gross/net switch as changed amounts and values, and a second switch as nothing', async () => {
    await writeInvoicePage(
      db.sql,
      page({ contacts: [eva], invoices: [re('10', '119.00', { amount_net: '100.00' }), re('11', '10.00')] }),
    );
    const net = await newEvents(() => applyAmountBasis(db.sql, accountId, 'net'));
    expect(types(net)).toEqual(['invoice.updated', 'customer.values_changed']);
    expect(net[0]!.data['changes']).toEqual({ amount: ['119.00', '100.00'] });
    expect(await newEvents(() => applyAmountBasis(db.sql, accountId, 'net'))).toEqual([]);
    await expectFoldEqualsView();
  });

  it('reports the interface: added, paused, a rejected token, removed with its invoices purged', async () => {
    const added = await newEvents(() =>
      insertInterface(db.sql, {
        accountId,
        baseUrl: 'https://sevdesk.invalid/api/v1',
        ciphertext: 'x',
        keyId: 'k',
        settings: { intervalSeconds: 60, amountBasis: 'gross' },
        active: true,
      }),
    );
    expect(added.map((e) => e.data)).toEqual([{ from: null, to: 'active', error: null }]);
    expect(await newEvents(() => setInterfaceState(db.sql, accountId, 'syncing', null))).toEqual([]);
    expect(await newEvents(() => setInterfaceState(db.sql, accountId, 'idle', null))).toEqual([]);
    // A key rotation re-encrypts the token: nothing OneCockpit sees changes.
    const [stored] = (await listStoredTokens(db.sql)).filter((t) => t.accountId === accountId);
    expect(
      await newEvents(() => replaceStoredToken(db.sql, stored!, { ciphertext: 'y', keyId: 'k2' })),
    ).toEqual([]);
    const paused = await newEvents(() => setActive(db.sql, accountId, false));
    expect(paused.map((e) => e.data)).toEqual([{ from: 'active', to: 'paused', error: null }]);
    await setActive(db.sql, accountId, true);
    const rejected = { type: ErrorTypes.invalidToken, message: 'sevDesk rejected the token (401)' };
    const error = await newEvents(() => setInterfaceState(db.sql, accountId, 'error', rejected));
    expect(error.map((e) => e.data)).toEqual([{ from: 'active', to: 'error', error: rejected }]);
    await writeInvoicePage(db.sql, page({ contacts: [eva], invoices: [re('10', '100.00')] }));
    const removed = await newEvents(() => deleteInterface(db.sql, accountId, true));
    expect(types(removed)).toEqual(['interface.state_changed', 'invoice.removed', 'customer.values_changed']);
    expect(removed[0]!.data).toEqual({ from: 'error', to: 'removed', error: null });
    expect(removed[1]!.data).toMatchObject({ sourceId: '10', reason: 'purged' });
    await expectFoldEqualsView();
  });

  it("keeps a customer's value history with the causes", async () => {
    await writeInvoicePage(db.sql, page({ contacts: [eva], invoices: [re('10', '1200.00')] }));
    await writeInvoicePage(db.sql, page({ invoices: [re('24', '287.50')] }));
    const history = await customerValueHistory(db.sql, accountId, ' EVA@firma.de');
    expect(history?.map((e) => [e.data['previous'], e.data['values']])).toEqual([
      [
        { invoices: '0.00', total: '0.00' },
        { invoices: '1200.00', total: '1200.00' },
      ],
      [
        { invoices: '1200.00', total: '1200.00' },
        { invoices: '1487.50', total: '1487.50' },
      ],
    ]);
    expect(await customerValueHistory(db.sql, accountId, 'nobody@x.de')).toBeNull();
  });

  it('says "gone" for a cursor older than what retention keeps, per account and globally', async () => {
    // Retention moves every global cursor's "gone" mark: a database of its own.
    const own = await privateDatabase();
    try {
      await ensureAccount(own.sql, accountId);
      const other = randomId('acct');
      await ensureAccount(own.sql, other);
      await writeInvoicePage(own.sql, page({ contacts: [eva], invoices: [re('10', '100.00')] }));
      const early = await globalEvents(own.sql, undefined, 1);
      await writeInvoicePage(own.sql, pageOf(other, { contacts: [eva], invoices: [re('10', '7.00')] }));
      await own.sql`update events set occurred_at = now() - interval '100 days' where account_id = ${accountId}`;
      const pruned = await pruneEvents(own.sql, { retentionDays: 90, batch: 2 });
      expect(pruned).toEqual({ deleted: 3, batches: 2 });
      await expect(accountEvents(own.sql, accountId, 0)).rejects.toBeInstanceOf(EventsGoneError);
      await writeInvoicePage(own.sql, page({ invoices: [re('11', '5.00')] }));
      const after = await accountEvents(own.sql, accountId, 3);
      expect(types(after.events)).toEqual(['invoice.created', 'customer.values_changed']);
      expect(after.events[0]!.seq).toBe(4);
      // A global cursor given out before the removal, behind what was removed: gone; its `resume` goes on
      // with what is kept. A reader starting now sees only what is kept, and is not told "gone".
      const gone = await globalEvents(own.sql, early.next, 100).catch((err: unknown) => err);
      expect(gone).toBeInstanceOf(EventsGoneError);
      const resumed = await globalEvents(own.sql, (gone as EventsGoneError).resume, 100);
      expect(resumed.events.map((e) => [e.account, e.seq])).toEqual([
        [other, 1],
        [other, 2],
        [other, 3],
        [accountId, 4],
        [accountId, 5],
      ]);
      const fresh = await globalEvents(own.sql, undefined, 2);
      expect((await globalEvents(own.sql, fresh.next, 100)).events).toHaveLength(3);
    } finally {
      await own.drop();
    }
  });
});
