// One delivery run (what the deliverWebhooks activity runs), without Temporal, on a database of its own (so
// the global feed holds only this file's events): where it resumes after a failure in the middle of a page,
// the failure streak, giving up, a run that was superseded, events that retention removed, a secret that no
// key opens.
import { randomBytes } from 'node:crypto';
import type { Logger } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/db/client';
import { decodeCursor, globalHead, pruneEvents } from '../../src/db/events';
import { claimWebhookRunner, insertWebhookEndpoint, loadWebhookEndpoint } from '../../src/db/webhooks';
import { keyringOf } from '../../src/secrets';
import type { DeliveryControl, DeliveryOutcome } from '../../src/webhooks/delivery';
import { deliverPending } from '../../src/webhooks/delivery';
import { EventNotifier } from '../../src/webhooks/notify';
import { openWebhookSecret, sealWebhookSecret } from '../../src/webhooks/secret';
import { WebhookSender } from '../../src/webhooks/send';
import { generateWebhookSecret } from '../../src/webhooks/sign';
import { randomId } from '../helpers/env';
import type { PrivateDb } from '../helpers/private-db';
import { privateDatabase } from '../helpers/private-db';
import type { Receiver } from './receiver';
import { startReceiver } from './receiver';

let db: PrivateDb;
let receiver: Receiver;
let sender: WebhookSender;
let notifier: EventNotifier;
const ring = keyringOf(randomBytes(32));
const lines: { level: string; message: string; meta: unknown }[] = [];
const log: Logger = {
  log: (level, message, meta) => void lines.push({ level, message, meta }),
  trace: () => {},
  debug: () => {},
  info: (message, meta) => void lines.push({ level: 'INFO', message, meta }),
  warn: (message, meta) => void lines.push({ level: 'WARN', message, meta }),
  error: (message, meta) => void lines.push({ level: 'ERROR', message, meta }),
};

beforeAll(async () => {
  db = await privateDatabase();
  receiver = await startReceiver();
  sender = new WebhookSender({ timeoutMs: 2000, allowPrivate: false });
  notifier = new EventNotifier(db.sql);
});

afterAll(async () => {
  await notifier?.close();
  await sender?.close();
  await receiver?.close();
  await db?.drop();
});

const deps = (giveUpHours = 72) => ({
  sql: db.sql,
  sender,
  notifier,
  openSecret: (e: Parameters<typeof openWebhookSecret>[1]) => openWebhookSecret(ring, e),
  giveUpHours,
  log,
});
const quick: DeliveryControl = { budgetMs: 0, retryScheduleMs: [1] };

async function emit(sql: Sql, account: string, n: number, type = 'invoice.created') {
  const events = Array.from({ length: n }, (_, i) => ({ type, data: { i } }));
  await sql`select sevsync_emit(${account}, ${JSON.stringify(events)}::jsonb)`;
}

async function endpoint(path: string, over: { accountId?: string; types?: string[] } = {}) {
  const id = `we_${randomBytes(12).toString('hex')}`;
  const secret = generateWebhookSecret();
  const url = receiver.url(path);
  const sealed = sealWebhookSecret(ring, id, url, secret);
  await insertWebhookEndpoint(db.sql, {
    id,
    url,
    accountId: over.accountId ?? null,
    types: over.types ?? null,
    secretCiphertext: sealed.ciphertext,
    secretKeyId: sealed.keyId,
  });
  receiver.secret(path, secret);
  return { id, secret };
}

/**
 * Runs deliveries (each handing back after a page, `quick`) until `done`. The global feed serves a
 * transaction only once every older one in the PostgreSQL cluster has ended: other test files' transactions
 * (in other databases too) may hold it back for a moment, so this polls.
 */
