// Webhook delivery throughput: N events of one account, delivered by the delivery run (what the
// `deliverWebhooks` activity runs, without Temporal around it: one run delivers a whole backlog) to a local
// kept-alive receiver, signed, one POST at a time in seq order. Goal: 2,000 events/s.
//
//   npx tsx bench/webhook-delivery.ts [--events 20000]      (a fresh database from SEVSYNC_BENCH_PG_URL)
//
// `benchWebhookDelivery({ databaseUrl })` is the same on a migrated database of the caller's.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createDb } from '../src/db/client';
import { insertWebhookEndpoint } from '../src/db/webhooks';
import { keyringOf } from '../src/secrets';
import { deliverPending } from '../src/webhooks/delivery';
import { EventNotifier } from '../src/webhooks/notify';
import { openWebhookSecret, sealWebhookSecret } from '../src/webhooks/secret';
import { WebhookSender } from '../src/webhooks/send';
import { generateWebhookSecret } from '../src/webhooks/sign';

export interface WebhookBenchOptions {
  /** A migrated database (the events and the endpoint are added under a fresh account). */
  databaseUrl: string;
  /** Events to deliver (default 20,000). */
  events?: number;
  /** Every n-th request is verified with the `standardwebhooks` package (default 1000; 0: none). */
  verifyEvery?: number;
}

export interface WebhookBenchResult {
  events: number;
  /** From the start of the run to the receiver's last event. */
  seconds: number;
  eventsPerSecond: number;
  /** Requests the receiver got (more than `events` only if something was delivered twice). */
  requests: number;
  /** Every event arrived, in seq order, and every sampled signature verified. */
  ok: boolean;
  /** Writing the events (sevsync_emit, 1,000 per transaction), for scale. */
  emitSeconds: number;
}

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function benchWebhookDelivery(opts: WebhookBenchOptions): Promise<WebhookBenchResult> {
  const n = opts.events ?? 20_000;
  const verifyEvery = opts.verifyEvery ?? 1000;
  const db = createDb(opts.databaseUrl, { max: 4, applicationName: 'sevsync-bench-webhooks' });
  const ring = keyringOf(randomBytes(32));
  const account = `bench-webhooks-${randomBytes(4).toString('hex')}`;
  const secret = generateWebhookSecret();
  const verifier = new Webhook(secret);

  let requests = 0;
  let nextSeq = 1;
  let problems = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      const seq = (JSON.parse(body) as { seq: number }).seq;
      if (seq === nextSeq) nextSeq += 1;
      else if (seq >= nextSeq) problems += 1;
      if (verifyEvery > 0 && requests % verifyEvery === 0) {
        try {
          verifier.verify(body, req.headers as Record<string, string>);
        } catch {
          problems += 1;
        }
      }
      res.writeHead(204).end();
      if (nextSeq > n) done();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const sender = new WebhookSender({ timeoutMs: 10_000, allowPrivate: false });
  const notifier = new EventNotifier(db.sql);
  const ac = new AbortController();
  try {
    const id = `we_${randomBytes(12).toString('hex')}`;
    const sealed = sealWebhookSecret(ring, id, url, secret);
    await insertWebhookEndpoint(db.sql, {
      id,
      url,
      accountId: account,
      types: null,
      secretCiphertext: sealed.ciphertext,
      secretKeyId: sealed.keyId,
    });
    const emitStarted = performance.now();
    for (let from = 0; from < n; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - from) }, (_, i) => ({
        type: 'invoice.created',
        data: {
          sourceId: String(from + i + 1),
          number: `RE-${from + i + 1}`,
          date: '2026-12-01',
          dueDate: '2026-12-15',
          status: 'open',
          amount: '1190.00',
          paidAmount: '0.00',
          currency: 'EUR',
          source: 'sevdesk',
          foreignAmount: null,
          foreignCurrency: null,
          customer: `kunde-${(from + i) % 500}@example.com`,
        },
      }));
      await db.sql`select sevsync_emit(${account}, ${JSON.stringify(batch)}::jsonb)`;
    }
    const emitSeconds = (performance.now() - emitStarted) / 1000;

    const started = performance.now();
    const run = deliverPending(
      {
        sql: db.sql,
        sender,
        notifier,
        openSecret: (e) => openWebhookSecret(ring, e),
        giveUpHours: 72,
        log: silent,
      },
      id,
      { signal: ac.signal, budgetMs: 10 * 60_000 },
    ).catch((err: unknown) => {
      if (!ac.signal.aborted) throw err;
    });
    await Promise.race([finished, run]);
    const seconds = (performance.now() - started) / 1000;
    ac.abort(new Error('bench done'));
    await run;
    return {
      events: n,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(n / seconds),
      requests,
      ok: nextSeq > n && problems === 0,
      emitSeconds: Math.round(emitSeconds * 100) / 100,
    };
  } finally {
    ac.abort(new Error('bench done'));
    await notifier.close();
    await sender.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await db.sql`delete from webhook_endpoints where url = ${url}`.catch(() => undefined);
    await db.close();
  }
}

async function main(): Promise<void> {
  const { createDatabase, dropDatabase } = await import('./infra');
  const i = process.argv.indexOf('--events');
  const events = i > 0 ? Number(process.argv[i + 1]) : 20_000;
  if (!Number.isInteger(events) || events < 1) throw new Error('--events must be a positive whole number');
  const url = await createDatabase('webhooks');
  try {
    const r = await benchWebhookDelivery({ databaseUrl: url, events });
    console.log(JSON.stringify(r, null, 2));
    if (!r.ok) process.exitCode = 1;
  } finally {
    await dropDatabase(url);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
