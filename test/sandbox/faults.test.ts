import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultInjector, RequestLog, startSandbox, type Invoice } from '../../sandbox';
import { api, until, withSandbox, MONEY, type ErrorBody, type ListBody } from './helpers';

const sb = withSandbox({ seed: 2, data: { invoices: 200 } });
beforeAll(sb.start);
afterAll(sb.stop);
afterEach(() => sb.get().faults.clear());

/** Raw GET that reports what arrived before the connection ended, for the truncation fault. */
function rawGet(
  url: string,
  token: string,
): Promise<{ status: number; contentLength: number; received: number; error: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Authorization: token } }, (res) => {
      let received = 0;
      let error: string | null = null;
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('error', (err) => (error = err.message));
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentLength: Number(res.headers['content-length']),
          received,
          error: error ?? (res.complete ? null : 'incomplete'),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('fault injection', () => {
  it('rate-limit: 429 with a JSON envelope, Retry-After only when given, for `times` requests', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'rate-limit' });
    const plain = await api<ErrorBody>(sandbox, '/Invoice');
    expect(plain.status).toBe(429);
    expect(plain.headers.get('retry-after')).toBeNull();
    expect(plain.body).toMatchObject({ error: { responseCode: 429 }, objects: null });
    expect((await api(sandbox, '/Invoice')).status).toBe(200);

    sandbox.faults.add({ kind: 'rate-limit', retryAfterSeconds: 7, times: 2 });
    const first = await api(sandbox, '/Invoice');
    expect(first.headers.get('retry-after')).toBe('7');
    expect(sandbox.faults.pending()).toEqual([{ kind: 'rate-limit', retryAfterSeconds: 7, times: 1 }]);
    expect((await api(sandbox, '/Invoice')).status).toBe(429);
    expect((await api(sandbox, '/Invoice')).status).toBe(200);
    expect(sandbox.faults.pending()).toEqual([]);
  });

  it('matches on the path: a string prefix at segment boundaries or a RegExp', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'rate-limit', path: '/Contact', times: Infinity });
    expect((await api(sandbox, '/Invoice')).status).toBe(200);
    expect((await api(sandbox, '/ContactAddress')).status).toBe(200);
    expect((await api(sandbox, '/Contact')).status).toBe(429);
    expect((await api(sandbox, '/Contact/1')).status).toBe(429);
    expect(sandbox.faults.pending()[0]?.times).toBe(Infinity);
    sandbox.faults.clear();
    sandbox.faults.add({ kind: 'rate-limit', path: /^\/Invoice\/\d+$/ });
    expect((await api(sandbox, '/Invoice')).status).toBe(200);
    expect((await api(sandbox, '/Invoice/1')).status).toBe(429);
  });

  it('server-error-html: 500 with an HTML body', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'server-error-html' });
    const res = await api(sandbox, '/Invoice');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(res.text).toMatch(/^<html>/);
  });

  it('slow: answers normally after the delay', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'slow', delayMs: 250 });
    const started = performance.now();
    const res = await api<ListBody<Invoice>>(sandbox, '/Invoice?limit=3');
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(res.status).toBe(200);
    expect(res.body.objects).toHaveLength(3);
  });

  it('hang: never answers, and close() ends it instead of waiting', async () => {
    const sandbox = await startSandbox({ data: { invoices: 10 } });
    sandbox.faults.add({ kind: 'hang' });
    await expect(api(sandbox, '/Invoice', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(sandbox.requests.entries().at(-1)?.status).toBe(0);
    sandbox.faults.add({ kind: 'hang' });
    const pending = fetch(`${sandbox.url}/Invoice`, { headers: { Authorization: sandbox.token } }).catch(
      (err: unknown) => err,
    );
    // close() must meet a request in flight: wait until the sandbox has logged it (unanswered), not a fixed time.
    await until(() => sandbox.requests.count() === 2, 5_000, 'the second hanging request to arrive');
    expect(sandbox.requests.entries().at(-1)?.status).toBe(0);
    // close() ends the hanging request instead of waiting for it (which would be for ever).
    await sandbox.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('truncated: a correct Content-Length but only half the body, then the socket dies', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'truncated' });
    const res = await rawGet(`${sandbox.url}/Invoice?limit=50`, sandbox.token);
    expect(res.status).toBe(200);
    expect(res.received).toBeLessThan(res.contentLength);
    expect(res.received).toBeGreaterThan(0);
    expect(res.error).not.toBeNull();
    const full = await api(sandbox, '/Invoice?limit=50');
    expect(Buffer.byteLength(full.text)).toBe(res.contentLength);

    sandbox.faults.add({ kind: 'truncated' });
    await expect(api(sandbox, '/Invoice?limit=50')).rejects.toThrow(TypeError);
  });

  it('malformed: corrupts one field of one object; the rest of the page stays valid', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'malformed' });
    const bad = await api<ListBody<Invoice>>(sandbox, '/Invoice?limit=20');
    const good = await api<ListBody<Invoice>>(sandbox, '/Invoice?limit=20');
    const broken = bad.body.objects.filter((i) => !MONEY.test(i.sumGross));
    expect(broken).toHaveLength(1);
    expect(broken[0]?.sumGross).toBe('abc');
    const at = bad.body.objects.indexOf(broken[0]!);
    expect(bad.body.objects.filter((_, k) => k !== at)).toEqual(good.body.objects.filter((_, k) => k !== at));
    expect(good.body.objects[at]?.sumGross).toMatch(MONEY);

    sandbox.faults.add({ kind: 'malformed', field: 'id' });
    const numeric = await api<ListBody<{ id: unknown }>>(sandbox, '/Contact?limit=10');
    expect(numeric.body.objects.filter((c) => typeof c.id === 'number')).toHaveLength(1);

    sandbox.faults.add({ kind: 'malformed' });
    expect((await api(sandbox, '/Invoice/1')).status).toBe(404);
    expect(sandbox.faults.pending()).toHaveLength(1);
  });

  it('empty-page, short-page, duplicate-rows: a list page that lies about its length, total unchanged', async () => {
    const sandbox = sb.get();
    const query = '/Invoice?limit=40&countAll=true';
    const good = (await api<ListBody<Invoice>>(sandbox, query)).body;
    expect(good.objects).toHaveLength(40);

    sandbox.faults.add({ kind: 'empty-page' });
    expect((await api<ListBody<Invoice>>(sandbox, query)).body).toEqual({ ...good, objects: [] });

    sandbox.faults.add({ kind: 'short-page' });
    expect((await api<ListBody<Invoice>>(sandbox, query)).body).toEqual({
      ...good,
      objects: good.objects.slice(0, 20),
    });

    sandbox.faults.add({ kind: 'duplicate-rows' });
    const dup = (await api<ListBody<Invoice>>(sandbox, query)).body;
    expect(dup.total).toBe(good.total);
    expect(dup.objects.map((i) => i.id)).toEqual(
      [...good.objects.slice(0, 30), ...good.objects.slice(0, 10)].map((i) => i.id),
    );
    expect(sandbox.faults.pending()).toEqual([]);
    expect((await api<ListBody<Invoice>>(sandbox, query)).body).toEqual(good);
  });

  it('skip: lets matching requests through first; an error answer is not distorted and keeps the fault', async () => {
    const sandbox = sb.get();
    const page = (offset: number) => `/Invoice?limit=10&offset=${offset}`;
    sandbox.faults.add({ kind: 'empty-page', path: /^\/Invoice$/, skip: 2 });
    // Another path neither fires the fault nor counts towards its skip.
    expect((await api<ListBody<unknown>>(sandbox, '/Contact?depth=1&limit=10')).body.objects).toHaveLength(
      10,
    );
    expect(sandbox.faults.pending()).toEqual([
      { kind: 'empty-page', path: /^\/Invoice$/, skip: 2, times: 1 },
    ]);
    expect((await api<ListBody<Invoice>>(sandbox, page(0))).body.objects).toHaveLength(10);
    expect(sandbox.faults.pending()).toEqual([
      { kind: 'empty-page', path: /^\/Invoice$/, skip: 1, times: 1 },
    ]);
    expect((await api<ListBody<Invoice>>(sandbox, page(10))).body.objects).toHaveLength(10);
    expect((await api<ListBody<Invoice>>(sandbox, page(20))).body.objects).toEqual([]);
    expect((await api<ListBody<Invoice>>(sandbox, page(20))).body.objects).toHaveLength(10);

    sandbox.faults.add({ kind: 'short-page' });
    expect((await api(sandbox, '/Invoice?limit=0')).status).toBe(400);
    expect(sandbox.faults.pending()).toHaveLength(1);
    expect((await api<ListBody<Invoice>>(sandbox, page(0))).body.objects).toHaveLength(5);
  });

  it('invalid-token: 401 although the token is right', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'invalid-token' });
    const res = await api<ErrorBody>(sandbox, '/Invoice');
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('Authentication required');
    expect((await api(sandbox, '/Invoice')).status).toBe(200);
  });

  it('error-200: HTTP 200 carrying the error envelope', async () => {
    const sandbox = sb.get();
    sandbox.faults.add({ kind: 'error-200' });
    const res = await api<ErrorBody>(sandbox, '/Invoice');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ error: { code: 390 }, objects: null });
  });

  it('rejects a non-positive times', () => {
    expect(() => new FaultInjector().add({ kind: 'slow', times: 0 })).toThrow(/times must be > 0/);
    expect(() => new FaultInjector().add({ kind: 'slow', times: -1 })).toThrow(/times must be > 0/);
    expect(() => new FaultInjector().add({ kind: 'slow', times: Number.NaN })).toThrow(/times must be > 0/);
  });
});

describe('request log', () => {
  it('records method, path, query and status, never the Authorization header', async () => {
    const sandbox = sb.get();
    sandbox.requests.reset();
    await api(sandbox, '/Invoice?limit=2&contact[id]=5');
    await api(sandbox, '/Nope');
    await api(sandbox, '/Invoice', { token: null });
    expect(sandbox.requests.count()).toBe(3);
    const entries = sandbox.requests.entries();
    expect(entries.map((e) => [e.method, e.path, e.status])).toEqual([
      ['GET', '/api/v1/Invoice', 200],
      ['GET', '/api/v1/Nope', 404],
      ['GET', '/api/v1/Invoice', 401],
    ]);
    expect(entries[0]?.query).toEqual({ limit: '2', 'contact[id]': '5' });
    expect(JSON.stringify(entries)).not.toContain(sandbox.token);
  });

  it('keeps only the newest entries', () => {
    const log = new RequestLog(3);
    for (let i = 0; i < 5; i++) log.record({ method: 'GET', path: `/p${i}`, query: {}, at: i });
    expect(log.count()).toBe(5);
    expect(log.entries().map((e) => e.path)).toEqual(['/p2', '/p3', '/p4']);
    log.reset();
    expect(log.entries()).toEqual([]);
  });
});
