import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSevdeskClient, createWorkerLimit } from '../../src/sevdesk/client';
import { ok, useScriptedSevdesk } from './helpers/client';
import { delayed, json } from './helpers/test-server';

// How many sevDesk requests are in flight (src/sevdesk/http.ts): per token, per worker, and what each
// request reports for the metrics.

const { server, makeClient } = useScriptedSevdesk();

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
    server.fallback(json(200, { objects: [] }));
    // The first call's wait ends only when the test says so; a slot held meanwhile would block the second call.
    let waiting!: () => void;
    const inWait = new Promise<void>((resolve) => (waiting = resolve));
    let endWait!: () => void;
    const waitOver = new Promise<void>((resolve) => (endWait = resolve));
    const { client } = makeClient({
      maxConcurrency: 1,
      sleep: async () => {
        waiting();
        await waitOver;
      },
    });
    const first = client.listInvoices();
    await inWait;
    await client.listInvoices({ offset: 1 });
    const offsets = () => server.requests.map((r) => r.query.get('offset'));
    expect(offsets()).toEqual([null, '1']);
    endWait();
    await first;
    expect(offsets()).toEqual([null, '1', null]);
  });
});
