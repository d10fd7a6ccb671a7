import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { registerApi } from '../../src/server/api';
import { bindUseCases } from '../../src/server/app-binding';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, testConfig, testDb } from '../helpers/env';
import { STATUS_KEYS } from '../helpers/status-json';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';

// Bounded requests over HTTP: the status and customer lists a page at a time (keyset, in SQL), one customer by
// e-mail, ETag revalidation of the polled reads, and waits that answer 202 with a Location when the work
// takes longer than the route may hold a request.
const config = testConfig();
const db = testDb();
let worker: RunningWorker;
let sb: Sandbox;
let srv: TestServer;

interface Res {
  statusCode: number;
  json<T = Record<string, unknown>>(): T;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

async function call(
  method: 'GET' | 'POST',
  url: string,
  opts: { body?: unknown; headers?: Record<string, string>; app?: FastifyInstance } = {},
): Promise<Res> {
  const app = opts.app ?? srv.app;
  return (await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${srv.apiToken}`, ...opts.headers },
    ...(opts.body === undefined ? {} : { payload: opts.body as Record<string, unknown> }),
  })) as unknown as Res;
}

beforeAll(async () => {
  worker = await startWorker(config);
  sb = await startSandbox({ seed: 5150, data: { invoices: 150 } });
  srv = await startTestServer(config, sb);
});

afterAll(async () => {
  await srv?.close();
  await worker?.stop();
  await sb?.close();
  await db.close();
});

interface CustomerJson {
  email: string;
  company: string | null;
  values: { invoices: string; total: string };
  invoices: { number: string | null; amount: string }[];
}

/** An account with `n` customers written straight into the database (no interface, no sync). */
async function accountWithCustomers(n: number): Promise<string> {
  const account = randomId('paging');
  await db.sql`insert into accounts (id, name) values (${account}, ${account})`;
  // md5 of the number: the e-mail order is not the insert (id) order.
  await db.sql`
    insert into customers (account_id, email, company)
    select ${account}, 'k' || md5(n::text) || '@paging.example', 'Firma ' || n from generate_series(1, ${n}) n`;
  return account;
}

describe('the new routes', () => {
  it('need the token, and are in the OpenAPI document with their paging parameters', async () => {
    const urls = [
      '/api/accounts/a1/customers/x%40y.de',
      '/api/accounts/a1/syncs/abc',
      '/api/accounts/a1/imports/imp-1',
      '/api/accounts/a1/customers?limit=1',
      '/api/accounts/a1/status?limit=1',
    ];
    for (const url of urls) {
      const r = await srv.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(401);
    }
    const doc = (await call('GET', '/api/openapi.json')).json<{
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    }>();
    for (const p of [
      '/api/accounts/{account}/customers/{email}',
      '/api/accounts/{account}/syncs/{syncId}',
      '/api/accounts/{account}/imports/{importId}',
    ])
      expect(doc.paths[p]?.get, p).toBeDefined();
    for (const p of ['/api/accounts/{account}/customers', '/api/accounts/{account}/status']) {
      const query = (doc.paths[p]?.get?.parameters ?? []).filter((q) => q.in === 'query').map((q) => q.name);
      expect(query.sort(), p).toEqual(['cursor', 'limit']);
    }
  });
});

describe('GET customers, paged', () => {
  it('walks 10,000 customers a page at a time: each exactly once, in order, no page above the limit', async () => {
    const account = await accountWithCustomers(10_000);
    const all = await call('GET', `/api/accounts/${account}/customers`);
    expect(all.statusCode).toBe(200);
    // Without paging parameters: the array of `customers --json`, as before.
    const list = all.json<CustomerJson[]>();
    expect(Array.isArray(list)).toBe(true);
    expect(list).toHaveLength(10_000);
    const inDb = await db.sql<{ email: string }[]>`
      select email from customers where account_id = ${account} order by email`;
    expect(list.map((c) => c.email)).toEqual(inDb.map((r) => r.email));

    for (const limit of [997, 1000]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const r = await call('GET', `/api/accounts/${account}/customers?${q}`);
        expect(r.statusCode, r.body).toBe(200);
        const page = r.json<{ customers: CustomerJson[]; next: string | null }>();
        expect(Object.keys(page).sort()).toEqual(['customers', 'next']);
        expect(page.customers.length).toBeLessThanOrEqual(limit);
        seen.push(...page.customers.map((c) => c.email));
        cursor = page.next;
        pages += 1;
        expect(pages).toBeLessThanOrEqual(Math.ceil(10_000 / limit) + 1);
      } while (cursor !== null);
      expect(pages).toBe(Math.ceil(10_000 / limit));
      expect(seen).toEqual(list.map((c) => c.email));
    }

    // A customer added behind the cursor is not skipped nor repeated: the cursor is the last key, not an offset.
    const first = await call('GET', `/api/accounts/${account}/customers?limit=100`);
    const page1 = first.json<{ customers: CustomerJson[]; next: string }>();
    await db.sql`insert into customers (account_id, email) values (${account}, '0000-first@paging.example')`;
    const page2 = (
      await call('GET', `/api/accounts/${account}/customers?limit=100&cursor=${page1.next}`)
    ).json<{ customers: CustomerJson[] }>();
    expect(page2.customers[0]!.email).toBe(list[100]!.email);

    // A cursor alone pages with the default size; a bad one or a bad limit is a 400 that names it.
    const byCursor = await call('GET', `/api/accounts/${account}/customers?cursor=${page1.next}`);
    expect(byCursor.json<{ customers: unknown[] }>().customers).toHaveLength(100);
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=bm9wZQ', 'cursor'],
    ] as const) {
      const r = await call('GET', `/api/accounts/${account}/customers?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json()).toMatchObject({
        error: { type: 'invalid_input', message: expect.stringContaining(field) },
      });
    }
    const unknown = await call('GET', `/api/accounts/${randomId('nobody')}/customers?limit=10`);
    expect(unknown.statusCode).toBe(404);
  });
});

