import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { ImportStats } from '../src/activities/bulk-import';
import { addInterface, connectApp, syncNow } from '../src/app';
import { loadConfig } from '../src/config';
import { accountSyncWorkflowId } from '../src/shared';
import { statusQuery } from '../src/workflows';
import type { PipelineResult } from './import-pipeline';
import { importWorkflowOf, pipelineSource, runPipeline } from './import-pipeline';
import type { Cleanup, startTemporal } from './infra';
import {
  benchConfig,
  checkpoint,
  createDatabase,
  dropDatabase,
  log,
  sleep,
  startSandboxHost,
  withTimeout,
} from './infra';
import { startDeployment } from './deployment';
import type { BenchOptions } from './options';
import { otherLoad } from './report';
import type { WebhookBenchResult } from './webhook-delivery';
import { benchWebhookDelivery } from './webhook-delivery';
import type { WebhookLagResult } from './webhook-lag';
import { benchWebhookLag } from './webhook-lag';

// The change feed's cost. 1: the bulk import through the real pipeline with the feed and without it (its
// triggers disabled and sevsync_emit a no-op, in that database only), alternating E N N E ... on the same
// sandbox data, each into a fresh database; the events of every run with the feed are checked against the
// invoices it imported. 2: the size of the events table per 1,000 invoices imported. 3: what accounts whose
// sevDesk data does not change add to the feed while they sync cycle after cycle (expected: nothing).
// 4: webhook delivery throughput. 5: the lag from a sevDesk change to the webhook received.

/** The tables whose statement- and row-level triggers write the feed (drizzle/0003_change_feed.sql). */
export const FEED_TABLES = ['invoices', 'customers', 'invoice_issues', 'interfaces', 'import_checkpoints'];

/** A sevsync_emit that writes nothing: what "without the feed" means for customer value events. */
const NO_OP_EMIT =
  'CREATE OR REPLACE FUNCTION sevsync_emit(p_account text, p_events jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$';

/** Sync cycles a day at the product's default interval (SEVSYNC_SYNC_INTERVAL_SECONDS). */
const DEFAULT_INTERVAL_SECONDS = loadConfig({}).syncIntervalSeconds;
const CYCLES_PER_DAY = 86_400 / DEFAULT_INTERVAL_SECONDS;

/** The idle accounts' interval: short, so that the window holds many cycles (their work does not depend on it). */
const IDLE_INTERVAL_SECONDS = 2;

export interface EventsRun {
  feed: boolean;
  invoicesPerSecond: number;
  seconds: number;
  rows: number;
  historyEvents: number;
  otherLoadCores: number;
  /** Rows in `events` after the import (0 expected without the feed). */
  events: number;
  /** Where the import's time went (s, from its history): the page activities, and finishImport (values). */
  importPageExecutionSeconds: number;
  finishImportSeconds: number;
}

/** What the events of one run with the feed are checked against. */
export interface FeedCheck {
  ok: boolean;
  /** Invoice rows of the account that OneCockpit shows (not removed, not SR): one invoice.created each. */
  shownInvoices: number;
  invoiceCreated: number;
  events: number;
  byType: Record<string, number>;
  /** Per-account seqs 1..n without a gap, and event_seqs.last_seq = n. */
  seqsGapless: boolean;
  problems: string[];
}

export interface FeedSize {
  /** pg_total_relation_size('events'): heap, TOAST and the indexes. */
  totalBytes: number;
  heapBytes: number;
  indexBytes: number;
  events: number;
  /** Invoice rows the import wrote (the denominator). */
  invoices: number;
  bytesPer1000Invoices: number;
  bytesPerEvent: number;
}

export interface IdleFeed {
  accounts: number;
  invoicesPerAccount: number;
  intervalSeconds: number;
  windowSeconds: number;
  /** Completed sync cycles in the window over all accounts (status `cycles`), sync-now ones included. */
  cycles: number;
  /** Of them, sync-now cycles asked for through the app layer (syncNow with wait), one per account. */
  syncNowCycles: number;
  /** Events the import and the cycles before the window added (not part of the figure). */
  eventsBeforeWindow: { import: number; settle: number };
  eventsAdded: number;
  /** Growth of pg_total_relation_size('events') over the window. */
  relationBytesAdded: number;
  /** pg_column_size of the events added in the window (finer than the relation's 8 KiB pages). */
  rowBytesAdded: number;
  /** Cycles at the default interval: cycles / (86,400 / default interval). */
  accountDays: number;
  defaultIntervalSeconds: number;
  /** max(relation growth, row bytes) / account-days * 1,000. */
  bytesPer1000AccountDays: number | null;
  /** Accounts whose last cycle ended in an error (their cycles do not count). */
  accountErrors: string[];
}

