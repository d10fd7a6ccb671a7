import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyMs } from '../../src/sandbox/server';
import { api, withSandbox, type ListBody } from './helpers';

const REQUEST_MS = 150;
const PER_OBJECT_MS = 1;
const slow = withSandbox({
  seed: 3,
  data: { invoices: 60, contacts: 10 },
  latency: { requestMs: REQUEST_MS, perObjectMs: PER_OBJECT_MS },
});
const fast = withSandbox({ seed: 3, data: { invoices: 60, contacts: 10 } });
beforeAll(async () => {
  await slow.start();
  await fast.start();
});
afterAll(async () => {
  await slow.stop();
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
    const { ms, value } = await timed(() =>
      Promise.all(Array.from({ length: 4 }, () => api(slow.get(), '/Invoice?limit=1'))),
    );
    expect(value.every((r) => r.status === 200)).toBe(true);
    const one = REQUEST_MS + PER_OBJECT_MS;
    expect(ms).toBeGreaterThanOrEqual(one - 5);
    expect(ms).toBeLessThan(2 * one);
  });

  it('is off by default', async () => {
    const { ms, value } = await timed(() => api(fast.get(), '/Invoice?limit=1'));
    expect(value.status).toBe(200);
    expect(ms).toBeLessThan(REQUEST_MS);
  });
});
