import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { ChangeEvent } from '../../src/db/events';
import { pruneEvents } from '../../src/db/events';
import { foldEvents } from '../../src/domain/event-fold';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, testConfig, testDb } from '../helpers/env';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';
import { canonicalCustomers } from '../helpers/feed';
import { privateDatabase } from '../helpers/private-db';

// The change feed over HTTP, fed by the real worker: an import, then sevDesk changes synced one by one.
// After each step the account's events folded from the first one equal `customers`; a sync that finds
// nothing new adds no event.

const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;
let srv: TestServer;
const db = testDb();

beforeAll(async () => {
  worker = await startWorker(config);
  sb = await startSandbox({ seed: 2525, data: { invoices: 60 } });
  srv = await startTestServer(config, sb);
});

afterAll(async () => {
  await srv?.close();
  await worker?.stop();
  await sb?.close();
  await db.close();
});

async function call<T = Record<string, unknown>>(
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<{ statusCode: number; body: string; json(): T }> {
  return (await srv.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${srv.apiToken}` },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  })) as unknown as { statusCode: number; body: string; json(): T };
}

async function feed(account: string, after = 0): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for (;;) {
    const r = await call<{ events: ChangeEvent[]; next: number }>(
      'GET',
      `/api/accounts/${account}/events?after=${after}&limit=50`,
    );
    expect(r.statusCode, r.body).toBe(200);
    const { events, next } = r.json();
    if (events.length === 0) return out;
    out.push(...events);
    after = next;
  }
}

async function expectFoldEqualsCustomers(account: string): Promise<ChangeEvent[]> {
  const events = await feed(account);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const customers = (
    await call<{ email: string; invoices: unknown[] }[]>('GET', `/api/accounts/${account}/customers`)
  ).json();
  expect(canonicalCustomers(foldEvents(events))).toEqual(canonicalCustomers(customers));
  return events;
}

async function syncNow(account: string) {
  const r = await call('POST', `/api/accounts/${account}/sync-now`, { wait: true });
  expect(r.statusCode, r.body).toBe(200);
}

describe('the change feed over HTTP', () => {
  it('folds to what `customers` shows after an import and after each synced change, and says nothing when nothing changed', async () => {
    const account = randomId('feed');
    const add = await call('POST', `/api/accounts/${account}/interface`, {
      token: sb.token,
      intervalSeconds: 3600,
    });
    expect(add.statusCode, add.body).toBe(201);
    await eventually(
      async () => {
        const s = (
          await call<{ import: { state: string } | null; state: string }>(
            'GET',
            `/api/accounts/${account}/status`,
          )
        ).json();
        return s.import?.state === 'done' && s.state === 'idle' ? s : undefined;
      },
      120_000,
      'the first import',
    );
    const imported = await expectFoldEqualsCustomers(account);
    expect(imported[0]).toMatchObject({
      seq: 1,
      type: 'interface.state_changed',
      data: { from: null, to: 'active' },
    });
    expect(imported.filter((e) => e.type === 'import.finished')).toHaveLength(1);
    // The import defers the values to its end: each customer's event then names the imported invoices.
    const values = imported.filter((e) => e.type === 'customer.values_changed');
    expect(values.length).toBeGreaterThan(0);
    for (const v of values)
      expect((v.data['causes'] as { change: string }[]).every((c) => c.change === 'created')).toBe(true);
    expect(values.some((v) => (v.data['causes'] as unknown[]).length > 0)).toBe(true);

    // An idle cycle: nothing new in sevDesk, no event.
    await syncNow(account);
    expect(await feed(account, imported.length)).toEqual([]);

    // A payment, a new invoice and a cancellation, synced.
    const open = [...sb.store.invoices()].filter(
      (i) =>
        i.status === '200' && i.invoiceType === 'RE' && sb.store.communicationWays(i.contact.id).length > 0,
    );
    expect(open.length).toBeGreaterThan(2);
    sb.store.payInvoice(open[0]!.id);
    sb.store.addInvoice({ contactId: open[1]!.contact.id, sumNet: '100.10', taxRate: 19 });
    sb.store.cancelInvoice(open[2]!.id);
    await syncNow(account);
    const changed = await feed(account, imported.length);
    expect(changed.map((e) => e.type)).toEqual(
      expect.arrayContaining(['invoice.updated', 'invoice.created', 'customer.values_changed']),
    );
    const events = await expectFoldEqualsCustomers(account);

    // Why the value of the new invoice's customer changed.
    const created = changed.find((e) => e.type === 'invoice.created')!;
    const email = String(created.data['customer']);
    const history = await call<{ history: ChangeEvent[] }>(
      'GET',
      `/api/accounts/${account}/customers/${encodeURIComponent(email)}/history`,
    );
    expect(history.statusCode, history.body).toBe(200);
    expect(history.json().history.at(-1)?.data['causes']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sourceId: created.data['sourceId'], change: 'created' }),
      ]),
    );

    // The global feed carries the same events of this account, in the same order. The watermark is the
    // whole server's (another test's open transaction holds it back for a moment): follow until they came.
    const global: ChangeEvent[] = [];
    let cursor: string | undefined;
    const until = Date.now() + 60_000;
    while (global.length < events.length && Date.now() < until) {
      const r = await call<{ events: ChangeEvent[]; next: string }>(
        'GET',
        `/api/events?limit=1000${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(r.statusCode, r.body).toBe(200);
      const page = r.json();
      global.push(...page.events.filter((e) => e.account === account));
      cursor = page.next;
      if (page.events.length === 0) await new Promise((res) => setTimeout(res, 50));
    }
    expect(global.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('answers 400 for a cursor it never gave, 404 for an unknown account or customer, 410 past the retention', async () => {
    expect((await call('GET', '/api/events?after=bm90LWEtY3Vyc29y')).statusCode).toBe(400);
    expect((await call('GET', '/api/accounts/nobody-here/events')).statusCode).toBe(404);
    expect((await call('GET', '/api/accounts/x/events?limit=5000')).statusCode).toBe(400);
    // Retention moves every global cursor's "gone" mark: a database and a server of their own.
    const own = await privateDatabase();
    const server = await startTestServer({ ...config, databaseUrl: own.url }, sb);
    try {
      const get = async (url: string) =>
        (await server.app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${server.apiToken}` },
        })) as unknown as {
          statusCode: number;
          json(): { error: { type: string; message: string } };
        };
      const account = randomId('gone');
      await own.sql`insert into accounts (id, name) values (${account}, ${account})`;
      await own.sql`insert into customers (account_id, email) values (${account}, 'a@b.de')`;
      expect((await get(`/api/accounts/${account}/customers/nobody%40x.de/history`)).statusCode).toBe(404);
      await own.sql`update events set occurred_at = now() - interval '91 days' where account_id = ${account}`;
      await pruneEvents(own.sql, { retentionDays: 90 });
      const gone = await get(`/api/accounts/${account}/events?after=0`);
      expect(gone.statusCode).toBe(410);
      expect(gone.json().error).toMatchObject({ type: 'gone', message: expect.stringMatching(/customers/) });
      const resume = /after=(\d+)/.exec(gone.json().error.message)?.[1];
      expect(resume).toBe('1');
      expect((await get(`/api/accounts/${account}/events?after=${resume}`)).statusCode).toBe(200);
    } finally {
      await server.close();
      await own.drop();
    }
  });
});
