import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, testConfig, testDb } from '../helpers/env';
import { truthOf, viewOf } from '../helpers/truth';
import { STATUS_KEYS } from '../helpers/status-json';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';

// The JSON API of `sevsync serve` against the real application layer, worker and a sandbox.
const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;
let sb2: Sandbox;
let srv: TestServer;
let srv2: TestServer;
const db = testDb();

interface Res {
  statusCode: number;
  json<T = Record<string, unknown>>(): T;
  body: string;
  headers: Record<string, unknown>;
}

async function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  opts: { token?: string | null; server?: TestServer } = {},
): Promise<Res> {
  const s = opts.server ?? srv;
  const token = opts.token === undefined ? s.apiToken : opts.token;
  return (await s.app.inject({
    method,
    url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  })) as unknown as Res;
}

async function settled(account: string, server = srv) {
  return eventually(
    async () => {
      const r = await call('GET', `/api/accounts/${account}/status`, undefined, { server });
      const s = r.json<{ import: { state: string } | null; state: string }>();
      return r.statusCode === 200 && s.import?.state === 'done' && s.state === 'idle' ? s : undefined;
    },
    120_000,
    `the first import of ${account}`,
  );
}

beforeAll(async () => {
  worker = await startWorker(config);
  sb = await startSandbox({ seed: 1212, data: { invoices: 120 } });
  sb2 = await startSandbox({ seed: 3434, data: { invoices: 80 } });
  srv = await startTestServer(config, sb);
  srv2 = await startTestServer(config, sb2);
});

afterAll(async () => {
  await srv?.close();
  await srv2?.close();
  await worker?.stop();
  await sb?.close();
  await sb2?.close();
  await db.close();
});