describe('GET customers/:email', () => {
  it('answers one customer with its invoices (any case), 404 when unknown', async () => {
    const account = await accountWithCustomers(3);
    const [c] = await db.sql<{ id: string; email: string }[]>`
      select id::text, email from customers where account_id = ${account} order by email limit 1`;
    const invoice = (acct: string, sourceId: string, number: string) => db.sql`
      insert into invoices (account_id, customer_id, source, source_id, number, type, invoice_date, source_status,
        status, amount_gross, amount_net, amount, paid_amount, currency, content_hash)
      values (${acct}, ${c!.id}, 'sevdesk', ${sourceId}, ${number}, 'RE', '2026-03-02', '200', 'open', 119, 100,
        119, 0, 'EUR', 'x')`;
    await invoice(account, '1', 'RE-1');

    const r = await call(
      'GET',
      `/api/accounts/${account}/customers/${encodeURIComponent(c!.email.toUpperCase())}`,
    );
    expect(r.statusCode, r.body).toBe(200);
    const one = r.json<CustomerJson>();
    const list = (await call('GET', `/api/accounts/${account}/customers`)).json<CustomerJson[]>();
    expect(one).toEqual(list.find((x) => x.email === c!.email));
    expect(one.invoices.map((i) => i.number)).toEqual(['RE-1']);
    expect(one.invoices[0]).toMatchObject({ amount: '119.00', status: 'open', currency: 'EUR' });

    const missing = await call('GET', `/api/accounts/${account}/customers/nobody%40paging.example`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { type: 'not_found' } });
    const noAccount = await call('GET', `/api/accounts/${randomId('nobody')}/customers/x%40y.de`);
    expect(noAccount.statusCode).toBe(404);
  });
});

