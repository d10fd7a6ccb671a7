import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { inspect } from 'node:util';
import { MockAgent } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closeDefaultDispatchers,
  createSevdeskClient,
  createWorkerLimit,
  DEFAULT_MAX_RESPONSE_BYTES,
  dedupeById,
  DEFAULT_USER_AGENT,
  parseRetryAfter,
  collectPages,
  walkPages,
  type SevdeskClientOptions,
} from '../../src/sevdesk/client';
// What sevDesk refuses, and what goes wrong on the way or in the answer.
import {
  SevdeskBadRequestError,
  SevdeskInvalidTokenError,
  SevdeskNotFoundError,
  SevdeskRateLimitedError,
} from '../../src/sevdesk/errors';
import {
  SevdeskError,
  SevdeskNetworkError,
  SevdeskResponseTooLargeError,
  SevdeskSchemaError,
  SevdeskServerError,
} from '../../src/sevdesk/errors';
import {
  delayed,
  fixture,
  fixtureObjects,
  hang,
  json,
  reset,
  slowBody,
  startTestServer,
  text,
  truncated,
  truncatedChunked,
  type Handler,
  type TestServer,
} from './helpers/test-server';

const invoices = fixtureObjects('invoice_list.json');
const invoiceList = { objects: invoices };
const ok: Handler = json(200, invoiceList);

let server: TestServer;
let token: string;

beforeEach(async () => {
  server = await startTestServer();
  token = randomBytes(16).toString('hex');
});
afterEach(async () => {
  await server.close();
});
afterAll(async () => {
  await closeDefaultDispatchers();
});

function makeClient(over: Partial<SevdeskClientOptions> = {}) {
  const sleeps: number[] = [];
  const client = createSevdeskClient({
    baseUrl: server.url,
    token,
    timeoutMs: 300,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...over,
  });
  return { client, sleeps };
}

async function caught(p: Promise<unknown>): Promise<SevdeskError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SevdeskError);
    return e as SevdeskError;
  }
  throw new Error('expected the call to fail');
}

function expectNoToken(err: SevdeskError, secret: string): void {
  expect(err.message).not.toContain(secret);
  expect(err.stack).not.toContain(secret);
  expect(JSON.stringify(err)).not.toContain(secret);
  expect(inspect(err, { depth: 10, showHidden: true })).not.toContain(secret);
}

