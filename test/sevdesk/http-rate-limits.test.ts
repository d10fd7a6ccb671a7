import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/sevdesk/client';
import { SevdeskRateLimitedError, SevdeskServerError } from '../../src/sevdesk/errors';
import { caught, ok, useScriptedSevdesk } from './helpers/client';
import { json, text } from './helpers/test-server';

// The transport's one retry layer (src/sevdesk/http.ts): a short in-call wait for a 429, everything else
// thrown at once for Temporal to retry.

const { server, makeClient } = useScriptedSevdesk();

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
    // 30 s ahead, in whole seconds: the wait is what is left of them when the reply is read.
    server.script(json(429, {}, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }));
    server.fallback(ok);
    const { client, sleeps } = makeClient({ rateLimitWaitMs: 60_000 });
    await client.listInvoices();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(20_000);
    expect(sleeps[0]).toBeLessThanOrEqual(30_000);
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
