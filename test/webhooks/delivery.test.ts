// Webhook delivery end to end: a real worker (its webhook task queue), the dev server, PostgreSQL and a local
// receiver that verifies every signature with the `standardwebhooks` package. Events are written as the
// change feed's triggers write them (sevsync_emit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app';
import { connectApp } from '../../src/app';
import type { WebhookView } from '../../src/app/webhooks';
import { addWebhook, enableWebhook, listWebhooks, removeWebhook } from '../../src/app/webhooks';
import { DEFAULT_EVENTS, DEFAULT_OPS } from '../../src/config';
import type { Sql } from '../../src/db/client';
import { webhookWorkflowId } from '../../src/webhooks/settings';
import type { RunningWorker } from '../helpers/env';
import { capturedLogs, eventually, randomId, startWorker, testConfig } from '../helpers/env';
import type { Receiver } from './receiver';
import { orderProblem, startReceiver } from './receiver';

const config = testConfig({
  events: {
    ...DEFAULT_EVENTS,
    webhookTaskQueue: randomId('tq-webhooks'),
    // 7.2 s: the failures of the first test end well before (the dev server fires timers of less than a
    // second after about a second); the endpoint that never recovers gives up.
    webhookGiveUpHours: 0.002,
    webhookTimeoutMs: 300,
  },
});
/** Retries within milliseconds, and short delivery runs, so that the tests take seconds. */
const tuning = { retryScheduleMs: [100, 200, 300, 400], runBudgetMs: 3000, maxRunsPerExecution: 4 };

let worker: RunningWorker;
let app: AppDeps;
let receiver: Receiver;
const secrets: string[] = [];

beforeAll(async () => {
  worker = await startWorker(config);
  app = await connectApp(config);
  receiver = await startReceiver();
});

afterAll(async () => {
  for (const w of await listWebhooks(app))
    if (w.url.startsWith(receiver.url('/'))) await removeWebhook(app, w.id);
  await app?.close();
  await worker?.stop();
  await receiver?.close();
  const logs = capturedLogs.join('\n');
  for (const s of secrets) expect(logs.includes(s), 'a signing secret in the logs').toBe(false);
});

/** Writes events for an account as the triggers do: one transaction, consecutive seqs. */
async function emit(sql: Sql, account: string, n: number, type = 'invoice.created', from = 0) {
  const events = Array.from({ length: n }, (_, i) => ({
    type,
    data: { number: `RE-${from + i + 1}`, n: from + i + 1 },
  }));
  await sql`select sevsync_emit(${account}, ${JSON.stringify(events)}::jsonb)`;
}

async function add(path: string, input: { accountId?: string; types?: string[] } = {}) {
  const added = await addWebhook(app, { url: receiver.url(path), ...input, tuning });
  secrets.push(added.secret);
  receiver.secret(path, added.secret);
  return added;
}

const view = async (id: string): Promise<WebhookView> => (await listWebhooks(app)).find((w) => w.id === id)!;

/** The seqs of one account's events the receiver got on `path`, in arrival order (verified ones only). */
const seqsOf = (path: string, account: string) =>
  receiver
    .received(path)
    .filter((r) => r.event?.account === account)
    .map((r) => r.event!.seq);