async function runUntil(
  id: string,
  done: (total: number, last: DeliveryOutcome) => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<{ total: number; last: DeliveryOutcome }> {
  const deadline = Date.now() + timeoutMs;
  let total = 0;
  for (;;) {
    const last = await deliverPending(deps(), id, quick);
    total += last.delivered;
    if (await done(total, last)) return { total, last };
    if (Date.now() > deadline)
      throw new Error(`timed out after ${total} delivered (last: ${JSON.stringify(last)})`);
    if (last.delivered === 0) await new Promise((r) => setTimeout(r, 50));
  }
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const okSeqs = (path: string, account: string) =>
  receiver
    .received(path)
    .filter((r) => r.status === 200 && r.event?.account === account)
    .map((r) => r.event!.seq);

describe('a delivery run', () => {
  it('after a failure in the middle of a page of the global feed, resumes exactly at the failed event', async () => {
    const x = randomId('x');
    const y = randomId('y');
    const ep = await endpoint('/global');
    const other = await endpoint('/filtered', { types: ['issue.opened'] });
    await emit(db.sql, x, 120);
    await emit(db.sql, y, 10);
    await emit(db.sql, x, 30);
    // The 130th request (the 30th event of the second page) fails once.
    receiver.behave('/global', (n) => (n === 129 ? 500 : 200));
    // Runs hand back after each page here (no time budget): the first 129 are delivered, then the failure.
    const first = await runUntil(ep.id, (_, r) => r.outcome === 'retry');
    expect(first).toEqual({
      total: 129,
      last: { outcome: 'retry', delivered: expect.any(Number), delayMs: 100 },
    });
    expect(await loadWebhookEndpoint(db.sql, ep.id)).toMatchObject({
      delivered: 129,
      attempts: 1,
      lastStatus: 500,
      lastError: 'HTTP 500: no (500)',
    });
    const failed = receiver.received('/global')[129]!;
    // The rest, starting with the event that failed; then nothing new.
    expect((await runUntil(ep.id, (total) => total >= 31)).total).toBe(31);
    expect(receiver.received('/global')[130]!.id).toBe(failed.id);
    expect(await deliverPending(deps(), ep.id, quick)).toEqual({ outcome: 'continue', delivered: 0 });
    expect(okSeqs('/global', x)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(okSeqs('/global', y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await loadWebhookEndpoint(db.sql, ep.id)).toMatchObject({
      delivered: 160,
      attempts: 0,
      failingSince: null,
      nextAttemptAt: null,
      lastError: null,
      lastStatus: 200,
    });
    // An endpoint whose types none of these are: nothing posted, and its position moves to the end anyway.
    const at = ({ xid, account, seq }: ReturnType<typeof decodeCursor>) => ({ xid, account, seq });
    const end = at(decodeCursor(await globalHead(db.sql)));
    await runUntil(other.id, async () =>
      equal(at(decodeCursor((await loadWebhookEndpoint(db.sql, other.id))?.cursor ?? undefined)), end),
    );
    expect(receiver.received('/filtered')).toEqual([]);
  });

  it('counts failures in a row: a 2xx ends the streak; past the give-up time it disables the endpoint', async () => {
    const z = randomId('z');
    const ep = await endpoint('/streak', { accountId: z });
    await emit(db.sql, z, 5);
    // Failing for an hour already, 3 attempts; the run delivers two events and then fails.
    await db.sql`update webhook_progress set attempts = 3, failing_since = now() - interval '1 hour'
      where endpoint_id = ${ep.id}`;
    receiver.behave('/streak', (n) => (n === 2 ? 503 : 200));
    expect(await deliverPending(deps(), ep.id, quick)).toMatchObject({ outcome: 'retry', delivered: 2 });
    const after = (await loadWebhookEndpoint(db.sql, ep.id))!;
    expect(after.attempts).toBe(1);
    expect(Date.now() - after.failingSince!.getTime()).toBeLessThan(60_000);

    // Failing since 73 hours: the next failure gives up.
    receiver.behave('/streak', () => 503);
    await db.sql`update webhook_progress set failing_since = now() - interval '73 hours'
      where endpoint_id = ${ep.id}`;
    expect(await deliverPending(deps(), ep.id, quick)).toEqual({ outcome: 'disabled', delivered: 0 });
    expect(await loadWebhookEndpoint(db.sql, ep.id)).toMatchObject({
      enabled: false,
      attempts: 2,
      disabledReason: expect.stringMatching(/^failed 2 times in a row since .*; last: HTTP 503: no \(503\)$/),
    });
    const line = lines.find((l) => l.message === 'endpoint.disabled');
    expect(line).toMatchObject({
      level: 'WARN',
      meta: { event: 'endpoint.disabled', endpoint: ep.id, account: z, attempts: 2, lastStatus: 503 },
    });
    expect(JSON.stringify(lines)).not.toContain(ep.secret);
    // Disabled: nothing is posted until it is enabled.
    const before = receiver.received('/streak').length;
    expect(await deliverPending(deps(), ep.id, quick)).toEqual({ outcome: 'disabled', delivered: 0 });
    expect(receiver.received('/streak').length).toBe(before);
  });

  it('a run that another run took over stops at its next save', async () => {
    const w = randomId('w');
    const ep = await endpoint('/superseded', { accountId: w });
    const run = deliverPending(deps(), ep.id, { budgetMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await claimWebhookRunner(db.sql, ep.id, 'the-newer-run')).toBe(true);
    await emit(db.sql, w, 3);
    expect(await run).toEqual({ outcome: 'continue', delivered: 3 });
    // Its position was not saved: the newer run delivers them again (at least once).
    expect((await loadWebhookEndpoint(db.sql, ep.id))?.afterSeq).toBe(0);
  });

  it('goes on from the oldest event kept when retention removed what it had not delivered, and says so', async () => {
    const v = randomId('v');
    const ep = await endpoint('/gone', { accountId: v });
    const all = await endpoint('/gone-all');
    await emit(db.sql, v, 4);
    await db.sql`update events set occurred_at = now() - interval '100 days' where account_id = ${v} and seq <= 2`;
    await pruneEvents(db.sql, { retentionDays: 90 });
    expect(await deliverPending(deps(), ep.id, quick)).toMatchObject({ delivered: 2 });
    expect(okSeqs('/gone', v)).toEqual([3, 4]);
    expect(lines.find((l) => l.message === 'endpoint.events_lost')).toMatchObject({
      meta: { endpoint: ep.id, account: v },
    });
    // The same for an endpoint of every account (the global feed's cursor).
    expect((await runUntil(all.id, (total) => total >= 2)).total).toBe(2);
    expect(okSeqs('/gone-all', v)).toEqual([3, 4]);
    expect(lines.filter((l) => l.message === 'endpoint.events_lost').map((l) => l.meta)).toContainEqual(
      expect.objectContaining({ endpoint: all.id, account: null }),
    );
  });

  it('a secret no configured key opens is a failure that says so, without the secret', async () => {
    const u = randomId('u');
    const ep = await endpoint('/nokey', { accountId: u });
    await emit(db.sql, u, 1);
    const wrong = {
      ...deps(),
      openSecret: (e: Parameters<typeof openWebhookSecret>[1]) =>
        openWebhookSecret(keyringOf(randomBytes(32)), e),
    };
    expect(await deliverPending(wrong, ep.id, quick)).toMatchObject({ outcome: 'retry', delivered: 0 });
    const after = await loadWebhookEndpoint(db.sql, ep.id);
    expect(after?.lastError).toMatch(
      /^the signing secret of webhook we_[0-9a-f]{24} cannot be decrypted: it was encrypted with key \w+/,
    );
    expect(after?.lastError).not.toContain(ep.secret.slice(6));
    expect(receiver.received('/nokey')).toEqual([]);
  });
});