export interface EventsSection {
  invoices: number;
  /** Every timed run, in the order they ran. */
  runs: EventsRun[];
  medians: { withFeed: number; withoutFeed: number };
  /** Median with / median without (invoices per second). */
  ratio: number;
  /** One per run with the feed. */
  checks: FeedCheck[];
  /** The triggers the runs without the feed disabled, with their table; internal (FK) triggers stay on. */
  disabledTriggers: string[];
  size: FeedSize;
  idle: IdleFeed | null;
  /** Webhook delivery of one account's events to a local receiver (bench/webhook-delivery.ts). */
  webhooks: WebhookBenchResult | null;
  /** sevDesk change to webhook received, one account on the real worker (bench/webhook-lag.ts). */
  webhookLag: WebhookLagResult | null;
}

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Turns the feed off in one database: the user triggers of the feed tables disabled (only after checking
 * that each of them writes events (sevsync_emit or sevsync_claim), so that nothing else is switched off with them), sevsync_emit a
 * no-op. Returns the disabled triggers; throws if an internal (FK) trigger ended up disabled.
 */
async function disableFeed(url: string): Promise<string[]> {
  return withSql(url, async (sql) => {
    const triggers = await sql<{ tbl: string; name: string; emits: boolean }[]>`
      select c.relname as tbl, t.tgname as name, (p.prosrc like '%sevsync_emit%' or p.prosrc like '%sevsync_claim%') as emits
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid
      where c.relname = any(${FEED_TABLES}) and c.relnamespace = 'public'::regnamespace and not t.tgisinternal
      order by 1, 2`;
    const other = triggers.filter((t) => !t.emits);
    if (other.length > 0)
      throw new Error(
        `DISABLE TRIGGER USER would also disable triggers that are not the feed's: ${other.map((t) => `${t.tbl}.${t.name}`).join(', ')}`,
      );
    for (const t of FEED_TABLES) await sql.unsafe(`ALTER TABLE "${t}" DISABLE TRIGGER USER`);
    await sql.unsafe(NO_OP_EMIT);
    const after = await sql<{ tbl: string; name: string; internal: boolean; enabled: string }[]>`
      select c.relname as tbl, t.tgname as name, t.tgisinternal as internal, t.tgenabled as enabled
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where c.relname = any(${FEED_TABLES}) and c.relnamespace = 'public'::regnamespace`;
    const offInternal = after.filter((t) => t.internal && t.enabled === 'D');
    const onUser = after.filter((t) => !t.internal && t.enabled !== 'D');
    if (offInternal.length > 0 || onUser.length > 0)
      throw new Error(
        `the feed was not turned off as intended: internal triggers disabled ${offInternal.length}, feed triggers on ${onUser.length}`,
      );
    return triggers.map((t) => `${t.tbl}.${t.name}`);
  });
}

async function checkFeed(url: string, accountId: string): Promise<FeedCheck> {
  return withSql(url, async (sql) => {
    const [shown] = await sql<{ n: number }[]>`
      select count(*)::int as n from invoices
      where account_id = ${accountId} and removed_at is null and type <> 'SR'`;
    const types = await sql<{ type: string; n: number }[]>`
      select type, count(*)::int as n from events group by type order by type`;
    const seqs = await sql<{ account_id: string; n: number; lo: string; hi: string; last: string | null }[]>`
      select e.account_id, count(*)::int as n, min(e.seq)::text as lo, max(e.seq)::text as hi,
        (select last_seq::text from event_seqs s where s.account_id = e.account_id) as last
      from events e group by e.account_id`;
    const byType = Object.fromEntries(types.map((t) => [t.type, t.n]));
    const events = types.reduce((a, t) => a + t.n, 0);
    const shownInvoices = shown?.n ?? 0;
    const invoiceCreated = byType['invoice.created'] ?? 0;
    const seqsGapless = seqs.every(
      (s) => s.lo === '1' && Number(s.hi) === s.n && s.last !== null && Number(s.last) === s.n,
    );
    const problems: string[] = [];
    if (shownInvoices === 0) problems.push('the import wrote no shown invoices');
    if (invoiceCreated !== shownInvoices)
      problems.push(`${invoiceCreated} invoice.created events for ${shownInvoices} shown invoices`);
    if (events < shownInvoices) problems.push(`${events} events for ${shownInvoices} shown invoices`);
    if (!byType['import.finished']) problems.push('no import.finished event');
    if (!seqsGapless) problems.push('the seqs of an account have a gap or disagree with event_seqs');
    return {
      ok: problems.length === 0,
      shownInvoices,
      invoiceCreated,
      events,
      byType,
      seqsGapless,
      problems,
    };
  });
}

