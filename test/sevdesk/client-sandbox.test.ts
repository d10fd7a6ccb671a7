import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/index';
import {
  closeDefaultDispatchers,
  createSevdeskClient,
  walkPages,
  type SevdeskClientOptions,
} from '../../src/sevdesk/client';
import {
  SevdeskBadRequestError,
  SevdeskInvalidTokenError,
  SevdeskNetworkError,
  SevdeskRateLimitedError,
  SevdeskServerError,
} from '../../src/sevdesk/errors';

// The client against the sevDesk simulator over real HTTP: every fault the sandbox can inject ends in a typed
// error or a successful retry, and a full walk sees every invoice exactly once.

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

afterAll(async () => {
  await closeDefaultDispatchers();
});

describe('client against the sandbox: faults', () => {
  let sb: Sandbox;
  let sleeps: number[];

  beforeAll(async () => {
    sb = await startSandbox({ seed: 42, data: { invoices: 50, contacts: 20 } });
  });
  afterAll(async () => {
    await sb.close();
  });
  beforeEach(() => {
    sb.faults.clear();
    sb.requests.reset();
    sleeps = [];
  });

  const client = (over: Partial<SevdeskClientOptions> = {}) =>
    createSevdeskClient({
      baseUrl: sb.url,
      token: sb.token,
      timeoutMs: 5_000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...over,
    });

  it('serves valid pages, contacts, ways, addresses and countries', async () => {
    const c = client();
    await c.checkToken();
    const invoices = await c.listInvoices({ limit: 50, countAll: true });
    expect(invoices.invalid).toEqual([]);
    expect(invoices.objects.length).toBeGreaterThan(0);
    expect(invoices.total).not.toBeNull();
    const first = invoices.objects[0];
    if (!first) throw new Error('no invoice');
    expect((await c.getInvoice(first.id)).id).toBe(first.id);
    const contacts = await c.listContacts({ limit: 100 });
    expect(contacts.invalid).toEqual([]);
    const ways = await c.listCommunicationWays({ limit: 100 });
    expect(ways.invalid).toEqual([]);
    const addresses = await c.listContactAddresses({ limit: 100 });
    expect(addresses.invalid).toEqual([]);
    expect((await c.listStaticCountries()).length).toBeGreaterThan(0);
  });

  it('rate-limit with Retry-After → waits, then succeeds', async () => {
    sb.faults.add({ kind: 'rate-limit', times: 1, retryAfterSeconds: 1 });
    const c = client();
    await c.listInvoices({ limit: 5 });
    expect(sleeps).toEqual([1000]);
    expect(sb.requests.count()).toBe(2);
    expect(c.requestCount()).toBe(2);
  });

  it('a second 429 in the same call → SevdeskRateLimitedError (Temporal retries the activity)', async () => {
    sb.faults.add({ kind: 'rate-limit', times: 10, retryAfterSeconds: 1 });
    await expect(client().listInvoices({ limit: 5 })).rejects.toBeInstanceOf(SevdeskRateLimitedError);
    expect(sb.requests.count()).toBe(2);
  });

  it('rate-limit with a Retry-After beyond the in-call wait → thrown at once with retryAfterMs', async () => {
    sb.faults.add({ kind: 'rate-limit', times: 1, retryAfterSeconds: 60 });
    await expect(client().listInvoices({ limit: 5 })).rejects.toMatchObject({
      type: 'SevdeskRateLimitedError',
      retryAfterMs: 60_000,
    });
    expect(sb.requests.count()).toBe(1);
  });

  it('server-error-html → SevdeskServerError at once (retryable: Temporal retries); the next call is fine', async () => {
    sb.faults.add({ kind: 'server-error-html', times: 1 });
    const c = client();
    const err: unknown = await c.listInvoices({ limit: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SevdeskServerError);
    expect(err).toMatchObject({ retryable: true });
    expect((err as SevdeskServerError).status).toBeGreaterThanOrEqual(500);
    expect(sb.requests.count()).toBe(1);
    await c.listInvoices({ limit: 5 });
    expect(sb.requests.count()).toBe(2);
  });

  it('slow beyond the timeout → SevdeskNetworkError (timeout), one request; the next call is fine', async () => {
    sb.faults.add({ kind: 'slow', times: 1, delayMs: 3_000 });
    // Long enough for the good reply after it on a busy machine.
    const c = client({ timeoutMs: 500 });
    await expect(c.listInvoices({ limit: 5 })).rejects.toMatchObject({
      type: 'SevdeskNetworkError',
      kind: 'timeout',
      retryable: true,
    });
    expect(c.requestCount()).toBe(1);
    await c.listInvoices({ limit: 5 });
    expect(c.requestCount()).toBe(2);
  });

  it('hang → SevdeskNetworkError (timeout)', async () => {
    sb.faults.add({ kind: 'hang', times: 2 });
    const err: unknown = await client({ timeoutMs: 150 })
      .listInvoices({ limit: 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SevdeskNetworkError);
    expect(err).toMatchObject({ kind: 'timeout' });
  });

  it('truncated → SevdeskNetworkError (retryable); the next call succeeds', async () => {
    sb.faults.add({ kind: 'truncated', times: 1 });
    const c = client();
    await expect(c.listInvoices({ limit: 5 })).rejects.toMatchObject({
      type: 'SevdeskNetworkError',
      retryable: true,
    });
    const page = await c.listInvoices({ limit: 5 });
    expect(page.objects.length).toBeGreaterThan(0);
    expect(c.requestCount()).toBe(2);
  });

  it('malformed field → that object is in `invalid`, the rest of the page is fine', async () => {
    sb.faults.add({ kind: 'malformed', times: 1, field: 'sumGross' });
    const page = await client().listInvoices({ limit: 10 });
    expect(page.invalid.length).toBeGreaterThan(0);
    expect(page.invalid[0]?.error.path).toMatch(/^sumGross/);
    expect(page.objects.length + page.invalid.length).toBe(page.rawCount);
    expect(page.objects.length).toBeGreaterThan(0);
  });

  it('invalid-token → SevdeskInvalidTokenError, no retry', async () => {
    sb.faults.add({ kind: 'invalid-token', times: 1 });
    await expect(client().checkToken()).rejects.toBeInstanceOf(SevdeskInvalidTokenError);
    expect(sb.requests.count()).toBe(1);
  });

  it('a rotated token → SevdeskInvalidTokenError; the token appears in no error', async () => {
    const old = sb.token;
    const c = client();
    sb.setToken('0123456789abcdef0123456789abcdef');
    try {
      const err: unknown = await c.checkToken().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SevdeskInvalidTokenError);
      expect(JSON.stringify(err)).not.toContain(old);
      expect((err as Error).stack).not.toContain(old);
    } finally {
      sb.setToken(old);
    }
  });

  it('error-200 → SevdeskBadRequestError with HTTP 200, no retry', async () => {
    sb.faults.add({ kind: 'error-200', times: 1 });
    const err: unknown = await client()
      .listInvoices({ limit: 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err).toMatchObject({ status: 200 });
    expect(sb.requests.count()).toBe(1);
  });

  it('a missing invoice → SevdeskNotFoundError', async () => {
    await expect(client().getInvoice('1')).rejects.toMatchObject({ type: 'SevdeskNotFoundError' });
  });
});

describe('client against the sandbox: a walk over 100,000 invoices', () => {
  const INVOICES = 100_000;
  let sb: Sandbox;

  beforeAll(async () => {
    sb = await startSandbox({ seed: 7, data: { invoices: INVOICES } });
  }, 120_000);
  afterAll(async () => {
    await sb?.close();
  });

  it('sees each invoice exactly once with limit 1000', async () => {
    const c = createSevdeskClient({ baseUrl: sb.url, token: sb.token });
    const { total } = await c.listInvoices({ limit: 1, countAll: true });
    const seen = new Set<string>();
    let duplicates = 0;
    let invalid = 0;
    let pages = 0;
    for await (const { page } of walkPages((offset, limit) => c.listInvoices({ offset, limit }), {
      limit: 1000,
    })) {
      pages++;
      invalid += page.invalid.length;
      for (const inv of page.objects) {
        if (seen.has(inv.id)) duplicates++;
        seen.add(inv.id);
      }
    }
    const stored = sb.store.invoiceCount();
    expect(stored).toBeGreaterThanOrEqual(INVOICES);
    expect(duplicates).toBe(0);
    expect(invalid).toBe(0);
    expect(total).toBe(stored);
    expect(seen.size).toBe(stored);
    expect(pages).toBe(Math.floor(stored / 1000) + 1);
  }, 180_000);
});
