// The lag from a change in sevDesk to the webhook that reports it: one account on the real workers as
// deployed (a sync and webhook worker, an import worker: bench/deployment.ts), an in-process sandbox the
// bench changes, and a local receiver registered with `addWebhook` that verifies every delivery's
// signature. After the account's bulk import, N samples: wait a random 0..interval s, change one invoice in
// the sandbox (pay an open one, or add one), and time until the receiver has the `invoice.updated` /
// `invoice.created` event naming it. The change waits for the account's next sync (every `interval` s after
// the previous one ended), then for the delivery run (LISTEN).
// Goal: p95 <= interval + 2 s.
//
//   npx tsx bench/webhook-lag.ts [--samples 20] [--interval 10]   (its own Temporal dev server and database)
//
// `benchWebhookLag({ temporalAddress, ... })` is the same on the caller's Temporal server.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import type { Sandbox } from '../sandbox';
import { startSandbox } from '../sandbox';
import type { AppDeps } from '../src/app';
import { addInterface, addWebhook, connectApp, getStatus, removeWebhook } from '../src/app';
import type { Config } from '../src/config';
import { DEFAULT_EVENTS } from '../src/config';
import { accountSyncWorkflowId } from '../src/shared';
import { webhookTaskQueueOf } from '../src/webhooks/settings';
import { percentile } from './histories';
import { GOALS } from './report';
import type { Cleanup } from './infra';
import { benchConfig, createDatabase, dropDatabase, log, sleep } from './infra';
import type { Deployment } from './deployment';
import { startDeployment } from './deployment';

export interface WebhookLagOptions {
  temporalAddress: string;
  /** Timed changes (default 20). */
  samples?: number;
  /** The account's sync interval, s (default 10). */
  intervalSeconds?: number;
  /** Seed of the sandbox data and of the random waits. */
  seed?: number;
  /** Invoices in the sandbox (default 200: enough open ones to pay, a quick import). */
  invoices?: number;
  /** The database is dropped here too if the bench is interrupted. */
  cleanup?: Cleanup;
}

export interface WebhookLagSample {
  /** paid: an open invoice paid in full (invoice.updated); added: a new open invoice (invoice.created). */
  change: 'paid' | 'added';
  sourceId: string;
  /** The random wait before the change, s. */
  waitSeconds: number;
  /** Change to the receiver having the event, s; null when it did not come within the sample's timeout. */
  lagSeconds: number | null;
  /**
   * The previous sample's event (or the warm-up's) to this one's, s: the wait plus the lag. Each sample starts
   * right after an event arrived, i.e. right after a sync cycle, so this is one period of the account's
   * cycles (interval + a cycle + delivery) unless the change missed a cycle. Null after a timeout.
   */
  sincePreviousSeconds: number | null;
}

export interface WebhookLagResult {
  samples: number;
  received: number;
  /** Samples whose event did not come within `sampleTimeoutSeconds` (a timed-out sample fails the goal). */
  timeouts: number;
  sampleTimeoutSeconds: number;
  intervalSeconds: number;
  /** Over the received samples (nearest rank), s. */
  lagSeconds: { p50: number | null; p95: number | null; max: number | null; min: number | null };
  /**
   * sincePreviousSeconds less the interval, p50 and max: what a cycle and the delivery add to the interval
   * (the part of the lag the product's code decides; the rest is where the change fell in the interval).
   */
  beyondIntervalSeconds: { p50: number | null; max: number | null };
  /** interval + GOALS.webhookLagSlackSeconds. */
  targetSeconds: number;
  /** POSTs the receiver got (every event of the account since the endpoint was added). */
  requests: number;
  /** Deliveries whose signature `standardwebhooks` refused (expected 0). */
  signatureFailures: number;
  /** Every sample received, every signature valid. */
  ok: boolean;
  /** addInterface to the end of the first import, s. */
  importSeconds: number;
  invoices: number;
  perSample: WebhookLagSample[];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** A small seeded PRNG (mulberry32): the same seed gives the same waits and the same invoices. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The local receiver: verifies every POST, answers 204, and hands invoice events to whoever waits for them. */
class Receiver {
  requests = 0;
  signatureFailures = 0;
  private readonly verifier: Webhook;
  private readonly waiters = new Map<string, { type: string; resolve: (at: number) => void }>();