async function feedSize(url: string, invoices: number): Promise<FeedSize> {
  return withSql(url, async (sql) => {
    const [r] = await sql<{ total: string; heap: string; indexes: string; n: number }[]>`
      select pg_total_relation_size('events')::text as total, pg_relation_size('events')::text as heap,
        pg_indexes_size('events')::text as indexes, (select count(*)::int from events) as n`;
    const totalBytes = Number(r?.total ?? 0);
    const events = r?.n ?? 0;
    return {
      totalBytes,
      heapBytes: Number(r?.heap ?? 0),
      indexBytes: Number(r?.indexes ?? 0),
      events,
      invoices,
      bytesPer1000Invoices: invoices > 0 ? (totalBytes / invoices) * 1000 : 0,
      bytesPerEvent: events > 0 ? totalBytes / events : 0,
    };
  });
}

const countEvents = async (url: string): Promise<number> =>
  withSql(url, async (sql) => {
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from events`;
    return r?.n ?? 0;
  });

/** The middle value; of an even count, the mean of the two middle ones. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return 0;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Import with and without the feed, alternating; then the feed's size and the idle window. */
export async function eventsBench(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
): Promise<EventsSection> {
  log(
    `events: generating ${opts.eventsInvoices.toLocaleString('en-US')} sandbox invoices (seed ${opts.seed})`,
  );
  const host = await startSandboxHost([{ seed: opts.seed, invoices: opts.eventsInvoices }]);
  cleanup.add('events sandbox host', () => host.stop());
  const sb = host.sandboxes[0];
  if (!sb) throw new Error('no sandbox');
  const timeoutMs = Math.max(180_000, (opts.eventsInvoices / 300) * 1000);
  // E N N E ...: a machine that gets busier or quieter during the runs shifts both alike.
  const order = Array.from({ length: opts.eventsRounds }, (_, r) =>
    r % 2 === 0 ? [true, false] : [false, true],
  ).flat();
  const runs: EventsRun[] = [];
  const checks: FeedCheck[] = [];
  let disabledTriggers: string[] = [];
  let size: FeedSize | undefined;
  for (const feed of order) {
    await checkpoint();
    const label = feed ? 'with' : 'without';
    const db = await createDatabase(`events_${label}`);
    cleanup.add(`events ${label} database`, () => dropDatabase(db));
    if (!feed) disabledTriggers = await disableFeed(db);
    const n = runs.filter((r) => r.feed === feed).length + 1;
    log(`events: pipeline import ${feed ? 'with' : 'without'} the feed, run ${n}`);
    const accountId = `bench-events-${label}`;
    const r: PipelineResult = await runPipeline({
      databaseUrl: db,
      temporal,
      ...pipelineSource(host, sb),
      accountId,
      timeoutMs,
    });
    const events = await countEvents(db);
    runs.push({
      feed,
      invoicesPerSecond: r.invoicesPerSecond,
      seconds: r.seconds,
      rows: r.rows,
      historyEvents: r.historyEvents,
      otherLoadCores: otherLoad(r.cpu),
      events,
      importPageExecutionSeconds: r.split.importPageExecution,
      finishImportSeconds: r.split.finishImport,
    });
    if (feed) {
      const check = await checkFeed(db, accountId);
      checks.push(check);
      size ??= await feedSize(db, r.rows);
      if (!check.ok) log(`events: the feed of this run is not complete: ${check.problems.join('; ')}`);
    } else if (events !== 0) {
      throw new Error(`the import without the feed wrote ${events} events: the feed was not turned off`);
    }
    log(
      `events: ${Math.round(r.invoicesPerSecond)} invoices/s in ${r.seconds.toFixed(1)} s, ${events.toLocaleString('en-US')} events`,
    );
    await dropDatabase(db);
  }
  await host.stop();
  if (!size) throw new Error('no run with the feed');
  const withFeed = median(runs.filter((r) => r.feed).map((r) => r.invoicesPerSecond));
  const withoutFeed = median(runs.filter((r) => !r.feed).map((r) => r.invoicesPerSecond));
  await checkpoint();
  const idle = opts.idleAccounts > 0 ? await idleFeed(opts, temporal, cleanup) : null;
  const webhooks = opts.webhookEvents > 0 ? await webhookDelivery(opts.webhookEvents, cleanup) : null;
  const webhookLag = opts.lagSamples > 0 ? await webhookLagOf(opts, temporal, cleanup) : null;
  return {
    invoices: sb.invoices,
    runs,
    medians: { withFeed, withoutFeed },
    ratio: withFeed / withoutFeed,
    checks,
    disabledTriggers,
    size,
    idle,
    webhooks,
    webhookLag,
  };
}

async function webhookLagOf(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
): Promise<WebhookLagResult> {
  await checkpoint();
  const r = await benchWebhookLag({
    temporalAddress: temporal.address,
    samples: opts.lagSamples,
    intervalSeconds: opts.lagInterval,
    seed: opts.seed,
    cleanup,
  });
  const f = (v: number | null) => (v === null ? '-' : v.toFixed(2));
  log(
    `events: webhook lag p50 ${f(r.lagSeconds.p50)} s, p95 ${f(r.lagSeconds.p95)} s, max ${f(r.lagSeconds.max)} s ` +
      `over ${r.received} of ${r.samples} samples at a ${r.intervalSeconds} s interval` +
      (r.ok ? '' : ` (${r.timeouts} timed out, ${r.signatureFailures} bad signatures)`),
  );
  return r;
}

async function webhookDelivery(events: number, cleanup: Cleanup): Promise<WebhookBenchResult> {
  await checkpoint();
  const db = await createDatabase('webhooks');
  cleanup.add('webhooks database', () => dropDatabase(db));
  log(`events: webhook delivery of ${events.toLocaleString('en-US')} events to a local receiver`);
  try {
    const r = await benchWebhookDelivery({ databaseUrl: db, events });
    log(
      `events: ${r.eventsPerSecond.toLocaleString('en-US')} webhook events/s in ${r.seconds} s` +
        (r.ok ? '' : ' (NOT all delivered in order and verified)'),
    );
    return r;
  } finally {
    await dropDatabase(db);
  }
}

interface FeedState {
  /** Sum of event_seqs.last_seq: every event ever written (retention does not lower it). */
  seqs: number;
  lastSeqs: Record<string, number>;
  relationBytes: number;
}

async function feedState(sql: postgres.Sql): Promise<FeedState> {
  const seqs = await sql<{ account_id: string; last: string }[]>`
    select account_id, last_seq::text as last from event_seqs`;
  const [r] = await sql<{ bytes: string }[]>`select pg_total_relation_size('events')::text as bytes`;
  const lastSeqs = Object.fromEntries(seqs.map((s) => [s.account_id, Number(s.last)]));
  return {
    seqs: Object.values(lastSeqs).reduce((a, b) => a + b, 0),
    lastSeqs,
    relationBytes: Number(r?.bytes ?? 0),
  };
}

/** pg_column_size of the events written after the given seqs (per account; accounts not named: all). */
async function rowBytesSince(sql: postgres.Sql, lastSeqs: Record<string, number>): Promise<number> {
  const [r] = await sql<{ bytes: string }[]>`
    select coalesce(sum(pg_column_size(e.*)), 0)::text as bytes
    from events e left join jsonb_each_text(${JSON.stringify(lastSeqs)}::jsonb) s on s.key = e.account_id
    where e.seq > coalesce(s.value::bigint, 0)`;
  return Number(r?.bytes ?? 0);
}

/**
 * Accounts whose sevDesk data does not change: a bulk import each (addInterface, the real worker), a few
 * cycles to settle, then a window of cycles at a short interval plus one sync-now per account through the
 * app layer. What the feed grew by in the window, per 1,000 account-days at the default interval.
 */
async function idleFeed(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
): Promise<IdleFeed> {
  const invoicesPerAccount = opts.idleInvoices;
  log(
    `events: idle window, ${opts.idleAccounts} accounts of ${invoicesPerAccount.toLocaleString('en-US')} invoices, ` +
      `${opts.idleSeconds} s at a ${IDLE_INTERVAL_SECONDS} s interval`,
  );
  // One sandbox (one token) shared by the accounts, as in the steady state.
  const host = await startSandboxHost([{ seed: opts.seed + 700, invoices: invoicesPerAccount }]);
  cleanup.add('idle sandbox host', () => host.stop());
  const sb = host.sandboxes[0];
  if (!sb) throw new Error('no sandbox');
  const db = await createDatabase('events_idle');
  cleanup.add('idle database', () => dropDatabase(db));
  const config = benchConfig({
    databaseUrl: db,
    temporalAddress: temporal.address,
    taskQueue: `bench-idle-${randomBytes(3).toString('hex')}`,
  });
  // The deployment's two workers: the imports on the import worker, the cycles on the sync worker.
  const workers = await startDeployment(config);
  const deps = await connectApp(config);
  const ids = Array.from({ length: opts.idleAccounts }, (_, i) => `bench-idle-${i + 1}`);
  const handle = (id: string) => deps.temporal.workflow.getHandle(accountSyncWorkflowId(id));
  const status = async () =>
    Promise.all(ids.map(async (id) => ({ id, s: await handle(id).query(statusQuery) })));
  const timeoutMs = 120_000 + opts.idleAccounts * 30_000;
  try {
    for (const accountId of ids)
      await addInterface(deps, {
        accountId,
        token: sb.token,
        baseUrl: sb.url,
        intervalSeconds: IDLE_INTERVAL_SECONDS,
      });
    await Promise.all(
      ids.map(async (id) => {
        const wf = await importWorkflowOf(deps, id);
        const imported = deps.temporal.workflow.getHandle(wf).result() as Promise<ImportStats>;
        await withTimeout(imported, timeoutMs, `the import of ${id}`);
      }),
    );
    const imported = await feedState(deps.db.sql);
    // Settle: the catch-up cycle after the import and one timer cycle per account are not in the window.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await status();
      if (all.every(({ s }) => s.cycles >= 2 && s.state !== 'syncing')) break;
      if (Date.now() > deadline) throw new Error('the idle accounts did not complete two cycles in time');
      await sleep(200);
    }
    const a = await feedState(deps.db.sql);
    const cyclesA = await status();
    const t0 = Date.now();
    // Halfway: one sync-now per account through the app layer (a requested cycle re-reads more contacts).
    await sleep((opts.idleSeconds * 1000) / 2);
    const served = await Promise.all(ids.map((id) => syncNow(deps, id, true)));
    await sleep(Math.max(0, t0 + opts.idleSeconds * 1000 - Date.now()));
    const cyclesB = await status();
    const b = await feedState(deps.db.sql);
    const windowSeconds = (Date.now() - t0) / 1000;
    const rowBytes = await rowBytesSince(deps.db.sql, a.lastSeqs);
    const before = new Map(cyclesA.map(({ id, s }) => [id, s.cycles]));
    const cycles = cyclesB.reduce((acc, { id, s }) => acc + s.cycles - (before.get(id) ?? s.cycles), 0);
    const accountErrors = cyclesB.flatMap(({ id, s }) =>
      s.error ? [`${id}: ${s.error.type}: ${s.error.message}`] : [],
    );
    const accountDays = cycles / CYCLES_PER_DAY;
    const relationBytesAdded = b.relationBytes - a.relationBytes;
    const bytesAdded = Math.max(relationBytesAdded, rowBytes);
    log(
      `events: idle window ${windowSeconds.toFixed(0)} s, ${cycles} cycles, ${b.seqs - a.seqs} events added, ` +
        `${bytesAdded} bytes`,
    );
    return {
      accounts: ids.length,
      invoicesPerAccount: sb.invoices,
      intervalSeconds: IDLE_INTERVAL_SECONDS,
      windowSeconds,
      cycles,
      syncNowCycles: served.length,
      eventsBeforeWindow: { import: imported.seqs, settle: a.seqs - imported.seqs },
      eventsAdded: b.seqs - a.seqs,
      relationBytesAdded,
      rowBytesAdded: rowBytes,
      accountDays,
      defaultIntervalSeconds: DEFAULT_INTERVAL_SECONDS,
      bytesPer1000AccountDays: accountDays > 0 ? (bytesAdded / accountDays) * 1000 : null,
      accountErrors,
    };
  } finally {
    await Promise.all(
      ids.map((id) =>
        handle(id)
          .terminate('bench done')
          .catch(() => undefined),
      ),
    );
    await deps.close();
    await workers.stop();
    await host.stop();
    await dropDatabase(db);
  }
}