describe('requests', () => {
  it('sends the raw token in Authorization, a User-Agent, and never the token in the URL', async () => {
    const { client } = makeClient();
    await client.listInvoices({ limit: 10 });
    const [req] = server.requests;
    expect(req?.headers['authorization']).toBe(token);
    expect(req?.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
    expect(DEFAULT_USER_AGENT).toMatch(
      /^sevsync\/\d+\.\d+\.\d+ \(\+https:\/\/onecockpit\.example\/sevsync\)$/,
    );
    expect(req?.headers['accept']).toBe('application/json');
    expect(req?.rawUrl).not.toContain(token);
    expect(req?.path).toBe('/api/v1/Invoice');
  });

  it('takes a custom User-Agent', async () => {
    const { client } = makeClient({ userAgent: 'test-agent/1' });
    await client.checkToken();
    expect(server.requests[0]?.headers['user-agent']).toBe('test-agent/1');
  });

  it('builds invoice filters with brackets and unix seconds', async () => {
    server.script(json(200, { objects: [], total: '157' }));
    const { client } = makeClient();
    const page = await client.listInvoices({
      limit: 1000,
      offset: 2000,
      countAll: true,
      updateAfter: 1_767_225_600,
      status: '1000',
      originId: '140117702',
      contactId: '98765432',
      invoiceType: 'SR',
    });
    expect(page.total).toBe(157);
    const q = Object.fromEntries(server.requests[0]?.query ?? []);
    expect(q).toEqual({
      limit: '1000',
      offset: '2000',
      countAll: 'true',
      updateAfter: '1767225600',
      status: '1000',
      invoiceType: 'SR',
      'contact[id]': '98765432',
      'contact[objectName]': 'Contact',
      'origin[id]': '140117702',
      'origin[objectName]': 'Invoice',
      showAll: 'true',
    });
  });

  it('always asks for persons too (depth=1) on /Contact; integer total', async () => {
    server.script(json(200, { objects: fixtureObjects('contact_list.json'), total: 1 }));
    const { client } = makeClient();
    const page = await client.listContacts({ updateAfter: 1_767_225_600, countAll: true });
    expect(page.objects[0]?.name).toBe('Musterbau GmbH');
    expect(page.total).toBe(1);
    expect(server.requests[0]?.path).toBe('/api/v1/Contact');
    expect(server.requests[0]?.query.get('depth')).toBe('1');
  });

  it('filters communication ways and addresses by contact', async () => {
    server.script(
      json(200, fixture('communication_way_list.json')),
      json(200, fixture('contact_address_list.json')),
    );
    const { client } = makeClient();
    const ways = await client.listCommunicationWays({ contactId: '98765432', type: 'EMAIL', limit: 100 });
    const addresses = await client.listContactAddresses({ contactId: '98765432' });
    expect(ways.objects).toHaveLength(2);
    expect(ways.total).toBeNull();
    expect(addresses.objects[0]?.city).toBe('München');
    const [w, a] = server.requests;
    expect(w?.path).toBe('/api/v1/CommunicationWay');
    expect(Object.fromEntries(w?.query ?? [])).toEqual({
      limit: '100',
      type: 'EMAIL',
      'contact[id]': '98765432',
      'contact[objectName]': 'Contact',
    });
    expect(a?.path).toBe('/api/v1/ContactAddress');
    expect(a?.query.get('contact[id]')).toBe('98765432');
  });

  it('rejects bad paging and millisecond timestamps before sending anything', async () => {
    const { client } = makeClient();
    await expect(client.listInvoices({ limit: 5000 })).rejects.toBeInstanceOf(SevdeskBadRequestError);
    await expect(client.listInvoices({ limit: 0 })).rejects.toBeInstanceOf(SevdeskBadRequestError);
    await expect(client.listInvoices({ offset: -1 })).rejects.toBeInstanceOf(SevdeskBadRequestError);
    await expect(client.listInvoices({ updateAfter: Date.now() })).rejects.toThrow(/unix seconds/);
    await expect(client.getInvoice('1 OR 1=1')).rejects.toBeInstanceOf(SevdeskBadRequestError);
    expect(client.requestCount()).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('reads a GET by id (a list of one)', async () => {
    server.script(json(200, { objects: [invoices[0]] }), json(200, fixture('contact_list.json')));
    const { client } = makeClient();
    const inv = await client.getInvoice('140112233');
    expect(inv.invoiceNumber).toBe('RE-1042');
    const contact = await client.getContact('98765432');
    expect(contact.id).toBe('98765432');
    expect(server.requests.map((r) => r.path)).toEqual([
      '/api/v1/Invoice/140112233',
      '/api/v1/Contact/98765432',
    ]);
  });

  it('caches static countries per client, and does not cache a failure', async () => {
    const countries = {
      objects: [
        { id: '1', objectName: 'StaticCountry', code: 'de', name: 'Deutschland', nameEn: 'Germany' },
        { id: '2', objectName: 'StaticCountry', code: 'at', name: 'Österreich', nameEn: 'Austria' },
        { id: 'x', objectName: 'StaticCountry', code: 'zz', name: null, nameEn: null },
      ],
    };
    server.script(json(400, { error: { message: 'nope', code: null }, objects: null }), json(200, countries));
    const { client } = makeClient();
    await expect(client.listStaticCountries()).rejects.toBeInstanceOf(SevdeskBadRequestError);
    const first = await client.listStaticCountries();
    const second = await client.listStaticCountries();
    expect(first.map((c) => c.nameEn)).toEqual(['Germany', 'Austria']);
    expect(second).toBe(first);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.query.get('limit')).toBe('1000');
  });

  it('works through an injected dispatcher', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://sevdesk.test')
      .intercept({ path: '/api/v1/Invoice/140112233', method: 'GET' })
      .reply(200, { objects: [invoices[0]] });
    const client = createSevdeskClient({ baseUrl: 'https://sevdesk.test/api/v1/', token, dispatcher: agent });
    expect((await client.getInvoice('140112233')).id).toBe('140112233');
    expect(client.requestCount()).toBe(1);
    await agent.close();
  });
});

describe('checkToken', () => {
  it('makes one cheap call', async () => {
    const { client } = makeClient();
    await client.checkToken();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.path).toBe('/api/v1/Invoice');
    expect(server.requests[0]?.query.get('limit')).toBe('1');
  });

  it('401 → SevdeskInvalidTokenError, exactly one request', async () => {
    server.fallback(json(401, { error: { message: 'Authentication required', code: null }, objects: null }));
    const { client, sleeps } = makeClient();
    const err = await caught(client.checkToken());
    expect(err).toBeInstanceOf(SevdeskInvalidTokenError);
    expect(err).toMatchObject({ type: 'SevdeskInvalidTokenError', status: 401, retryable: false });
    expect(err.url).toBe(`${server.url}/Invoice?limit=1`);
    expect(err.message).toContain('Authentication required');
    expect(server.requests).toHaveLength(1);
    expect(client.requestCount()).toBe(1);
    expect(sleeps).toEqual([]);
    expectNoToken(err, token);
  });

  it('403 with no body (a proxy, not sevDesk) → retryable SevdeskServerError, never an invalid token', async () => {
    server.fallback(text(403, ''));
    const { client } = makeClient();
    const err = await caught(client.checkToken());
    expect(err).toBeInstanceOf(SevdeskServerError);
    expect(err).not.toBeInstanceOf(SevdeskInvalidTokenError);
    expect(err.status).toBe(403);
    expect((err as SevdeskServerError).retryable).toBe(true);
  });

  it('401 with an HTML page from a gateway → retryable SevdeskServerError', async () => {
    server.fallback(text(401, '<html><body><h1>401 Authorization Required</h1></body></html>'));
    const { client } = makeClient();
    const err = await caught(client.checkToken());
    expect(err).toBeInstanceOf(SevdeskServerError);
    expect(err.message).toContain('gateway refused the request');
  });
});

