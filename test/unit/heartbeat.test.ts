import { randomBytes } from 'node:crypto';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withHeartbeat } from '../../src/activities/heartbeat';
import { createSevdeskClient } from '../../src/sevdesk/client';
import { hang, json, startTestServer, type TestServer } from '../sevdesk/helpers/test-server';

// Activities honour cancellation: a purge or terminate cancels the activity; the
// cancellation reaches it through its heartbeats, aborts the sevDesk request in flight and stops the loop.

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

describe('withHeartbeat and cancellation', () => {
  it('aborts an in-flight sevDesk request when the activity is cancelled', async () => {
    server.fallback(hang);
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const started = performance.now();
    const run = env.run(() =>
      withHeartbeat(async (_report, { signal }) => {
        const client = createSevdeskClient({
          baseUrl: server.url,
          token: randomBytes(16).toString('hex'),
          timeoutMs: 30_000,
          signal,
        });
        return client.listInvoices({ limit: 10 });
      }, 50),
    );
    const outcome = run.catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.requests).toHaveLength(1);
    env.cancel('CANCELLED');
    const err = await outcome;
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(beats.length).toBeGreaterThan(1);
  });

  it('stops a page loop at the next report() once cancelled, and never returns a cancelled result', async () => {
    server.fallback(json(200, { objects: [] }));
    const env = new MockActivityEnvironment();
    let pages = 0;
    const run = env
      .run(() =>
        withHeartbeat(async (report) => {
          for (;;) {
            pages++;
            if (pages === 3) env.cancel('CANCELLED');
            report({ pages });
            await new Promise((r) => setTimeout(r, 5));
          }
        }),
      )
      .catch((e: unknown) => e);
    expect(await run).toBeInstanceOf(CancelledFailure);
    expect(pages).toBe(3);

    const env2 = new MockActivityEnvironment();
    const finished = env2
      .run(() =>
        withHeartbeat(async () => {
          env2.cancel('CANCELLED');
          return 'page written';
        }),
      )
      .catch((e: unknown) => e);
    expect(await finished).toBeInstanceOf(CancelledFailure);
  });

  it('passes the latest details on every beat and keeps working when not cancelled', async () => {
    const env = new MockActivityEnvironment({ heartbeatDetails: { offset: 1000 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.run(() =>
      withHeartbeat(async (report) => {
        report({ offset: 2000 });
        await new Promise((r) => setTimeout(r, 30));
        return 'done';
      }, 10),
    );
    expect(result).toBe('done');
    expect(beats[0]).toEqual({ offset: 1000 });
    expect(beats.at(-1)).toEqual({ offset: 2000 });
  });
});