describe('webhook delivery', () => {
  it('a receiver that answers 500 for a while and then 200 gets every event once or more, in order, signed', async () => {
    const a = randomId('wh-a');
    const b = randomId('wh-b');
    // A 500, an answer that never comes (the time limit), a 502, then 200 for good.
    const flaky = (n: number) => (n === 0 ? 500 : n === 1 ? 'hang' : n === 2 ? 502 : 200);
    receiver.behave('/all', flaky);
    receiver.behave('/a-only', flaky);
    // Every account's events, of two types (the test database is shared: other tests' events of other
    // types are passed over, the few of these types come too).
    const all = await add('/all', { types: ['import.finished', 'issue.resolved'] });
    const onlyA = await add('/a-only', { accountId: a, types: ['import.finished'] });
    expect(all.secret).toMatch(/^whsec_/);
    expect(onlyA).toMatchObject({ account: a, types: ['import.finished'] });

    // Interleaved transactions of two accounts; a type the second endpoint does not want.
    await emit(app.db.sql, a, 10, 'import.finished');
    await emit(app.db.sql, b, 5, 'import.finished');
    await emit(app.db.sql, a, 3, 'issue.resolved', 10);
    await emit(app.db.sql, a, 7, 'import.finished', 13);
    await emit(app.db.sql, b, 15, 'issue.resolved', 5);

    await eventually(
      async () =>
        seqsOf('/all', a).includes(20) && seqsOf('/all', b).includes(20) && seqsOf('/a-only', a).includes(20),
      30_000,
      'every event delivered',
    );
    const problems = {
      allA: orderProblem(seqsOf('/all', a), 1, 20),
      allB: orderProblem(seqsOf('/all', b), 1, 20),
    };
    expect(problems).toEqual({ allA: undefined, allB: undefined });
    // The account endpoint got account A's import.finished events only: seqs 1-10 and 14-20, in order.
    const onlyASeqs = seqsOf('/a-only', a);
    expect([...new Set(onlyASeqs)]).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      14,
      15,
      16,
      17,
      18,
      19,
      20,
    ]);
    expect(receiver.received('/a-only').every((r) => r.event?.type === 'import.finished')).toBe(true);

    for (const path of ['/all', '/a-only']) {
      const got = receiver.received(path);
      // Every request verified with the standardwebhooks package, its webhook-id being the event's id.
      expect(got.filter((r) => !r.verified)).toEqual([]);
      expect(got.every((r) => r.id === r.event!.id && /^evt_[0-9a-f]{32}$/.test(r.id))).toBe(true);
      // The failed ones were retried with the same id; after the 200s began nothing came twice.
      const failedIds = got.filter((r) => r.status !== 200).map((r) => r.id);
      expect(failedIds.length).toBe(3);
      expect(new Set(failedIds).size).toBe(1);
      const ok = got.filter((r) => r.status === 200).map((r) => r.id);
      expect(new Set(ok).size).toBe(ok.length);
      expect(ok[0]).toBe(failedIds[0]);
    }

    const v = await eventually(async () => {
      const w = await view(all.id);
      return w.state === 'active' && w.delivered >= 40 ? w : undefined;
    });
    expect(v).toMatchObject({
      enabled: true,
      attempts: 0,
      failingSince: null,
      lastError: null,
      lastStatus: 200,
    });
    expect(JSON.stringify(await listWebhooks(app))).not.toContain(all.secret);
  });

  it('an endpoint that keeps failing is disabled after the give-up time, logged, and enabling it resumes where it stopped', async () => {
    const c = randomId('wh-c');
    let up = false;
    receiver.behave('/down', () => (up ? 200 : 503));
    const ep = await add('/down', { accountId: c });
    await emit(app.db.sql, c, 5);

    const disabled = await eventually(
      async () => {
        const w = await view(ep.id);
        return w.state === 'disabled' ? w : undefined;
      },
      30_000,
      'the endpoint disabled',
    );
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(
      /^failed \d+ times in a row since .*; last: HTTP 503: no \(503\)$/,
    );
    expect(disabled.lastStatus).toBe(503);
    expect(disabled.delivered).toBe(0);
    const line = capturedLogs.find((l) => l.includes('endpoint.disabled') && l.includes(ep.id));
    expect(line, 'an endpoint.disabled log line').toBeDefined();
    expect(line).toContain(c);
    expect(line).not.toContain(ep.secret);

    // Nothing goes out while it is disabled; events keep coming.
    await emit(app.db.sql, c, 3, 'invoice.updated', 5);
    const before = receiver.received('/down').length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.received('/down').length).toBe(before);

    up = true;
    const enabled = await enableWebhook(app, ep.id);
    expect(enabled).toMatchObject({ state: 'active', enabled: true, disabledAt: null, disabledReason: null });
    await eventually(async () => seqsOf('/down', c).includes(8), 20_000, 'delivery resumed');
    expect(orderProblem(seqsOf('/down', c), 1, 8)).toBeUndefined();
    const ok = receiver.received('/down').filter((r) => r.status === 200);
    expect(ok.map((r) => r.event!.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Enabling again is harmless.
    await enableWebhook(app, ep.id);
  });

  it('removing an endpoint ends its workflow; its id is then unknown', async () => {
    const ep = await add('/removed');
    const handle = app.temporal.workflow.getHandle(webhookWorkflowId(ep.id));
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await removeWebhook(app, ep.id);
    expect((await handle.describe()).status.name).toBe('TERMINATED');
    expect((await listWebhooks(app)).some((w) => w.id === ep.id)).toBe(false);
    await expect(removeWebhook(app, ep.id)).rejects.toMatchObject({ type: 'not_found' });
    await expect(enableWebhook(app, ep.id)).rejects.toMatchObject({ type: 'not_found' });
  });
});

describe('a worker shutting down', () => {
  it('does not wait out its grace time for delivery runs that wait for events', async () => {
    const cfg = testConfig({
      ops: { ...DEFAULT_OPS, shutdownGraceSeconds: 60 },
      events: { ...DEFAULT_EVENTS, webhookTaskQueue: randomId('tq-webhooks') },
    });
    const w = await startWorker(cfg);
    const deps = await connectApp(cfg);
    try {
      const ep = await addWebhook(deps, { url: receiver.url('/shutdown'), accountId: randomId('wh-d') });
      secrets.push(ep.secret);
      // The run has started and waits for events (it heartbeats while it waits).
      await eventually(async () => {
        const d = await deps.temporal.workflow.getHandle(webhookWorkflowId(ep.id)).describe();
        return d.raw.pendingActivities?.some((a) => a.lastStartedTime) ?? false;
      });
      const started = Date.now();
      await w.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
      await removeWebhook(deps, ep.id);
    } finally {
      await deps.close();
    }
  });
});