describe('HTTP API: auth', () => {
  const routes: ['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown?][] = [
    ['POST', '/api/accounts/a1/interface', { token: 'a'.repeat(32) }],
    ['PATCH', '/api/accounts/a1/interface', { active: false }],
    ['DELETE', '/api/accounts/a1/interface'],
    ['POST', '/api/accounts/a1/sync-now'],
    ['POST', '/api/accounts/a1/import', {}],
    ['POST', '/api/accounts/a1/reconcile', {}],
    ['GET', '/api/accounts/a1/status'],
    ['GET', '/api/accounts/a1/customers'],
    ['GET', '/api/openapi.json'],
    ['POST', '/api/sign-in-links', {}],
  ];

  it('answers 401 on every API route without the token or with a wrong one, and stores nothing', async () => {
    for (const [method, url, body] of routes) {
      for (const token of [null, 'wrong-token-0123456789']) {
        const r = await call(method, url, body, { token });
        expect(r.statusCode, `${method} ${url} with ${token ?? 'no token'}`).toBe(401);
        expect(r.json()).toEqual({ error: { type: 'unauthorized', message: expect.any(String) } });
        expect(r.headers['www-authenticate']).toContain('Bearer');
      }
    }
    const rows = await db.sql`select 1 from interfaces where account_id = 'a1'`;
    expect(rows).toHaveLength(0);
  });

  it('sends pages to the sign-in form without a session, and refuses a wrong sign-in', async () => {
    for (const url of [
      '/ui/accounts/a1/interface',
      '/ui/accounts/a1/customers',
      '/ui/accounts/a1/customers/x%40y.de',
    ]) {
      const r = await srv.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(302);
      expect(r.headers.location).toBe(`/ui/sign-in?next=${encodeURIComponent(url)}`);
    }
    const origin = 'http://localhost:80';
    const bad = await srv.app.inject({
      method: 'POST',
      url: '/ui/sign-in',
      headers: { origin, host: 'localhost:80' },
      payload: { token: 'nope', next: '/ui/' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    // A form post from another site is refused before anything else (login CSRF too).
    const cross = await srv.app.inject({
      method: 'POST',
      url: '/ui/sign-in',
      headers: { origin: 'https://evil.example', host: 'localhost:80' },
      payload: { token: srv.apiToken, next: '/ui/' },
    });
    expect(cross.statusCode).toBe(403);
  });

  it('gives an HttpOnly, SameSite=Strict session cookie for the right token; cookie writes need our Origin', async () => {
    const host = 'localhost:80';
    const ok = await srv.app.inject({
      method: 'POST',
      url: '/ui/sign-in',
      headers: { origin: `http://${host}`, host, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${srv.apiToken}&next=${encodeURIComponent('https://evil.example/')}`,
    });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/ui/'); // no open redirect
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toContain(srv.apiToken);
    const session = cookie.split(';')[0]!;
    const asBrowser = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}) =>
      srv.app.inject({ method, url, headers: { cookie: session, host, ...headers } });
    expect((await asBrowser('GET', '/api/accounts/nobody/status')).statusCode).toBe(404);
    const crossSite = await asBrowser('POST', '/api/accounts/nobody/sync-now', {
      origin: 'https://evil.example',
    });
    expect(crossSite.statusCode).toBe(403);
    expect((await asBrowser('POST', '/api/accounts/nobody/sync-now')).statusCode).toBe(403); // no Origin
    const lost = await asBrowser('GET', '/ui/nowhere');
    expect(lost.statusCode).toBe(404);
    expect(lost.headers['content-type']).toMatch(/^text\/html/);
    expect(lost.headers['content-security-policy']).toMatch(/script-src 'self';\s*style-src 'self'/);
    expect(lost.headers['content-security-policy']).not.toMatch(/unsafe|nonce-/);
    const forged = await asBrowser('GET', '/api/accounts/nobody/status', {
      cookie: `${session.split('.')[0]}.forged`,
    });
    expect(forged.statusCode).toBe(401);
  });

  it("serves the pages' stylesheet and scripts without a session, by content-hashed name, cached for good", async () => {
    const signIn = await call('GET', '/ui/sign-in/link', undefined, { token: null });
    expect(signIn.statusCode).toBe(200);
    const urls = [...signIn.body.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      const r = await call('GET', url, undefined, { token: null });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toMatch(
        url.endsWith('.css') ? /^text\/css; charset=utf-8/ : /^text\/javascript; charset=utf-8/,
      );
      expect(r.headers['cache-control'], url).toBe('public, max-age=31536000, immutable');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.body.length).toBeGreaterThan(100);
    }
    const stale = await call('GET', urls[0]!.replace(/\.[0-9a-f]{16}\./, '.0000000000000000.'), undefined, {
      token: null,
    });
    expect(stale.statusCode).toBe(404);
  });

  it('publishes an OpenAPI document naming every route', async () => {
    const r = await call('GET', '/api/openapi.json');
    expect(r.statusCode).toBe(200);
    const doc = r.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.entries(doc.paths).flatMap(([p, m]) =>
      Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`),
    );
    for (const [method, url] of routes) {
      if (url === '/api/openapi.json') continue;
      expect(ops).toContain(`${method} ${url.replace('/a1/', '/{account}/')}`);
    }
    expect(ops.some((o) => o.includes('/ui/'))).toBe(false);
  });
});

describe('HTTP API: bad input', () => {
  it('answers 400 naming the field, and stores nothing', async () => {
    const account = randomId('bad');
    const cases: [string, 'POST' | 'PATCH' | 'DELETE', string, unknown, string][] = [
      ['short token', 'POST', `/api/accounts/${account}/interface`, { token: 'abc' }, 'token'],
      ['missing token', 'POST', `/api/accounts/${account}/interface`, {}, 'token'],
      [
        'interval 0',
        'POST',
        `/api/accounts/${account}/interface`,
        { token: 'a'.repeat(32), intervalSeconds: 0 },
        'intervalSeconds',
      ],
      [
        'amount basis',
        'POST',
        `/api/accounts/${account}/interface`,
        { token: 'a'.repeat(32), amountBasis: 'brutto' },
        'amountBasis',
      ],
      [
        'unknown field',
        'POST',
        `/api/accounts/${account}/interface`,
        { token: 'a'.repeat(32), baseUrl: 'http://x' },
        'baseUrl',
      ],
      [
        'bad account id',
        'POST',
        `/api/accounts/${encodeURIComponent('a b')}/interface`,
        { token: 'a'.repeat(32) },
        'account',
      ],
      ['active not boolean', 'PATCH', `/api/accounts/${account}/interface`, { active: 'yes' }, 'active'],
      ['empty patch', 'PATCH', `/api/accounts/${account}/interface`, {}, 'body'],
      ['dryRun not boolean', 'POST', `/api/accounts/${account}/import`, { dryRun: 1 }, 'dryRun'],
      ['purge', 'DELETE', `/api/accounts/${account}/interface?purge=yes`, undefined, 'purge'],
    ];
    for (const [what, method, url, body, field] of cases) {
      const r = await call(method, url, body);
      expect(r.statusCode, what).toBe(400);
      const e = r.json<{ error: { type: string; message: string } }>().error;
      expect(e.type, what).toBe('invalid_input');
      expect(e.message, what).toContain(field);
    }
    const broken = await srv.app.inject({
      method: 'POST',
      url: `/api/accounts/${account}/interface`,
      headers: { authorization: `Bearer ${srv.apiToken}`, 'content-type': 'application/json' },
      payload: '{"token": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ error: { type: 'invalid_input' } });
    expect(await db.sql`select 1 from accounts where id = ${account}`).toHaveLength(0);
  });

  it('answers 422 for a token sevDesk rejects, without the token in the answer, and stores nothing', async () => {
    const account = randomId('rejected');
    const token = 'f'.repeat(32);
    const r = await call('POST', `/api/accounts/${account}/interface`, { token });
    expect(r.statusCode).toBe(422);
    const e = r.json<{ error: { type: string; message: string } }>().error;
    expect(e.type).toBe('invalid_token');
    expect(e.message).toMatch(/token/i);
    expect(r.body).not.toContain(token);
    expect(await db.sql`select 1 from interfaces where account_id = ${account}`).toHaveLength(0);
    expect((await call('GET', `/api/accounts/${account}/status`)).statusCode).toBe(404);
    expect((await call('GET', `/api/accounts/${account}/customers`)).statusCode).toBe(404);
  });

  it('answers 404 for routes of an account without an interface', async () => {
    const account = randomId('none');
    for (const [method, url, body] of [
      ['PATCH', 'interface', { active: true }],
      ['DELETE', 'interface', undefined],
      ['POST', 'sync-now', undefined],
      ['POST', 'import', {}],
      ['POST', 'reconcile', {}],
      ['GET', 'status', undefined],
    ] as const) {
      const r = await call(method, `/api/accounts/${account}/${url}`, body);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.json()).toMatchObject({
        error: { type: 'not_found', message: expect.stringContaining(account) },
      });
    }
  });
});

describe('HTTP API: the interface, end to end', () => {
  it('adds, syncs, imports, reconciles, changes, deactivates and removes through every route', async () => {
    const account = randomId('api');
    const add = await call('POST', `/api/accounts/${account}/interface`, {
      token: sb.token,
      intervalSeconds: 60,
    });
    expect(add.statusCode, add.body).toBe(201);
    expect(add.body).not.toContain(sb.token);
    expect(Object.keys(add.json()).sort()).toEqual(STATUS_KEYS);
    expect(add.json()).toMatchObject({ account, active: true });

    // A retry of the same add (e.g. after a timeout) is not an error.
    const again = await call('POST', `/api/accounts/${account}/interface`, {
      token: sb.token,
      intervalSeconds: 60,
    });
    expect(again.statusCode, again.body).toBe(201);

    const s = await settled(account);
    expect(s).toMatchObject({
      account,
      active: true,
      state: 'idle',
      error: null,
      conflicts: [],
      heldSweep: null,
    });
    expect(Object.keys(s).sort()).toEqual(STATUS_KEYS);
    const counts = (s as unknown as { counts: Record<string, number> }).counts;
    expect(Object.keys(counts).sort()).toEqual(['customers', 'invalid', 'invoices', 'unassigned']);

    const cust = await call('GET', `/api/accounts/${account}/customers`);
    expect(cust.statusCode).toBe(200);
    const list = cust.json<
      {
        email: string;
        values: { invoices: string };
        invoices: { number: string; status: string; amount: string; paidAmount: string }[];
      }[]
    >();
    expect(list.map((c) => c.email)).toEqual([...list.map((c) => c.email)].sort());
    const unassigned = (s as unknown as { unassigned: { sourceId: string }[] }).unassigned;
    expect(viewOf(list, unassigned)).toEqual(truthOf(sb.store));
    expect(list[0]).toMatchObject({
      values: {
        invoices: expect.stringMatching(/^-?\d+\.\d{2}$/),
        total: expect.stringMatching(/^-?\d+\.\d{2}$/),
      },
      currency: 'EUR',
    });

    // sevDesk changes; sync-now with wait answers with the counts, without wait it is only requested.
    const contact = [...sb.store.contacts()].find((c) =>
      sb.store.communicationWays(c.id).some((w) => w.type === 'EMAIL'),
    )!;
    const paid = sb.store.addInvoice({ contactId: contact.id, sumNet: '100', taxRate: 19 });
    sb.store.payInvoice(paid.id);
    const synced = await call('POST', `/api/accounts/${account}/sync-now`, { wait: true });
    expect(synced.statusCode, synced.body).toBe(200);
    expect(synced.json()).toMatchObject({
      fetched: expect.any(Number),
      written: expect.any(Number),
      invalid: 0,
    });
    expect(synced.json<{ fetched: number }>().fetched).toBeGreaterThan(0);
    const requested = await call('POST', `/api/accounts/${account}/sync-now`);
    expect(requested.statusCode).toBe(202);
    expect(requested.json()).toEqual({ requested: true });
    const after = (await call('GET', `/api/accounts/${account}/customers`)).json<typeof list>();
    expect(viewOf(after, unassigned)).toEqual(truthOf(sb.store));

    const dry = await call('POST', `/api/accounts/${account}/import`, { dryRun: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, importId: expect.any(String) });
    expect(dry.body).not.toContain('tailIds');

    const imp = await call('POST', `/api/accounts/${account}/import`, {});
    expect(imp.statusCode, imp.body).toBe(202);
    expect(imp.json()).toMatchObject({
      importId: expect.any(String),
      workflowId: expect.any(String),
      dryRun: false,
    });
    expect(Object.keys(imp.json())).toEqual(
      expect.arrayContaining(['done', 'dryRun', 'importId', 'state', 'total', 'workflowId']),
    );
    await eventually(
      async () => {
        const st = (await call('GET', `/api/accounts/${account}/status`)).json<{
          import: { importId: string; state: string };
        }>();
        return st.import.importId === imp.json<{ importId: string }>().importId && st.import.state === 'done';
      },
      60_000,
      'the second import',
    );

    const rec = await call('POST', `/api/accounts/${account}/reconcile`, { wait: true });
    expect(rec.statusCode, rec.body).toBe(200);
    expect(rec.json()).toMatchObject({ dryRun: false, importId: expect.any(String) });
    const nothingHeld = await call('POST', `/api/accounts/${account}/reconcile`, { confirm: true });
    expect(nothingHeld.statusCode).toBe(404);
    expect(nothingHeld.json()).toMatchObject({ error: { type: 'not_found' } });

    // Settings change only while deactivated.
    const refused = await call('PATCH', `/api/accounts/${account}/interface`, { intervalSeconds: 120 });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      error: { type: 'conflict', message: expect.stringMatching(/deactivate/) },
    });
    const off = await call('PATCH', `/api/accounts/${account}/interface`, { active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({ active: false, state: 'paused' });
    const inactiveSync = await call('POST', `/api/accounts/${account}/sync-now`);
    expect(inactiveSync.statusCode).toBe(409);
    expect(inactiveSync.json()).toMatchObject({ error: { type: 'inactive' } });
    const badToken = await call('PATCH', `/api/accounts/${account}/interface`, { token: 'e'.repeat(32) });
    expect(badToken.statusCode).toBe(422);
    const changed = await call('PATCH', `/api/accounts/${account}/interface`, {
      intervalSeconds: 120,
      amountBasis: 'gross',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const [row] = await db.sql<
      { settings: { intervalSeconds: number } }[]
    >`select settings from interfaces where account_id = ${account}`;
    expect(row?.settings.intervalSeconds).toBe(120);
    const on = await call('PATCH', `/api/accounts/${account}/interface`, { active: true });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({ active: true });

    const del = await call('DELETE', `/api/accounts/${account}/interface?purge=true`);
    expect(del.statusCode, del.body).toBe(204);
    expect((await call('GET', `/api/accounts/${account}/status`)).statusCode).toBe(404);
    expect(await db.sql`select 1 from invoices where account_id = ${account}`).toHaveLength(0);
  });
});

describe('HTTP API: tenancy', () => {
  it('never shows one account the data of another', async () => {
    const a = randomId('tenant-a');
    const b = randomId('tenant-b');
    expect((await call('POST', `/api/accounts/${a}/interface`, { token: sb.token })).statusCode).toBe(201);
    expect(
      (await call('POST', `/api/accounts/${b}/interface`, { token: sb2.token }, { server: srv2 })).statusCode,
    ).toBe(201);
    const sa = await settled(a);
    const sbStatus = await settled(b, srv2);

    // Asked through the same server, each account's answer is exactly its own sevDesk's data.
    const custA = (await call('GET', `/api/accounts/${a}/customers`)).json<Parameters<typeof viewOf>[0]>();
    const custB = (await call('GET', `/api/accounts/${b}/customers`)).json<Parameters<typeof viewOf>[0]>();
    const un = (s: unknown) => (s as { unassigned: { sourceId: string }[] }).unassigned;
    expect(viewOf(custA, un(sa))).toEqual(truthOf(sb.store));
    expect(viewOf(custB, un(sbStatus))).toEqual(truthOf(sb2.store));
    const emailsB = new Set(custB.map((c) => c.email));
    const onlyA = custA.find((c) => !emailsB.has(c.email) && c.invoices.length > 0)!;
    // A customer of A's that B has not, with invoices of A's sevDesk: the probe below.
    expect(onlyA).toMatchObject({
      email: expect.stringMatching(/@/),
      invoices: expect.arrayContaining([expect.objectContaining({ number: expect.any(String) })]),
    });
    expect(Object.keys(truthOf(sb.store).customers)).toContain(onlyA.email);

    // A's customer is not reachable under B's account, not even by its exact e-mail.
    const session = await signInLink(a);
    const host = 'localhost:80';
    const own = await srv.app.inject({
      method: 'GET',
      url: `/ui/accounts/${a}/customers/${encodeURIComponent(onlyA.email)}`,
      headers: { cookie: session, host },
    });
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain(onlyA.email.replace(/&/g, '&amp;'));
    const tokenSession = await signInWithToken();
    const other = await srv.app.inject({
      method: 'GET',
      url: `/ui/accounts/${b}/customers/${encodeURIComponent(onlyA.email)}`,
      headers: { cookie: tokenSession, host },
    });
    expect(other.statusCode).toBe(404);
    expect(other.body).not.toContain(onlyA.email);

    // A session opened by a sign-in link for A may see only A.
    for (const url of [
      `/api/accounts/${b}/status`,
      `/api/accounts/${b}/customers`,
      `/ui/accounts/${b}/interface`,
      `/ui/accounts/${b}/customers`,
    ]) {
      const r = await srv.app.inject({ method: 'GET', url, headers: { cookie: session, host } });
      expect(r.statusCode, url).toBe(403);
      expect(r.body).not.toContain(custB[0]!.email);
    }
    const write = await srv.app.inject({
      method: 'POST',
      url: `/api/accounts/${b}/sync-now`,
      headers: { cookie: session, host, origin: `http://${host}` },
    });
    expect(write.statusCode).toBe(403);
    expect(
      (
        await srv.app.inject({
          method: 'GET',
          url: `/api/accounts/${a}/status`,
          headers: { cookie: session, host },
        })
      ).statusCode,
    ).toBe(200);
    // Links are made with the API token only, and work once.
    expect(
      (
        await srv.app.inject({
          method: 'POST',
          url: '/api/sign-in-links',
          headers: { cookie: session, host, origin: `http://${host}` },
          payload: {},
        })
      ).statusCode,
    ).toBe(403);

    await call('DELETE', `/api/accounts/${a}/interface?purge=true`);
    await call('DELETE', `/api/accounts/${b}/interface?purge=true`);
  });
});

async function signInWithToken(): Promise<string> {
  const host = 'localhost:80';
  const r = await srv.app.inject({
    method: 'POST',
    url: '/ui/sign-in',
    headers: { origin: `http://${host}`, host },
    payload: { token: srv.apiToken, next: '/ui/' },
  });
  expect(r.statusCode).toBe(303);
  return String(r.headers['set-cookie']).split(';')[0]!;
}

async function signInLink(account: string): Promise<string> {
  const host = 'localhost:80';
  const link = await srv.app.inject({
    method: 'POST',
    url: '/api/sign-in-links',
    headers: { authorization: `Bearer ${srv.apiToken}`, host },
    payload: { account },
  });
  expect(link.statusCode, link.body).toBe(201);
  const { url } = link.json<{ url: string }>();
  expect(url).toMatch(new RegExp(`^http://${host}/ui/sign-in/link#`));
  const code = url.split('#')[1]!;
  const use = await srv.app.inject({
    method: 'POST',
    url: '/ui/sign-in/link',
    headers: { origin: `http://${host}`, host },
    payload: { code },
  });
  expect(use.statusCode).toBe(303);
  expect(use.headers.location).toBe(`/ui/accounts/${account}/interface`);
  const twice = await srv.app.inject({
    method: 'POST',
    url: '/ui/sign-in/link',
    headers: { origin: `http://${host}`, host },
    payload: { code },
  });
  expect(twice.statusCode).toBe(401);
  return String(use.headers['set-cookie']).split(';')[0]!;
}

describe('sevsync serve (the command)', () => {
  it('listens, answers 401 without the token and the documented shapes with it, logs no token, stops on SIGTERM', async () => {
    const apiToken = randomId('api-token-for-serve');
    const child = spawn(
      process.execPath,
      [path.resolve(__dirname, '../../bin/sevsync.cjs'), 'serve', '--port', '0', '--sign-in-link'],
      {
        env: {
          ...process.env,
          DATABASE_URL: config.databaseUrl,
          TEMPORAL_ADDRESS: config.temporalAddress,
          SEVSYNC_TASK_QUEUE: config.taskQueue,
          SEVSYNC_SECRET_KEY: config.secretKey!.toString('base64'),
          SEVDESK_BASE_URL: sb.url,
          SEVSYNC_API_TOKEN: apiToken,
        },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await eventually(
        async () => /listening on (http:\/\/\S+)/.exec(out)?.[1],
        30_000,
        'serve to listen',
      );
      // Asked for with --sign-in-link: printed once the link is stored, just after "listening".
      await eventually(
        async () =>
          /sign in once \(valid 15 minutes\): http:\/\/127\.0\.0\.1:\d+\/ui\/sign-in\/link#/.test(out),
        10_000,
        'the sign-in link',
      );
      const account = randomId('serve');
      const anon = await fetch(`${url}/api/accounts/${account}/status`);
      expect(anon.status).toBe(401);
      const auth = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' };
      const add = await fetch(`${url}/api/accounts/${account}/interface`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ token: sb.token }),
      });
      expect(add.status).toBe(201);
      expect(Object.keys((await add.json()) as object).sort()).toEqual(STATUS_KEYS);
      const doc = await fetch(`${url}/api/openapi.json`, { headers: auth });
      expect(doc.status).toBe(200);
      const del = await fetch(`${url}/api/accounts/${account}/interface?purge=true`, {
        method: 'DELETE',
        headers: { authorization: auth.authorization },
      });
      expect(del.status).toBe(204);
      expect(out).not.toContain(sb.token);
      expect(out).not.toContain(apiToken);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
