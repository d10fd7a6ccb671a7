import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyMs } from '../../sandbox/server';
import { api, until, withSandbox, type ListBody } from './helpers';

// The sandbox's latency profile. Lower bounds only: a busy machine makes an answer later, never earlier. How
// fast the sandbox answers without a profile is measured by the benches (bench/README.md), not here.

const REQUEST_MS = 150;
const PER_OBJECT_MS = 1;
/** Long enough that another request is in and out again while an answer is still held back. */
const HELD_MS = 1_000;
const slow = withSandbox({
  seed: 3,
  data: { invoices: 60, contacts: 10 },
  latency: { requestMs: REQUEST_MS, perObjectMs: PER_OBJECT_MS },
});
const held = withSandbox({ seed: 3, data: { invoices: 60, contacts: 10 }, latency: { requestMs: HELD_MS } });
const fast = withSandbox({ seed: 3, data: { invoices: 60, contacts: 10 } });
beforeAll(async () => {
  await slow.start();
  await held.start();
  await fast.start();
});
afterAll(async () => {
  await slow.stop();
  await held.stop();
  await fast.stop();
});

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

describe('latency profile', () => {
  it('computes a fixed delay plus a delay per object, and none without a profile', () => {
    expect(latencyMs(undefined, 1000)).toBe(0);
    expect(latencyMs({ requestMs: 250, perObjectMs: 0.4 }, 1000)).toBe(650);
    expect(latencyMs({ perObjectMs: 2 }, 0)).toBe(0);
  });

  it('delays an answer by at least the fixed delay plus the per-object delay', async () => {
    const { ms, value } = await timed(() => api<ListBody<unknown>>(slow.get(), '/Invoice?limit=50&offset=0'));
    expect(value.status).toBe(200);
    expect(value.body.objects).toHaveLength(50);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS + 50 * PER_OBJECT_MS - 5);
  });

  it('also delays error answers by the fixed delay', async () => {
    const { ms, value } = await timed(() => api(slow.get(), '/Invoice', { token: 'wrong' }));
    expect(value.status).toBe(401);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 5);
  });

  it('lets concurrent requests overlap (a timer, not a blocked event loop)', async () => {
    const sandbox = held.get();
    sandbox.requests.reset();
    const answers = Promise.all(Array.from({ length: 4 }, () => api(sandbox, '/Invoice?limit=1')));
    // All four are in and none is answered yet: each waits on its own timer. A wait that blocked the event
    // loop would answer one request before it even read the next.
    await until(
      () => sandbox.requests.entries().filter((e) => e.status === 0).length === 4,
      HELD_MS,
      'four requests held at once',
    );
    expect((await answers).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('is off by default', async () => {
    const sandbox = held.get();
    sandbox.requests.reset();
    const late = api(sandbox, '/Invoice?limit=1');
    await until(() => sandbox.requests.count() === 1, HELD_MS, 'the held request');
    // Without a profile, a request is answered while the held one still waits out its delay.
    expect((await api(fast.get(), '/Invoice?limit=1')).status).toBe(200);
    expect(sandbox.requests.entries()[0]?.status).toBe(0);
    expect((await late).status).toBe(200);
  });
});
