import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { closeDefaultDispatchers, createSevdeskClient } from '../../src/sevdesk/client';
import { SevdeskNetworkError } from '../../src/sevdesk/errors';
import { caught, invoiceList, ok, useScriptedSevdesk } from './helpers/client';
import { delayed, hang, slowBody } from './helpers/test-server';
import { json, reset, text, truncated, truncatedChunked } from './helpers/test-server';

// What goes wrong on the way (src/sevdesk/http.ts): timeouts, cut-off bodies, resets, a cancelled activity,
// and closed connection pools. Each is one request and a typed error; Temporal retries.

const sevdesk = useScriptedSevdesk();
const { server, makeClient } = sevdesk;

describe('cancellation', () => {
  it('an aborted signal stops an in-flight request with the signal’s reason', async () => {
    server.fallback(hang);
    const controller = new AbortController();
    // The call's own timeout would end it with a SevdeskNetworkError, not with the signal's reason.
    const { client } = makeClient({ timeoutMs: 10_000, signal: controller.signal });
    const pending = client.listInvoices().catch((e: unknown) => e);
    await server.received(1);
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    expect(await pending).toBe(reason);
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
    // An hour's Retry-After, within this client's wait limit: only the abort can end the call in time.
    server.fallback(json(429, {}, { 'retry-after': '3600' }));
    const controller = new AbortController();
    let limited!: () => void;
    const rateLimited = new Promise<void>((resolve) => (limited = resolve));
    const { client } = makeClient({
      sleep: undefined,
      rateLimitWaitMs: 3_600_000,
      signal: controller.signal,
      onRequest: (e) => {
        if (e.rateLimited) limited();
      },
    });
    const pending = client.listInvoices().catch((e: unknown) => e);
    await rateLimited;
    controller.abort(new Error('stop'));
    expect(await pending).toMatchObject({ message: 'stop' });
    expect(server.requests).toHaveLength(1);
  });
});

describe('network failures (one request each; Temporal retries)', () => {
  it('headers slower than the timeout → SevdeskNetworkError (timeout)', async () => {
    server.fallback(delayed(1_000, ok));
    const { client } = makeClient({ timeoutMs: 100 });
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskNetworkError);
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
    expect(err.message).toContain('timed out after 100 ms');
    expect(server.requests).toHaveLength(1);
  });

  it('a body slower than the timeout → SevdeskNetworkError (timeout)', async () => {
    server.fallback(slowBody(1_000, invoiceList));
    const err = await caught(makeClient({ timeoutMs: 100 }).client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskNetworkError);
    expect(err).toMatchObject({ kind: 'timeout' });
  });

  it('a slow reply within the timeout is fine', async () => {
    server.fallback(delayed(50, ok));
    const page = await makeClient({ timeoutMs: 5_000 }).client.listInvoices();
    expect(page.objects).toHaveLength(2);
  });

  it('a hang → SevdeskNetworkError after the timeout; the next call succeeds', async () => {
    server.script(hang);
    server.fallback(ok);
    // Long enough for the good reply after it on a busy machine.
    const { client } = makeClient({ timeoutMs: 1_000 });
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
    const client = createSevdeskClient({ baseUrl: `http://127.0.0.1:${port}/api/v1`, token: sevdesk.token });
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskNetworkError', kind: 'connection', causeCode: 'ECONNREFUSED' });
    expect(client.requestCount()).toBe(1);
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