describe('error replies', () => {
  it('404 / code 151 → SevdeskNotFoundError, no retry', async () => {
    server.fallback(json(404, fixture('error_404.json')));
    const { client } = makeClient();
    const err = await caught(client.getInvoice('1'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
    expect(err).toMatchObject({ status: 404, code: 151, retryable: false });
    expect(err.message).toContain('No Model_Invoice with the id 1 was found');
    expect(server.requests).toHaveLength(1);
  });

  it('code 151 with HTTP 400 (as the spec has it) → SevdeskNotFoundError', async () => {
    server.fallback(json(400, { error: { message: 'Invoice was not found', code: 151 }, objects: null }));
    const err = await caught(makeClient().client.getInvoice('1'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
    expect(err.status).toBe(400);
  });

  it('an empty list for a GET by id → SevdeskNotFoundError', async () => {
    server.fallback(json(200, { objects: [] }));
    const err = await caught(makeClient().client.getInvoice('1'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
  });

  it('HTTP 200 with an error envelope → SevdeskBadRequestError carrying the code', async () => {
    server.fallback(
      json(200, {
        error: { message: 'Invoice is partially paid', code: 390, exceptionUUID: 'u' },
        objects: null,
      }),
    );
    const { client } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err).toMatchObject({ status: 200, code: 390, retryable: false });
    expect(err.message).toContain('Invoice is partially paid');
    expect(server.requests).toHaveLength(1);
  });

  it('HTTP 200 with code 151 → SevdeskNotFoundError', async () => {
    server.fallback(json(200, { error: { message: 'No Model_Contact with the id 5 was found', code: 151 } }));
    const err = await caught(makeClient().client.getContact('5'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
  });

  it('400 limit error → SevdeskBadRequestError', async () => {
    const message = 'Invalid ‘limit’ parameter. Please provide an integer value between 1 and 1000.';
    server.fallback(json(400, { error: { message, code: null }, objects: null }));
    const err = await caught(makeClient().client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err.message).toContain(message);
    expect(server.requests).toHaveLength(1);
  });

  it('a 3xx redirect is not followed and not retried', async () => {
    server.fallback((_req, res) => {
      res.writeHead(301, { location: 'https://elsewhere.example/' });
      res.end();
    });
    const err = await caught(makeClient().client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err.status).toBe(301);
  });
});

describe('one retry layer: a short in-call wait for 429, everything else to Temporal', () => {
  it('429 with a short Retry-After (seconds) → waits that long once, then succeeds', async () => {
    server.script(json(429, {}, { 'retry-after': '1' }));
    server.fallback(ok);
    const { client, sleeps } = makeClient();
    const page = await client.listInvoices();
    expect(page.objects).toHaveLength(2);
    expect(sleeps).toEqual([1000]);
    expect(server.requests).toHaveLength(2);
    expect(client.requestCount()).toBe(2);
  });

  it('429 with Retry-After as an HTTP date within the wait limit', async () => {
    server.script(json(429, {}, { 'retry-after': new Date(Date.now() + 3_000).toUTCString() }));
    server.fallback(ok);
    const { client, sleeps } = makeClient();
    await client.listInvoices();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(1_000);
    expect(sleeps[0]).toBeLessThanOrEqual(3_000);
  });

  it('429 with a real (short) Retry-After sleep', async () => {
    server.script(json(429, {}, { 'retry-after': '0.05' }));
    server.fallback(ok);
    const { client } = makeClient({ sleep: undefined });
    const started = performance.now();
    await client.listInvoices();
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(server.requests).toHaveLength(2);
  });

  it('waits at most once per call: a second 429 is thrown', async () => {
    server.fallback(json(429, {}, { 'retry-after': '1' }));
    const { client, sleeps } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskRateLimitedError', retryAfterMs: 1000, retryable: true });
    expect(sleeps).toEqual([1000]);
    expect(server.requests).toHaveLength(2);
  });

  it('429 without Retry-After → SevdeskRateLimitedError at once (Temporal backs off)', async () => {
    server.script(json(429, {}));
    server.fallback(ok);
    const { client, sleeps } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskRateLimitedError);
    expect((err as SevdeskRateLimitedError).retryAfterMs).toBeUndefined();
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('Retry-After beyond the wait limit → thrown at once with retryAfterMs (nextRetryDelay)', async () => {
    server.fallback(json(429, {}, { 'retry-after': '120' }));
    const { client, sleeps } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskRateLimitedError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 120_000, retryable: true });
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('rateLimitWaitMs sets the limit; attempts: 1 never waits', async () => {
    server.fallback(json(429, {}, { 'retry-after': '2' }));
    const short = makeClient({ rateLimitWaitMs: 1_000 });
    await caught(short.client.listInvoices());
    expect(short.sleeps).toEqual([]);
    const once = makeClient({ retry: { attempts: 1 } });
    await caught(once.client.listInvoices());
    expect(once.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  it('500 with an HTML body → SevdeskServerError (status + snippet) after one request, retryable', async () => {
    const html =
      '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>nginx</body></html>';
    server.script(text(500, html));
    server.fallback(ok);
    const { client, sleeps } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskServerError);
    expect(err).toMatchObject({ status: 500, retryable: true });
    expect(err.message).toContain('HTTP 500');
    expect(err.message).toContain('502 Bad Gateway Bad Gateway nginx');
    expect((err as SevdeskServerError).bodySnippet.length).toBeLessThanOrEqual(201);
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
    // The next call (Temporal's retry) goes through.
    expect((await client.listInvoices()).objects).toHaveLength(2);
    expect(client.requestCount()).toBe(2);
  });

  it('a huge 5xx body is cut to a short snippet', async () => {
    server.fallback(text(500, `<p>${'x'.repeat(100_000)}</p>`));
    const err = await caught(makeClient().client.listInvoices());
    expect(err.message.length).toBeLessThan(400);
  });
});

describe('response size cap', () => {
  it('a Content-Length above the cap → SevdeskResponseTooLargeError without reading the body', async () => {
    server.fallback(json(200, { objects: invoices, padding: 'x'.repeat(5_000) }));
    const { client } = makeClient({ maxResponseBytes: 1_000 });
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskResponseTooLargeError);
    expect(err).toMatchObject({ retryable: false, limitBytes: 1_000, status: 200 });
    expect(err.message).toContain('1000-byte limit');
    expect(server.requests).toHaveLength(1);
  });

  it('a chunked body that grows past the cap is cut off while streaming', async () => {
    server.fallback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write('x'.repeat(16_384));
      }, 1);
    });
    const { client } = makeClient({ maxResponseBytes: 100_000, timeoutMs: 5_000 });
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskResponseTooLargeError' });
    expect(err.message).toMatch(/bytes read so far/);
  });

  it('a reply within the cap is read normally; the default cap is 50 MB', async () => {
    server.fallback(ok);
    expect((await makeClient({ maxResponseBytes: 100_000 }).client.listInvoices()).objects).toHaveLength(2);
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(50 * 1024 * 1024);
  });
});

describe('dispatchers', () => {
  it('closeDefaultDispatchers closes the shared pools; a later client opens a new one', async () => {
    server.fallback(ok);
    const { client } = makeClient({ sleep: undefined });
    expect((await client.listInvoices()).objects).toHaveLength(2);
    await closeDefaultDispatchers();
    // The old client's pool is closed: undici refuses, typed as a network error (never a hang).
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskNetworkError' });
    expect((await makeClient().client.listInvoices()).objects).toHaveLength(2);
  });
});

describe('cancellation', () => {
  it('an aborted signal stops an in-flight request with the signal’s reason', async () => {
    server.fallback(hang);
    const controller = new AbortController();
    const { client } = makeClient({ timeoutMs: 10_000, signal: controller.signal });
    const started = performance.now();
    const pending = client.listInvoices().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    const { client } = makeClient({ signal: controller.signal });
    await expect(client.listInvoices()).rejects.toThrow('gone');
    expect(server.requests).toHaveLength(0);
  });

  it('aborts the in-call Retry-After wait too', async () => {
    server.fallback(json(429, {}, { 'retry-after': '4' }));
    const controller = new AbortController();
    const { client } = makeClient({ sleep: undefined, signal: controller.signal });
    const started = performance.now();
    const pending = client.listInvoices().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error('stop'));
    expect(await pending).toMatchObject({ message: 'stop' });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(server.requests).toHaveLength(1);
  });
});

describe('network failures (one request each; Temporal retries)', () => {
  it('headers slower than the timeout → SevdeskNetworkError (timeout)', async () => {
    server.fallback(delayed(1_000, ok));
    const { client } = makeClient({ timeoutMs: 100 });
    const started = performance.now();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskNetworkError);
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
    expect(err.message).toContain('timed out after 100 ms');
    expect(server.requests).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(900);
  });

  it('a body slower than the timeout → SevdeskNetworkError (timeout)', async () => {
    server.fallback(slowBody(1_000, invoiceList));
    const err = await caught(makeClient({ timeoutMs: 100 }).client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskNetworkError);
    expect(err).toMatchObject({ kind: 'timeout' });
  });

  it('a slow reply within the timeout is fine', async () => {
    server.fallback(delayed(50, ok));
    const page = await makeClient({ timeoutMs: 500 }).client.listInvoices();
    expect(page.objects).toHaveLength(2);
  });

  it('a hang → SevdeskNetworkError after the timeout; the next call succeeds', async () => {
    server.script(hang);
    server.fallback(ok);
    const { client } = makeClient({ timeoutMs: 100 });
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskNetworkError', kind: 'timeout' });
    expect((await client.listInvoices()).objects).toHaveLength(2);
    expect(server.requests).toHaveLength(2);
  });

  it('a truncated body (Content-Length) → SevdeskNetworkError (truncated)', async () => {
    server.fallback(truncated(invoiceList));
    const { client } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskNetworkError);
    expect(err).toMatchObject({ kind: 'truncated', retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('a truncated chunked body → SevdeskNetworkError; the next call succeeds', async () => {
    server.script(truncatedChunked(invoiceList));
    server.fallback(ok);
    const { client } = makeClient();
    expect(await caught(client.listInvoices())).toBeInstanceOf(SevdeskNetworkError);
    expect((await client.listInvoices()).objects).toHaveLength(2);
  });

  it('a 200 whose body is not JSON → SevdeskNetworkError (invalid-json)', async () => {
    server.fallback(text(200, '{"objects":[{"id":"1"', 'application/json'));
    const err = await caught(makeClient().client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskNetworkError', kind: 'invalid-json', status: 200 });
  });

  it('a connection reset → SevdeskNetworkError (connection)', async () => {
    server.script(reset);
    server.fallback(ok);
    const { client } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskNetworkError', kind: 'connection' });
    expect((await client.listInvoices()).objects).toHaveLength(2);
  });

  it('connection refused → SevdeskNetworkError', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const client = createSevdeskClient({ baseUrl: `http://127.0.0.1:${port}/api/v1`, token });
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskNetworkError', kind: 'connection', causeCode: 'ECONNREFUSED' });
    expect(client.requestCount()).toBe(1);
  });
});

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

describe('concurrency', () => {
  it('never has more than maxConcurrency requests in flight', async () => {
    server.fallback(delayed(30, json(200, { objects: [] })));
    const { client } = makeClient({ maxConcurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.listInvoices({ offset: i })));
    expect(server.requests).toHaveLength(12);
    expect(server.maxInFlight).toBe(3);
  });

  it('shares the limit between clients with the same token and base URL', async () => {
    server.fallback(delayed(30, json(200, { objects: [] })));
    const a = makeClient({ maxConcurrency: 2 }).client;
    const b = makeClient({ maxConcurrency: 2 }).client;
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).listInvoices({ offset: i })));
    expect(server.maxInFlight).toBe(2);
    expect(a.requestCount() + b.requestCount()).toBe(10);
  });

  it('a worker-wide limit caps requests across different tokens', async () => {
    server.fallback(delayed(30, json(200, { objects: [] })));
    const workerLimit = createWorkerLimit(3);
    const clients = Array.from({ length: 4 }, () =>
      createSevdeskClient({ baseUrl: server.url, token: randomBytes(16).toString('hex'), workerLimit }),
    );
    await Promise.all(Array.from({ length: 16 }, (_, i) => clients[i % 4]!.listInvoices({ offset: i })));
    expect(server.requests).toHaveLength(16);
    expect(server.maxInFlight).toBe(3);
  });

  it('reports every request to onRequest (metrics), 429s marked', async () => {
    server.script(json(429, {}, { 'retry-after': '0' }));
    server.fallback(ok);
    const events: { status: number | null; rateLimited: boolean }[] = [];
    const { client } = makeClient({
      onRequest: (e) => events.push({ status: e.status, rateLimited: e.rateLimited }),
    });
    await client.listInvoices();
    expect(events).toEqual([
      { status: 429, rateLimited: true },
      { status: 200, rateLimited: false },
    ]);
  });

  it('does not hold a slot while waiting out a short Retry-After', async () => {
    server.script(json(429, {}, { 'retry-after': '0.2' }));
    server.fallback(delayed(20, json(200, { objects: [] })));
    const { client } = makeClient({ maxConcurrency: 1, sleep: undefined });
    const started = performance.now();
    const slow = client.listInvoices();
    await new Promise((r) => setTimeout(r, 30));
    await client.listInvoices({ offset: 1 });
    expect(performance.now() - started).toBeLessThan(180);
    await slow;
  });
});

describe('the token stays secret', () => {
  it('appears in no message, stack or JSON of any error, even when the server echoes it', async () => {
    const { client } = makeClient();
    const replies: Handler[] = [
      json(401, { error: { message: `token ${token} is invalid`, code: null }, objects: null }),
      text(500, `<pre>Authorization: ${token}</pre>`),
      json(200, { error: { message: `bad ${token}`, code: 42 } }),
      json(429, { error: { message: token } }, { 'retry-after': '999' }),
      json(200, { objects: [{ ...invoices[0], sumNet: token }] }),
      truncated({ objects: [{ token }] }),
      delayed(1_000, ok),
    ];
    const errors: SevdeskError[] = [];
    for (const reply of replies) {
      server.script(reply);
      errors.push(await caught(client.getInvoice('140112233')));
    }
    expect(errors.map((e) => e.type)).toEqual([
      'SevdeskInvalidTokenError',
      'SevdeskServerError',
      'SevdeskBadRequestError',
      'SevdeskRateLimitedError',
      'SevdeskSchemaError',
      'SevdeskNetworkError',
      'SevdeskNetworkError',
    ]);
    for (const err of errors) expectNoToken(err, token);
    expect(errors[0]?.message).toContain('[redacted]');
  });
});

describe('paging helpers', () => {
  const makeInvoice = (n: number) => ({ ...invoices[0], id: String(140_000_000 + n) });

  it('walks until a short page', async () => {
    const all = Array.from({ length: 7 }, (_, i) => makeInvoice(i));
    server.fallback((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const offset = Number(q.get('offset') ?? 0);
      const limit = Number(q.get('limit') ?? 100);
      return json(200, { objects: all.slice(offset, offset + limit) })(req, res);
    });
    const { client } = makeClient();
    const seen: string[] = [];
    const offsets: number[] = [];
    for await (const { page, offset } of walkPages((o, l) => client.listInvoices({ offset: o, limit: l }), {
      limit: 3,
    })) {
      offsets.push(offset);
      seen.push(...page.objects.map((i) => i.id));
    }
    expect(offsets).toEqual([0, 3, 6]);
    expect(seen).toEqual(all.map((i) => i.id));
    expect(client.requestCount()).toBe(3);
  });

  it('stops on an empty page after an exact multiple, and resumes from startOffset', async () => {
    const pages = [3, 3, 0];
    const calls: [number, number][] = [];
    const fetchPage = async (offset: number, limit: number) => {
      calls.push([offset, limit]);
      const n = pages[calls.length - 1] ?? 0;
      return { objects: [], invalid: [], rawCount: n, total: null };
    };
    for await (const _ of walkPages(fetchPage, { limit: 3, startOffset: 30 })) {
      // drain
    }
    expect(calls).toEqual([
      [30, 3],
      [33, 3],
      [36, 3],
    ]);
  });

  it('counts invalid rows towards the page size so a bad row cannot end the walk early', async () => {
    const sizes = [
      { ok: 2, bad: 1 },
      { ok: 1, bad: 0 },
    ];
    let call = 0;
    const pagesSeen: number[] = [];
    for await (const { page } of walkPages(
      async () => {
        const s = sizes[call++] ?? { ok: 0, bad: 0 };
        return {
          objects: Array.from({ length: s.ok }, () => ({})),
          invalid: [],
          rawCount: s.ok + s.bad,
          total: null,
        };
      },
      { limit: 3 },
    )) {
      pagesSeen.push(page.rawCount);
    }
    expect(pagesSeen).toEqual([3, 1]);
  });

  it('dedupeById keeps the first occurrence, also across pages', () => {
    const seen = new Set<string>();
    expect(
      dedupeById(
        [
          { id: '1', v: 'a' },
          { id: '2', v: 'b' },
          { id: '1', v: 'c' },
        ],
        seen,
      ),
    ).toEqual([
      { id: '1', v: 'a' },
      { id: '2', v: 'b' },
    ]);
    expect(
      dedupeById(
        [
          { id: '2', v: 'd' },
          { id: '3', v: 'e' },
        ],
        seen,
      ),
    ).toEqual([{ id: '3', v: 'e' }]);
    expect([...seen]).toEqual(['1', '2', '3']);
  });

  it('rejects a limit outside 1..1000', async () => {
    const gen = walkPages(async () => ({ objects: [], invalid: [], rawCount: 0, total: null }), {
      limit: 1001,
    });
    await expect(gen.next()).rejects.toBeInstanceOf(RangeError);
  });
});

describe('collectPages: the pages after the first asked for together', () => {
  /** A list of `n` rows served `limit` at a time; `total` is what the count says (default: the truth). */
  const list = (n: number, opts: { total?: number | null; short?: Map<number, number> } = {}) => {
    const calls: { offset: number; countAll: boolean }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const fetchPage = async (offset: number, limit: number, countAll: boolean) => {
      calls.push({ offset, countAll });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      const cut = opts.short?.get(offset);
      if (cut !== undefined) opts.short?.delete(offset);
      const rows = Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, i) => ({
        id: String(offset + i),
      })).slice(0, cut ?? limit);
      const total = opts.total === undefined ? n : opts.total;
      return { objects: rows, invalid: [], rawCount: rows.length, total: countAll ? total : null };
    };
    return { fetchPage, calls, maxInFlight: () => maxInFlight };
  };
  const ids = (pages: { objects: { id: string }[] }[]) => pages.flatMap((p) => p.objects.map((o) => o.id));
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => String(i));

  it('one request for a list that fits one page, with the count asked for', async () => {
    const l = list(7);
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 4 }))).toEqual(upTo(7));
    expect(l.calls).toEqual([{ offset: 0, countAll: true }]);
  });

  it('the rest up to the count at once, at most `concurrency` in flight, in offset order', async () => {
    const l = list(95);
    const pages = await collectPages(l.fetchPage, { limit: 10, concurrency: 4 });
    expect(ids(pages)).toEqual(upTo(95));
    expect(l.calls.map((c) => c.offset)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(l.maxInFlight()).toBe(4);
  });

  it('walks on past a count that was too low, and ends at a count that was too high', async () => {
    const low = list(55, { total: 12 });
    expect(ids(await collectPages(low.fetchPage, { limit: 10, concurrency: 3 }))).toEqual(upTo(55));
    const high = list(25, { total: 1_000_000_000 });
    const pages = await collectPages(high.fetchPage, { limit: 10, concurrency: 3 });
    expect(ids(pages)).toEqual(upTo(25));
    // Bounded by the batch, not by the count's billion rows.
    expect(high.calls.length).toBeLessThanOrEqual(1 + 3 * 4);
  });

  it('without a count: a window at a time until a short page', async () => {
    const l = list(42, { total: null });
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 2 }))).toEqual(upTo(42));
    expect(l.calls.map((c) => c.offset)).toEqual([0, 10, 20, 30, 40]);
  });

  it('a page short before the last is read again, and the walk does not end there', async () => {
    const l = list(50, { short: new Map([[20, 3]]) });
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 4 }))).toEqual(upTo(50));
    expect(l.calls.filter((c) => c.offset === 20)).toHaveLength(2);
  });

  it('concurrency 1 is walkPages: no count asked for, one page at a time', async () => {
    const l = list(25);
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 1 }))).toEqual(upTo(25));
    expect(l.calls).toEqual([
      { offset: 0, countAll: false },
      { offset: 10, countAll: false },
      { offset: 20, countAll: false },
    ]);
    expect(l.maxInFlight()).toBe(1);
  });

  it('a failed page fails the walk', async () => {
    const l = list(40);
    const failing = async (o: number, lim: number, c: boolean) => {
      if (o === 20) throw new Error('boom');
      return l.fetchPage(o, lim, c);
    };
    await expect(collectPages(failing, { limit: 10, concurrency: 4 })).rejects.toThrow('boom');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-02T10:00:00Z');
  it.each([
    ['5', 5_000],
    ['0', 0],
    ['1.5', 1_500],
    [' 7 ', 7_000],
    ['Mon, 02 Mar 2026 10:00:30 GMT', 30_000],
    ['Mon, 02 Mar 2026 09:59:00 GMT', 0],
  ])('%j → %d ms', (v, ms) => {
    expect(parseRetryAfter(v, now)).toBe(ms);
  });
  it.each([[undefined], [''], ['soon'], ['-5']])('%j → undefined', (v) => {
    expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});