describe('GET status, paged', () => {
  it('pages unassigned, invalid and conflicts with one cursor; the counts stay the totals', async () => {
    const account = randomId('paging-status');
    // Deactivated: nothing syncs, so the issues written below stay as they are.
    const add = await call('POST', `/api/accounts/${account}/interface`, {
      body: { token: sb.token, inactive: true },
    });
    expect(add.statusCode, add.body).toBe(201);
    // The same sevDesk id in two sources, numbers repeated and missing: the order needs its tie-breaks.
    await db.sql`
      insert into invoice_issues (account_id, source, source_id, invoice_number, kind, reason, resolved_at)
      select ${account}, case when n % 2 = 0 then 'sevdesk' else 'lexoffice' end, ((n + 1) / 2)::text,
        case when n % 4 = 0 then null else 'RE-' || lpad((n % 7)::text, 3, '0') end,
        case when n <= 23 then 'unassigned' else 'invalid' end, 'reason ' || n,
        case when n in (5, 30) then now() else null end
      from generate_series(1, 33) n`;
    await db.sql`
      insert into invoices (account_id, source, source_id, number, type, source_status, status, amount_gross,
        amount_net, amount, paid_amount, currency, content_hash)
      select ${account}, s, 'k' || n || s, 'K-' || lpad(n::text, 2, '0'), 'RE', '200', 'open', 1, 1, 1, 0, 'EUR', 'x'
      from generate_series(1, 6) n, (values ('sevdesk'), ('lexoffice')) v(s)`;

    const full = await call('GET', `/api/accounts/${account}/status`);
    expect(full.statusCode, full.body).toBe(200);
    const whole = full.json<{
      unassigned: unknown[];
      invalid: unknown[];
      conflicts: unknown[];
      counts: Record<string, number>;
    }>();
    // Without paging parameters: the shape of `status --json`, without `next`.
    expect(Object.keys(whole).sort()).toEqual(STATUS_KEYS);
    expect(whole.unassigned).toHaveLength(22);
    expect(whole.invalid).toHaveLength(9);
    expect(whole.conflicts).toHaveLength(6);

    const limit = 4;
    const got = { unassigned: [] as unknown[], invalid: [] as unknown[], conflicts: [] as unknown[] };
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await call('GET', `/api/accounts/${account}/status?${q}`);
      expect(r.statusCode, r.body).toBe(200);
      const page = r.json<typeof whole & { next: string | null }>();
      expect(Object.keys(page).sort()).toEqual([...STATUS_KEYS, 'next'].sort());
      expect(page.counts).toEqual(whole.counts);
      for (const k of ['unassigned', 'invalid', 'conflicts'] as const) {
        expect(page[k].length).toBeLessThanOrEqual(limit);
        got[k].push(...page[k]);
      }
      cursor = page.next;
      pages += 1;
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(Math.ceil(22 / limit));
    expect(got).toEqual({
      unassigned: whole.unassigned,
      invalid: whole.invalid,
      conflicts: whole.conflicts,
    });
    // The same cursor on another route is refused.
    const customersCursor = (await call('GET', `/api/accounts/${account}/status?limit=1`)).json<{
      next: string;
    }>().next;
    const wrong = await call('GET', `/api/accounts/${account}/customers?cursor=${customersCursor}`);
    expect(wrong.statusCode).toBe(400);

    await srv.app.inject({
      method: 'DELETE',
      url: `/api/accounts/${account}/interface?purge=true`,
      headers: { authorization: `Bearer ${srv.apiToken}` },
    });
  });
});

describe('ETag', () => {
  it('answers 304 without a body to a matching If-None-Match, 200 with a new ETag once it changed', async () => {
    const account = randomId('etag');
    const add = await call('POST', `/api/accounts/${account}/interface`, {
      body: { token: sb.token, inactive: true },
    });
    expect(add.statusCode, add.body).toBe(201);
    for (const path of ['status', 'customers', 'customers?limit=2', 'status?limit=2']) {
      const url = `/api/accounts/${account}/${path}`;
      const first = await call('GET', url);
      expect(first.statusCode, path).toBe(200);
      const etag = String(first.headers.etag);
      expect(etag, path).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
      expect(first.headers['cache-control'], path).toBe('no-cache');
      const again = await call('GET', url, { headers: { 'if-none-match': etag } });
      expect(again.statusCode, path).toBe(304);
      expect(again.body, path).toBe('');
      expect(again.headers.etag, path).toBe(etag);
      const stale = await call('GET', url, { headers: { 'if-none-match': 'W/"stale", "other"' } });
      expect(stale.statusCode, path).toBe(200);
      expect(stale.body, path).toBe(first.body);
    }
    const before = await call('GET', `/api/accounts/${account}/customers`);
    await db.sql`insert into customers (account_id, email) values (${account}, 'neu@etag.example')`;
    const after = await call('GET', `/api/accounts/${account}/customers`, {
      headers: { 'if-none-match': String(before.headers.etag) },
    });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const one = await call('GET', `/api/accounts/${account}/customers/neu%40etag.example`);
    const oneAgain = await call('GET', `/api/accounts/${account}/customers/neu%40etag.example`, {
      headers: { 'if-none-match': String(one.headers.etag) },
    });
    expect(oneAgain.statusCode).toBe(304);
    // The other routes keep no-store and carry no ETag.
    const events = await call('GET', `/api/accounts/${account}/events`);
    expect(events.headers['cache-control']).toBe('no-store');
    expect(events.headers.etag).toBeUndefined();
    await srv.app.inject({
      method: 'DELETE',
      url: `/api/accounts/${account}/interface?purge=true`,
      headers: { authorization: `Bearer ${srv.apiToken}` },
    });
  });
});