  private constructor(secret: string) {
    this.verifier = new Webhook(secret);
  }

  /** Listens before the secret is known (the URL is needed to add the endpoint); `arm` sets the secret. */
  static async listen(): Promise<{ url: string; arm(secret: string): Receiver; close(): Promise<void> }> {
    let receiver: Receiver | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        res.writeHead(204).end();
        receiver?.onDelivery(Buffer.concat(chunks).toString('utf8'), req.headers, at);
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sevsync`;
    return {
      url,
      arm: (secret) => (receiver = new Receiver(secret)),
      close: async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      },
    };
  }

  private onDelivery(body: string, headers: http.IncomingHttpHeaders, at: number): void {
    this.requests += 1;
    let event: { type?: string; data?: { sourceId?: unknown } };
    try {
      event = this.verifier.verify(body, headers as Record<string, string>) as typeof event;
    } catch {
      this.signatureFailures += 1;
      return;
    }
    const sourceId = event.data?.sourceId;
    if (typeof sourceId !== 'string') return;
    const waiter = this.waiters.get(sourceId);
    if (waiter && waiter.type === event.type) {
      this.waiters.delete(sourceId);
      waiter.resolve(at);
    }
  }

  /** When (performance.now()) the `type` event of `sourceId` arrives; null after `timeoutMs`. */
  expect(sourceId: string, type: string, timeoutMs: number): Promise<number | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(sourceId);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(sourceId, {
        type,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

/** Open invoices (RE, status 200) of contacts with an e-mail, in a seeded order: the ones the bench pays. */
function openInvoices(sb: Sandbox, random: () => number): { id: string; contactId: string }[] {
  const open = [...sb.store.invoices()]
    .filter(
      (i) =>
        i.status === '200' &&
        i.invoiceType === 'RE' &&
        sb.store.communicationWays(i.contact.id).some((w) => w.type === 'EMAIL'),
    )
    .map((i) => ({ id: i.id, contactId: i.contact.id }));
  for (let i = open.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [open[i], open[j]] = [open[j] as (typeof open)[number], open[i] as (typeof open)[number]];
  }
  return open;
}

async function waitForImport(deps: AppDeps, accountId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await getStatus(deps, accountId).catch(() => undefined);
    if (s?.import?.state === 'error') throw new Error(`the first import failed: ${s.import.error ?? '?'}`);
    if (s?.error) throw new Error(`the account is in error: ${s.error.type}: ${s.error.message}`);
    if (s?.import?.state === 'done' && s.state === 'idle') return;
    if (Date.now() > deadline)
      throw new Error(`the first import did not finish within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(250);
  }
}

export async function benchWebhookLag(opts: WebhookLagOptions): Promise<WebhookLagResult> {
  const samples = opts.samples ?? 20;
  const intervalSeconds = opts.intervalSeconds ?? 10;
  const seed = opts.seed ?? 7;
  const random = rng(seed + 900);
  // A change waits at most for the cycle in flight, one interval and the next cycle; twice the interval and
  // 30 s is far beyond that, and bounds a sample whose event never comes.
  const sampleTimeoutMs = (2 * intervalSeconds + 30) * 1000;
  const accountId = 'bench-webhook-lag';
  const taskQueue = `bench-lag-${randomBytes(3).toString('hex')}`;

  const db = await createDatabase('webhook_lag');
  opts.cleanup?.add('webhook lag database', () => dropDatabase(db));
  // The app and the workers must agree on the key and on all three task queues: they read the webhook
  // task queue from SEVSYNC_WEBHOOK_TASK_QUEUE, which configEnv does not carry.
  const base = benchConfig({ databaseUrl: db, temporalAddress: opts.temporalAddress, taskQueue });
  const config: Config = {
    ...base,
    events: { ...DEFAULT_EVENTS, webhookTaskQueue: webhookTaskQueueOf(base) },
  };
  let sb: Sandbox | undefined;
  let worker: Deployment | undefined;
  let deps: AppDeps | undefined;
  let listening: Awaited<ReturnType<typeof Receiver.listen>> | undefined;
  let endpointId: string | undefined;
  try {
    sb = await startSandbox({ seed: seed + 800, data: { invoices: opts.invoices ?? 200 } });
    const sandbox = sb;
    worker = await startDeployment(config, {
      env: { SEVSYNC_WEBHOOK_TASK_QUEUE: webhookTaskQueueOf(config) },
    });
    deps = await connectApp(config);
    listening = await Receiver.listen();

    const t0 = performance.now();
    await addInterface(deps, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds });
    await waitForImport(deps, accountId, 180_000);
    const importSeconds = (performance.now() - t0) / 1000;
    // The endpoint gets the account's events from now on; its secret is shown only here.
    const added = await addWebhook(deps, { url: listening.url, accountId });
    endpointId = added.id;
    const receiver = listening.arm(added.secret);
    log(
      `events: webhook lag, ${samples} samples at a ${intervalSeconds} s interval ` +
        `(the import of ${sandbox.store.invoiceCount()} invoices took ${importSeconds.toFixed(1)} s; receiver ${listening.url})`,
    );

    const open = openInvoices(sandbox, random);
    const contacts = [...new Set(open.map((o) => o.contactId))];
    if (contacts.length === 0) throw new Error('the sandbox has no open invoice of a contact with an e-mail');
    /** Pays an open invoice (even k, while there are any) or adds one; returns what the event will name. */
    const change = (k: number): { change: WebhookLagSample['change']; sourceId: string; type: string } => {
      const pick = k % 2 === 0 ? open.pop() : undefined;
      if (pick) {
        sandbox.store.payInvoice(pick.id);
        return { change: 'paid', sourceId: pick.id, type: 'invoice.updated' };
      }
      const contactId = contacts[Math.floor(random() * contacts.length)] as string;
      const inv = sandbox.store.addInvoice({ contactId, sumNet: '100.10', taxRate: 19 });
      return { change: 'added', sourceId: inv.id, type: 'invoice.created' };
    };

    // Warm-up (not counted): the delivery workflow is running and the receiver gets signed invoice events.
    let previous: number | null;
    {
      const c = change(1);
      previous = await receiver.expect(c.sourceId, c.type, sampleTimeoutMs);
      if (previous === null)
        throw new Error(
          `the warm-up change (${c.type} of invoice ${c.sourceId}) was not delivered within ${sampleTimeoutMs / 1000} s ` +
            `(receiver: ${receiver.requests} requests, ${receiver.signatureFailures} bad signatures)\n${worker.sync.child.output().slice(-4000)}`,
        );
    }

    const perSample: WebhookLagSample[] = [];
    for (let k = 0; k < samples; k++) {
      const waitMs = random() * intervalSeconds * 1000;
      await sleep(waitMs);
      const c = change(k);
      // The change exists from here on (the sandbox stamps its `update` with the clock as it is made).
      const changedAt = performance.now();
      const at = await receiver.expect(c.sourceId, c.type, sampleTimeoutMs);
      const lagSeconds = at === null ? null : round3((at - changedAt) / 1000);
      perSample.push({
        change: c.change,
        sourceId: c.sourceId,
        waitSeconds: round3(waitMs / 1000),
        lagSeconds,
        sincePreviousSeconds: at === null || previous === null ? null : round3((at - previous) / 1000),
      });
      previous = at;
      log(
        `events: lag sample ${k + 1}/${samples} (${c.change} ${c.sourceId}): ` +
          (lagSeconds === null
            ? `no event within ${sampleTimeoutMs / 1000} s`
            : `${lagSeconds.toFixed(2)} s`),
      );
      // Three samples lost: delivery is broken, the rest would only add minutes of timeouts.
      if (perSample.filter((s) => s.lagSeconds === null).length >= 3) {
        log('events: webhook lag stopped early: 3 samples timed out');
        break;
      }
    }
    const lags = perSample.flatMap((s) => (s.lagSeconds === null ? [] : [s.lagSeconds]));
    const timeouts = perSample.length - lags.length + (samples - perSample.length);
    const beyond = perSample.flatMap((s) =>
      s.sincePreviousSeconds === null ? [] : [round3(s.sincePreviousSeconds - intervalSeconds)],
    );
    return {
      samples,
      received: lags.length,
      timeouts,
      sampleTimeoutSeconds: sampleTimeoutMs / 1000,
      intervalSeconds,
      lagSeconds: {
        p50: percentile(lags, 50),
        p95: percentile(lags, 95),
        max: lags.length > 0 ? Math.max(...lags) : null,
        min: lags.length > 0 ? Math.min(...lags) : null,
      },
      beyondIntervalSeconds: {
        p50: percentile(beyond, 50),
        max: beyond.length > 0 ? Math.max(...beyond) : null,
      },
      targetSeconds: intervalSeconds + GOALS.webhookLagSlackSeconds,
      requests: receiver.requests,
      signatureFailures: receiver.signatureFailures,
      ok: timeouts === 0 && receiver.signatureFailures === 0,
      importSeconds: round3(importSeconds),
      invoices: sandbox.store.invoiceCount(),
      perSample,
    };
  } finally {
    // Every step on its own: one that fails does not keep the others from running.
    const quietly = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        log(`webhook lag: cleanup of ${what} failed: ${(err as Error).message}`);
      }
    };
    if (deps) {
      const d = deps;
      if (endpointId) {
        const id = endpointId;
        await quietly('the webhook endpoint', () => removeWebhook(d, id));
      }
      await quietly('the account workflow', () =>
        d.temporal.workflow
          .getHandle(accountSyncWorkflowId(accountId))
          .terminate('bench done')
          .catch(() => undefined),
      );
    }
    if (worker) await quietly('the workers', () => (worker as Deployment).stop());
    if (deps) await quietly('the app connections', () => (deps as AppDeps).close());
    if (listening) await quietly('the receiver', () => (listening as { close(): Promise<void> }).close());
    if (sb) await quietly('the sandbox', () => (sb as Sandbox).close());
    await quietly('the database', () => dropDatabase(db));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: '20' },
      interval: { type: 'string', default: '10' },
      seed: { type: 'string', default: '7' },
    },
    strict: true,
  });
  const samples = Number(values.samples);
  const intervalSeconds = Number(values.interval);
  const seed = Number(values.seed);
  if (!Number.isInteger(samples) || samples < 1) throw new Error('--samples must be a positive whole number');
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1)
    throw new Error('--interval must be a positive whole number of seconds');
  const { startTemporal, stopAllChildren, Cleanup } = await import('./infra');
  const cleanup = new Cleanup();
  try {
    const temporal = await startTemporal();
    cleanup.add('Temporal dev server', () => temporal.stop());
    const r = await benchWebhookLag({
      temporalAddress: temporal.address,
      samples,
      intervalSeconds,
      seed,
      cleanup,
    });
    console.log(JSON.stringify(r, null, 2));
    if (!r.ok || (r.lagSeconds.p95 ?? Infinity) > r.targetSeconds) process.exitCode = 1;
  } finally {
    await cleanup.run();
    await stopAllChildren();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