describe('bounded waits', () => {
  let short: FastifyInstance;
  beforeAll(async () => {
    // The API alone, registered with a 1 s wait (the server's default is 25 s).
    const useCases = bindUseCases(srv.deps);
    short = Fastify();
    short.setValidatorCompiler(validatorCompiler);
    short.setSerializerCompiler(serializerCompiler);
    short.decorateRequest('principal', null);
    short.setErrorHandler((err, _req, reply) => {
      if (hasZodFastifySchemaValidationErrors(err))
        return reply.code(400).send({ error: { type: 'invalid_input', message: err.message } });
      const known = useCases.classify(err);
      if (known)
        return reply.code(known.status).send({ error: { type: known.type, message: known.message } });
      return reply.code(500).send({ error: { type: 'internal', message: String(err) } });
    });
    registerApi(short, {
      useCases,
      sessions: useCases.sessions!,
      origin: () => 'http://localhost',
      waitMs: 1000,
    });
    await short.ready();
  });
  afterAll(() => short?.close());

  it('answers 202 with a Location when a sync or a dry run takes longer, and the Location the result later', async () => {
    const account = randomId('wait');
    const add = await call('POST', `/api/accounts/${account}/interface`, {
      body: { token: sb.token, intervalSeconds: 3600 },
    });
    expect(add.statusCode, add.body).toBe(201);
    await eventually(
      async () => {
        const s = (await call('GET', `/api/accounts/${account}/status`)).json<{
          state: string;
          import: { state: string } | null;
        }>();
        return s.import?.state === 'done' && s.state === 'idle';
      },
      120_000,
      'the first import',
    );

    // sevDesk answers the invoice list slowly: the sync outlasts the route's 1 s.
    sb.faults.add({ kind: 'slow', delayMs: 4000, path: '/Invoice', times: 1 });
    const t0 = Date.now();
    const synced = await call('POST', `/api/accounts/${account}/sync-now`, {
      body: { wait: true },
      app: short,
    });
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(synced.statusCode, synced.body).toBe(202);
    const location = String(synced.headers.location);
    expect(location).toMatch(new RegExp(`^/api/accounts/${account}/syncs/[^/]+$`));
    expect(synced.json()).toEqual({
      requested: true,
      syncId: expect.any(String),
      state: 'running',
      location,
    });
    const counts = await eventually(
      async () => {
        const r = await call('GET', location, { app: short });
        if (r.statusCode === 202) {
          expect(r.headers.location).toBe(location);
          return undefined;
        }
        expect(r.statusCode, r.body).toBe(200);
        return r.json();
      },
      60_000,
      'the sync to finish',
    );
    expect(counts).toMatchObject({ fetched: expect.any(Number), written: expect.any(Number), invalid: 0 });
    // Asked again later, the same answer; through the full server too.
    expect((await call('GET', location)).json()).toEqual(counts);
    const unknownSync = await call('GET', `/api/accounts/${account}/syncs/not-a-sync`);
    expect(unknownSync.statusCode).toBe(404);

    // Within the wait the answer stays as it was: 200 with the counts.
    const quick = await call('POST', `/api/accounts/${account}/sync-now`, {
      body: { wait: true },
      app: short,
    });
    expect(quick.statusCode, quick.body).toBe(200);
    expect(quick.json()).toMatchObject({ fetched: expect.any(Number) });

    // A dry-run import the same way: 202 with its progress, then its figures at the Location.
    sb.faults.add({ kind: 'slow', delayMs: 3000, path: '/Invoice', times: 1 });
    const dry = await call('POST', `/api/accounts/${account}/import`, { body: { dryRun: true }, app: short });
    expect(dry.statusCode, dry.body).toBe(202);
    const importAt = String(dry.headers.location);
    const started = dry.json<{ importId: string; location: string }>();
    expect(importAt).toBe(`/api/accounts/${account}/imports/${started.importId}`);
    expect(dry.json()).toMatchObject({
      importId: expect.any(String),
      workflowId: expect.any(String),
      dryRun: true,
      state: expect.stringMatching(/^(running|paused)$/),
      location: importAt,
    });
    const figures = await eventually(
      async () => {
        const r = await call('GET', importAt, { app: short });
        if (r.statusCode === 202) return undefined;
        expect(r.statusCode, r.body).toBe(200);
        return r.json();
      },
      60_000,
      'the dry run to finish',
    );
    expect(figures).toMatchObject({ importId: started.importId, dryRun: true, invoices: expect.any(Number) });
    expect(JSON.stringify(figures)).not.toContain('tailIds');
    const unknownImport = await call('GET', `/api/accounts/${account}/imports/imp-00000000`);
    expect(unknownImport.statusCode).toBe(404);

    await srv.app.inject({
      method: 'DELETE',
      url: `/api/accounts/${account}/interface?purge=true`,
      headers: { authorization: `Bearer ${srv.apiToken}` },
    });
  });
});
