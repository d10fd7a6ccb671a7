import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import type { AppDeps } from '../src/app';
import { addInterface, syncNow } from '../src/app';
import { requireKeyring } from '../src/config';
import { createDb } from '../src/db/client';
import { orm } from '../src/db/orm';
import * as schema from '../src/db/schema';
import { encryptToken } from '../src/secrets';
import { classifyPage } from '../src/domain/page';
import { fetchAllContacts } from '../src/activities/sevdesk-reads';
import { createSevdeskClient, walkPages } from '../src/sevdesk/client';
import { temporalConnectionOptions } from '../src/temporal/connection';
import { SOURCE_SEVDESK, accountSyncWorkflowId } from '../src/shared';
import type { AccountSyncState } from '../src/workflows';
import { accountSyncWorkflow, initialState } from '../src/workflows';
import type { ActivityTiming, Run } from './histories';
import {
  activityTimings,
  eventMs,
  mapLimit,
  percentile,
  runsOf,
  timerLateness,
  workflowTaskTimes,
} from './histories';
import type { ProfileSummary } from './cpu-profile';
import { summariseProfiles } from './cpu-profile';
import type { Child } from './infra';
import { benchConfig, buildWorkflowBundle, log, sleep } from './infra';
import type { Deployment } from './deployment';
import { IMPORT_WORKER, SYNC_WORKER, startDeployment } from './deployment';
import type { ActivityShare, IdleInTransaction, PgActivity } from './pg-activity';
import { PgActivitySampler, idleInTransaction, postgresPidsOf } from './pg-activity';
import type { CpuShare } from './proc-stats';
import { RssSampler, cpuBetween, snapshotCpu } from './proc-stats';
import type { FairnessResult, ImportSandbox } from './fairness';
import { alternatingWindows, fairnessOf } from './fairness';
import type { CycleCost } from './cycle-cost';
import { cycleCost, sdkCounter } from './cycle-cost';
import { DEPLOYED_WORKER_NODE_OPTIONS } from './deployed';
import type { HostedSandbox } from './sandbox-host';
import type { Sample } from './worker-metrics';
import { growth } from './worker-metrics';

export interface SteadyResult {
  accounts: number;
  onboarding: Onboarding;
  sandboxes: number;
  intervalSeconds: number;
  /** addInterface for every account until each had its import and first sync. */
  setupSeconds: number;
  setupCpu: CpuShare;
  windowSeconds: number;
  syncs: {
    /** Sync cycles scheduled in the window (a quick local activity, a regular one, or both as one cycle). */
    scheduled: number;
    /** Of those, cycles that began with the quick local activity, and those of them it handed over. */
    local: number;
    handedOver: number;
    notStarted: number;
    /** Timer-driven syncs that fell due in the window (previous sync completed + interval). */
    due: number;
    /** Due in the window but not even scheduled when the histories were read. */
    missed: number;
    /** Start of a due sync minus its due time: timer, workflow task and activity queue together. */
    startLatenessMs: { p50: number | null; p99: number | null; max: number | null };
    scheduleToStartMs: { p50: number | null; p99: number | null; max: number | null };
    startToCloseMs: { p50: number | null; p99: number | null };
  };
  workflowTaskScheduleToStartMs: { p50: number | null; p99: number | null; n: number };
  /** WorkflowTaskCompleted minus WorkflowTaskStarted: the worker's time on one workflow task. */
  workflowTaskStartToCloseMs: { p50: number | null; p99: number | null };
  /** Server side of a late sync: timer fired minus timer due. */
  timerLatenessMs: { p50: number | null; p99: number | null; n: number };
  /** What the database connections did during the setup and during the window (connection-seconds). */
  database: { setup: ActivityShare[]; window: ActivityShare[] };
  /** "idle in transaction" in the window: share of the busy connection time, and long ones (> 200 ms). */
  idleInTransaction: IdleInTransaction;
  worker: {
    cpuCores: number;
    avgRssBytes: number;
    maxRssBytes: number;
    /**
     * Garbage collection in the window (seconds, by kind: major, minor, incremental, weakcb) and the event
     * loop's delay over it (p99 and max, ms): the worker's main thread blocked, whatever blocked it. From the
     * worker's /metrics (prom-client's default metrics; its delay histogram is reset by each scrape, so the
     * scrape at the window's end covers the window). Null when the worker does not export them.
     */
    gcSeconds: Record<string, number> | null;
    eventLoopDelayMs: { p99: number | null; max: number | null };
  };
  /**
   * The import worker over the window (the deployment's second process; idle in the steady state unless a
   * reconcile walk runs): as `worker`.
   */
  importWorker: SteadyResult['worker'];
  /** Per process ('worker (sync)', 'worker (imports)', temporal, postgres, sandbox, bench). */
  cpu: CpuShare;
  /** CPU per account-cycle by process, and where the sync worker's and Temporal's parts go. */
  cycleCost: CycleCost;
  /** Timer syncs in the window of accounts that had no changes (no sync-now sample). */
  idleCycles: number;
  /**
   * Accounts left out of the idle cycles besides the samples: a regular sync activity (a first full sync, or
   * a quick sync handing over) ran in the window or ended less than 30 s before it.
   */
  notIdleAccounts: number;
  /** sevDesk requests the worker sent (its sevsync_sevdesk_requests_total) per idle cycle. */
  requestsPerIdleCycle: number | null;
  /** Database statements of the worker (sevsync_db_statements_total) per idle cycle; null if not counted. */
  statementsPerIdleCycle: number | null;
  /** History events in the window of the idle accounts per idle cycle. */
  historyEventsPerIdleCycle: number | null;
  syncNowToVisibleMs: { p50: number | null; p95: number | null; samples: number[]; timeouts: number };
  historyFetchSeconds: number;
  /**
   * Workflow tasks of the window that found their workflow in the worker's cache (sticky) or had to replay
   * its history (the SDK's sticky_cache_hit / sticky_cache_miss); null when the worker exports no such metric.
   */
  workflowCache: { hits: number | null; misses: number | null };
  /** The worker's CPU profile over the window (--cpu-profile), per thread. */
  cpuProfile?: ProfileSummary[];
}

const VISIBLE_TIMEOUT_MS = 60_000;
/** A sync scheduled this much before its timer was due came from a signal (sync-now), not from the timer. */
const EARLY_MS = 100;
/** Syncs due this close to the end of the window may legitimately not be scheduled yet. */
const MISSED_GRACE_MS = 5_000;

/** A regular syncAccount scheduled this soon after a quick local one finished took over its cycle. */
const HANDOVER_MS = 2_000;

/**
 * The sync cycles of one account in order: a quick local activity (syncAccountQuick), a regular syncAccount,
 * or both when the quick one handed over (one cycle then: its start from the quick, its end from the regular).
 */
export function syncCycles(runs: Run[]): (ActivityTiming & { handedOver: boolean })[] {
  const acts = activityTimings(runs)
    .filter((a) => SYNC_ACTIVITIES.has(a.type))
    .sort((a, b) => a.scheduledMs - b.scheduledMs);
  const out: (ActivityTiming & { handedOver: boolean })[] = [];
  for (const a of acts) {
    const prev = out[out.length - 1];
    if (
      prev?.local &&
      !a.local &&
      !prev.handedOver &&
      prev.completedMs !== null &&
      a.scheduledMs - prev.completedMs < HANDOVER_MS
    ) {
      out[out.length - 1] = { ...prev, completedMs: a.completedMs, handedOver: true };
      continue;
    }
    out.push({ ...a, handedOver: false });
  }
  return out;
}

const SYNC_ACTIVITIES = new Set(['syncAccount', 'syncAccountQuick']);
/** A regular sync that ended this long before the window still marks its account as not idle. */
const NOT_IDLE_MARGIN_MS = 30_000;

/**
 * Whether one worker keeps up: every sync that the interval makes due inside the window, and how late it
 * started. Independent of the window's phase: accounts synced just before the window are not due in it.
 */
export function dueSyncs(all: Run[][], intervalMs: number, t0: number, t1: number) {
  let due = 0;
  let missed = 0;
  const late: number[] = [];
  for (const runs of all) {
    const acts = syncCycles(runs);
    acts.forEach((prev, i) => {
      if (prev.completedMs === null) return;
      const dueAt = prev.completedMs + intervalMs;
      if (dueAt < t0 || dueAt >= t1) return;
      const next = acts[i + 1];
      if (!next) {
        if (dueAt < t1 - MISSED_GRACE_MS) {
          due += 1;
          missed += 1;
        }
        return;
      }
      if (next.scheduledMs < dueAt - EARLY_MS) return;
      due += 1;
      if (next.startedMs !== null) late.push(next.startedMs - dueAt);
    });
  }
  return { due, missed, late };
}

async function firstContactId(sb: HostedSandbox): Promise<string> {
  const page = await createSevdeskClient({ baseUrl: sb.url, token: sb.token }).listContacts({ limit: 1 });
  const id = page.objects[0]?.id;
  if (!id) throw new Error(`sandbox ${sb.url} has no contact`);
  return id;
}

/** A new open invoice through the sandbox's control API (loopback only). */
async function addSandboxInvoice(sb: HostedSandbox, contactId: string): Promise<string> {
  const res = await request(`${sb.url.replace(/\/api\/v1$/, '')}/__sandbox/invoices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contactId, status: '200' }),
  });
  const body = (await res.body.json()) as { objects?: { id?: string } };
  if (res.statusCode !== 201 || !body.objects?.id)
    throw new Error(`adding an invoice failed: ${res.statusCode}`);
  return body.objects.id;
}

export type Onboarding = 'quiet' | 'sync' | 'import';

/** The workflow state addInterface's workflow has once the initial import ran: the first cycle is a full sync. */
function importedState(intervalSeconds: number): AccountSyncState {
  return { ...initialState(intervalSeconds, true), initialImportStarted: true };
}

/**
 * The interface rows and account workflows as addInterface makes them, but with a workflow state that says
 * the initial import already ran. With `cursors` (--onboarding quiet) the rows also hold the cursors that a
 * first full sync of their sandbox leaves, so the first cycle is an incremental sync (it stores what the
 * overlap re-lists, and every later cycle is what it would be after a real first sync); without them it is
 * a full first sync (syncAccount with no cursor), which at 10,000 accounts runs at about 11 a second on
 * 2 cores while the accounts synced before it already cycle: a 942 s setup. Onboarding a thousand
 * accounts through bulk imports takes many minutes on a small machine (every import ANALYZEs the shared
 * tables, and those ANALYZEs wait for each other), which is measured with --onboarding import. Rows are
 * inserted in batches; the workflows start with bounded concurrency, spread evenly over `spreadMs` (one
 * interval).
 */
async function addManyWithoutImport(
  ops: AppDeps,
  accounts: { accountId: string; sb: HostedSandbox }[],
  intervalSeconds: number,
  spreadMs: number,
  cursors?: Map<string, SandboxCursors>,
): Promise<void> {
  const keyring = requireKeyring(ops.config);
  const db = orm(ops.db.sql);
  for (let i = 0; i < accounts.length; i += SETUP_BATCH) {
    const batch = accounts.slice(i, i + SETUP_BATCH);
    await db
      .insert(schema.accounts)
      .values(batch.map(({ accountId }) => ({ id: accountId, name: accountId })))
      .onConflictDoNothing({ target: schema.accounts.id });
    await db
      .insert(schema.interfaces)
      .values(
        batch.map(({ accountId, sb }) => {
          const encrypted = encryptToken(
            keyring,
            { accountId, provider: 'sevdesk', baseUrl: sb.url },
            sb.token,
          );
          const c = cursors?.get(sb.url);
          return {
            accountId,
            provider: SOURCE_SEVDESK,
            tokenCiphertext: encrypted.ciphertext,
            tokenKeyId: encrypted.keyId,
            baseUrl: sb.url,
            active: true,
            settings: { intervalSeconds, amountBasis: 'gross' as const },
            ...(c ? { invoiceCursor: c.invoiceCursor, contactCursor: c.contactCursor } : {}),
          };
        }),
      )
      .onConflictDoNothing({ target: [schema.interfaces.accountId, schema.interfaces.provider] });
  }
  // Account i starts at i/n of the spread: real accounts' cycles are not in step, and a fleet whose first
  // syncs all ran at once stays in step (every account due at the same moment, interval after interval).
  const started = Date.now();
  await mapLimit(accounts, 32, async ({ accountId }, i) => {
    await sleep(Math.max(0, started + (i / accounts.length) * spreadMs - Date.now()));
    await ops.temporal.workflow.start(accountSyncWorkflow, {
      workflowId: accountSyncWorkflowId(accountId),
      taskQueue: ops.config.taskQueue,
      args: [
        {
          accountId,
          intervalSeconds,
          startActive: true,
          state: importedState(intervalSeconds),
          // What-if: runs of another length than the product's (continue-as-new after this many cycles).
          ...(BENCH_CYCLES_PER_RUN ? { maxCyclesPerRun: BENCH_CYCLES_PER_RUN } : {}),
        },
      ],
      staticSummary: `sevDesk invoice sync for account ${accountId}`,
    });
  });
}

/** Where a first full sync of a sandbox leaves an interface's cursors (newest `update`, unix seconds). */
interface SandboxCursors {
  invoiceCursor: number | null;
  contactCursor: number | null;
}

/**
 * Reads every sandbox once, as a first sync does (every contact with the product's fetchAllContacts, every
 * invoice page classified by the product's classifyPage), for the cursors it would save.
 */
async function sandboxCursors(sandboxes: HostedSandbox[]): Promise<Map<string, SandboxCursors>> {
  const out = new Map<string, SandboxCursors>();
  await mapLimit(sandboxes, 8, async (sb) => {
    const client = createSevdeskClient({ baseUrl: sb.url, token: sb.token });
    const contacts = await fetchAllContacts(client);
    let invoiceCursor: number | null = null;
    for await (const { page } of walkPages(
      (offset, limit) => client.listInvoices({ offset, limit, countAll: true }),
      {},
    )) {
      const t = classifyPage(page, 'EUR').maxUpdate;
      if (t !== null && (invoiceCursor === null || t > invoiceCursor)) invoiceCursor = t;
    }
    out.set(sb.url, { invoiceCursor, contactCursor: contacts.maxUpdate });
  });
  return out;
}

const SETUP_BATCH = 500;
const BENCH_CYCLES_PER_RUN = Number(process.env['BENCH_CYCLES_PER_RUN'] ?? '') || undefined;

export interface FleetOptions {
  databaseUrl: string;
  temporal: Child & { address: string };
  sandboxHost: Child & { sandboxes: HostedSandbox[] };
  accounts: number;
  accountsPerSandbox: number;
  /**
   * The first this many accounts share sandbox 0, which no other account reads (the sync-now samples: the
   * invoices they add must not show up at the idle accounts that a shared sandbox would give them). 0: none.
   */
  sampleAccounts?: number;
  intervalSeconds: number;
  setupTimeoutMs: number;
  onboarding: Onboarding;
  /** Task queue and log label. */
  label: string;
  /** When set, both workers run under node --cpu-prof, into `<dir>/sync` and `<dir>/imports`. */
  cpuProfileDir?: string | undefined;
}

/** Accounts syncing on one worker process, set up and synced once; measured by windows (FleetWindow). */
export interface Fleet {
  ops: AppDeps;
  /** The two worker processes (bench/deployment.ts). */
  deployment: Deployment;
  /** The sync worker (the accounts' workflows and syncs), deployment.sync.child. */
  worker: Child;
  /** The sync worker's /metrics port (SEVSYNC_WORKER_HTTP_PORT). */
  metricsPort: number;
  dbName: string;
  accountIds: string[];
  sandboxOf(i: number): HostedSandbox;
  pids: Record<string, number>;
  intervalSeconds: number;
  setup: { seconds: number; cpu: CpuShare; database: ActivityShare[] };
  /** Every account's runs, oldest first (after a window: the syncs in it). */
  histories(): Promise<{ all: Run[][]; seconds: number }>;
  stop(opts?: { terminate?: boolean }): Promise<void>;
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const config = benchConfig({
    databaseUrl: opts.databaseUrl,
    temporalAddress: opts.temporal.address,
    taskQueue: `bench-${opts.label}-${randomBytes(3).toString('hex')}`,
  });
  // As deployed: the image ships a prebuilt workflow bundle (SEVSYNC_WORKFLOW_BUNDLE), so the worker does not
  // run webpack at start (whose memory would stay in its RSS for the whole window); the sync and webhook
  // queues in one process, the import queue in another (bench/deployment.ts).
  const bundle = await buildWorkflowBundle();
  const deployment = await startDeployment(config, {
    cpuProfileDir: opts.cpuProfileDir,
    // The statement counter is a diagnostic (driver errors then carry their parameters): benches only.
    // The workers run as deployed (the heap cap of docker-compose.yml and deploy/kubernetes, the product's
    // workflow cache); BENCH_WORKER_NODE_OPTIONS replaces the heap cap ('' for node's default heap).
    env: {
      SEVSYNC_DB_COUNT_STATEMENTS: '1',
      // The idle-account figures are read per account from /metrics.
      SEVSYNC_METRICS_PER_ACCOUNT: '1',
      SEVSYNC_WORKFLOW_BUNDLE: bundle.path,
      NODE_OPTIONS: process.env['BENCH_WORKER_NODE_OPTIONS'] ?? DEPLOYED_WORKER_NODE_OPTIONS,
    },
  }).catch((err: unknown) => {
    bundle.remove();
    throw err;
  });
  const worker = deployment.sync.child;
  const metricsPort = deployment.sync.metricsPort;
  // connectApp with a larger pool: the bench adds accounts many at a time.
  const db = createDb(config.databaseUrl, { max: 8 });
  const connection = await Connection.connect(
    temporalConnectionOptions(config.temporalAddress, config.temporal),
  );
  const ops: AppDeps = {
    config,
    db,
    temporal: new Client({ connection, namespace: config.temporalNamespace }),
    sevdesk: ({ baseUrl, token }) => createSevdeskClient({ baseUrl, token, retry: { attempts: 2 } }),
    close: async () => {
      await db.close();
      await connection.close();
    },
  };
  const accountIds = Array.from(
    { length: opts.accounts },
    (_, i) => `bench-${opts.label}-${String(i).padStart(5, '0')}`,
  );
  const samples = opts.sampleAccounts ?? 0;
  const sandboxOf = (i: number) =>
    opts.sandboxHost.sandboxes[
      i < samples ? 0 : (samples > 0 ? 1 : 0) + Math.floor((i - samples) / opts.accountsPerSandbox)
    ] as HostedSandbox;
  const stop = async ({ terminate = true }: { terminate?: boolean } = {}) => {
    // Without terminate the workflows stay on the server (the bench's in-memory dev server, when nothing
    // else runs on it before it stops).
    if (terminate)
      await mapLimit(accountIds, 32, (id) =>
        ops.temporal.workflow
          .getHandle(accountSyncWorkflowId(id))
          .terminate('bench done')
          .catch(() => undefined),
      );
    await ops.close();
    await deployment.stop();
    bundle.remove();
  };
  try {
    const dbName = decodeURIComponent(new URL(opts.databaseUrl).pathname.slice(1));
    const setupActivity = new PgActivitySampler(dbName);
    const pids = { ...deployment.pids, temporal: opts.temporal.pid, sandbox: opts.sandboxHost.pid };
    const setupCpu0 = snapshotCpu(pids);
    const setupStarted = Date.now();
    if (opts.onboarding === 'import')
      await mapLimit<string, unknown>(accountIds, 16, (accountId, i) =>
        addInterface(ops, {
          accountId,
          token: sandboxOf(i).token,
          baseUrl: sandboxOf(i).url,
          intervalSeconds: opts.intervalSeconds,
        }),
      );
    else
      await addManyWithoutImport(
        ops,
        accountIds.map((accountId, i) => ({ accountId, sb: sandboxOf(i) })),
        opts.intervalSeconds,
        opts.intervalSeconds * 1000,
        opts.onboarding === 'quiet' ? await sandboxCursors(opts.sandboxHost.sandboxes) : undefined,
      );
    log(
      `${opts.label}: ${opts.accounts} interfaces added in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s` +
        (opts.onboarding === 'import' ? '' : ` (workflow starts spread over one interval)`),
    );
    let lastLog = Date.now();
    for (;;) {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from interfaces where last_synced_at is not null`;
      const n = row?.n ?? 0;
      if (n >= opts.accounts) break;
      if (Date.now() - setupStarted > opts.setupTimeoutMs + opts.intervalSeconds * 1000)
        throw new Error(
          `only ${n} of ${opts.accounts} accounts synced within ${opts.setupTimeoutMs / 1000 + opts.intervalSeconds} s`,
        );
      if (Date.now() - lastLog > 30_000) {
        log(`${opts.label}: ${n} of ${opts.accounts} accounts synced once`);
        lastLog = Date.now();
      }
      await sleep(500);
    }
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    const setupDb = await setupActivity.stop();
    const setupCpu = cpuBetween(setupCpu0, snapshotCpu(pids), await postgresPidsOf(opts.databaseUrl));
    log(`${opts.label}: every account synced once after ${setupSeconds.toFixed(1)} s`);
    return {
      ops,
      deployment,
      worker,
      metricsPort,
      dbName,
      accountIds,
      sandboxOf,
      pids,
      intervalSeconds: opts.intervalSeconds,
      setup: { seconds: setupSeconds, cpu: setupCpu, database: setupDb.shares },
      histories: async () => {
        const started = Date.now();
        const all = await mapLimit(accountIds, 48, (id) => runsOf(ops.temporal, accountSyncWorkflowId(id)));
        return { all, seconds: (Date.now() - started) / 1000 };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What a window of a fleet measured from outside: CPU, RSS, database connections, the workers' counters. */
export interface WindowSample {
  t0: number;
  t1: number;
  /** Per process, both workers apart ('worker (sync)', 'worker (imports)'). */
  cpu: CpuShare;
  /** The sync worker's RSS and /metrics (the accounts' syncs). */
  rss: { avgBytes: number; maxBytes: number };
  database: PgActivity;
  metricsBefore: Sample[];
  metricsAfter: Sample[];
  /** The same of the import worker. */
  importWorker: {
    rss: { avgBytes: number; maxBytes: number };
    metricsBefore: Sample[];
    metricsAfter: Sample[];
  };
}

const noMetrics = (err: unknown, w: { name: string }): Sample[] => {
  log(`the ${w.name}'s /metrics did not answer (${(err as Error).message}): its counts will be missing`);
  return [];
};

export class FleetWindow {
  private constructor(
    private readonly fleet: Fleet,
    private readonly rss: { sync: RssSampler; imports: RssSampler },
    private readonly activity: PgActivitySampler,
    private readonly cpu0: ReturnType<typeof snapshotCpu>,
    private readonly metricsBefore: { sync: Sample[]; imports: Sample[] },
    readonly t0: number,
  ) {}

  static async open(fleet: Fleet): Promise<FleetWindow> {
    // Scraping also resets the event loop delay histograms: what the scrape at the close reads is this window's.
    // The window starts (and ends) mid-scrape: a scrape of 10,000 accounts' series takes long enough that
    // the cycles starting during it would otherwise add requests on one side of the count and not the other.
    const started = Date.now();
    const before = await fleet.deployment.scrape(noMetrics);
    return new FleetWindow(
      fleet,
      {
        sync: new RssSampler(fleet.deployment.sync.child.pid, 1000),
        imports: new RssSampler(fleet.deployment.imports.child.pid, 1000),
      },
      new PgActivitySampler(fleet.dbName),
      snapshotCpu(fleet.pids),
      before,
      (started + Date.now()) / 2,
    );
  }

  async close(databaseUrl: string): Promise<WindowSample> {
    // The counters first, at the window's end (its middle, as at the start): the requests of cycles that
    // start after it must not count (the cycles are counted by their start in [t0, t1)).
    const closing = Date.now();
    const after = await this.fleet.deployment.scrape(noMetrics);
    const t1 = (closing + Date.now()) / 2;
    const cpu = cpuBetween(this.cpu0, snapshotCpu(this.fleet.pids), await postgresPidsOf(databaseUrl));
    const rss = this.rss.sync.stop();
    const importRss = this.rss.imports.stop();
    const db = await this.activity.stop();
    return {
      t0: this.t0,
      t1,
      cpu,
      rss: { avgBytes: rss.avgBytes, maxBytes: rss.maxBytes },
      database: db,
      metricsBefore: this.metricsBefore.sync,
      metricsAfter: after.sync,
      importWorker: {
        rss: { avgBytes: importRss.avgBytes, maxBytes: importRss.maxBytes },
        metricsBefore: this.metricsBefore.imports,
        metricsAfter: after.imports,
      },
    };
  }
}

export const summary = (xs: number[]) => ({
  p50: percentile(xs, 50),
  p99: percentile(xs, 99),
  max: percentile(xs, 100),
});

/**
 * Per idle cycle (a timer sync of an account that had no changes, i.e. not one of `busy`): the sevDesk
 * requests the worker sent, its database statements (when it counts them) and the history events.
 */
function perIdleCycle(all: Run[][], accountIds: string[], samples: Set<string>, w: WindowSample) {
  let cycles = 0;
  let allCycles = 0;
  let events = 0;
  // Not idle either: an account whose cycle near the window was a regular activity (its first full sync, or
  // the quick sync handing over), so that a first sync ending just inside the window adds no requests.
  const busy = new Set(samples);
  all.forEach((runs, i) => {
    const acts = syncCycles(runs);
    if (
      acts.some(
        (a) =>
          (!a.local || a.handedOver) &&
          a.scheduledMs < w.t1 &&
          (a.completedMs ?? Infinity) >= w.t0 - NOT_IDLE_MARGIN_MS,
      )
    )
      busy.add(accountIds[i] as string);
  });
  all.forEach((runs, i) => {
    const n = syncCycles(runs).filter(
      (a) => a.startedMs !== null && a.startedMs >= w.t0 && a.startedMs < w.t1,
    ).length;
    allCycles += n;
    if (busy.has(accountIds[i] as string)) return;
    cycles += n;
    for (const r of runs)
      for (const e of r.events) {
        const t = eventMs(e);
        if (t >= w.t0 && t < w.t1) events += 1;
      }
  });
  const idle = (l: Record<string, string>) => l['account'] === undefined || !busy.has(l['account']);
  const requests = growth(w.metricsBefore, w.metricsAfter, 'sevsync_sevdesk_requests_total', idle);
  const byAccount = w.metricsAfter.some(
    (s) => s.name === 'sevsync_db_statements_total' && s.labels['account'] !== undefined,
  );
  const statements = growth(
    w.metricsBefore,
    w.metricsAfter,
    'sevsync_db_statements_total',
    byAccount ? idle : undefined,
  );
  const per = (x: number | null, n: number) => (x === null || n === 0 ? null : x / n);
  return {
    cycles: allCycles,
    idleCycles: cycles,
    notIdleAccounts: busy.size - samples.size,
    requestsPerIdleCycle: per(requests, cycles),
    // Without an account label the counter includes the busy accounts' cycles: divided by all cycles then.
    statementsPerIdleCycle: per(statements, byAccount ? cycles : allCycles),
    historyEventsPerIdleCycle: per(events, cycles),
  };
}

/** The worker's GC time by kind and its event loop delay over a window (prom-client's default metrics). */
export function mainThread(w: Pick<WindowSample, 'metricsBefore' | 'metricsAfter'>) {
  const name = (suffix: string) => w.metricsAfter.find((m) => m.name.endsWith(suffix))?.name;
  const gcSum = name('nodejs_gc_duration_seconds_sum');
  let gcSeconds: Record<string, number> | null = null;
  if (gcSum !== undefined) {
    gcSeconds = {};
    for (const kind of new Set(w.metricsAfter.filter((m) => m.name === gcSum).map((m) => m.labels['kind'])))
      if (kind !== undefined)
        gcSeconds[kind] = growth(w.metricsBefore, w.metricsAfter, gcSum, (l) => l['kind'] === kind) ?? 0;
  }
  const ms = (suffix: string) => {
    const n = name(suffix);
    const v = n === undefined ? undefined : w.metricsAfter.find((m) => m.name === n)?.value;
    return v === undefined ? null : v * 1000;
  };
  return {
    gcSeconds,
    eventLoopDelayMs: {
      p99: ms('nodejs_eventloop_lag_p99_seconds'),
      max: ms('nodejs_eventloop_lag_max_seconds'),
    },
  };
}

export async function runSteadyState(
  opts: Omit<FleetOptions, 'label'> & {
    windowSeconds: number;
    latencySamples: number;
    /**
     * Fairness on this fleet: the window is the first "without", then the window pairs (bench/fairness.ts)
     * on the same deployment. The fleet is left on the server (nothing runs on it after this phase).
     */
    fairness?: ImportSandbox;
  },
): Promise<{ steady: SteadyResult; fairness: FairnessResult | undefined }> {
  const fleet = await startFleet({ ...opts, label: 'steady' });
  let result: { steady: SteadyResult; fairness: FairnessResult | undefined };
  let windowSpan: { fromWallMs: number; toWallMs: number } | undefined;
  const { ops, accountIds, sandboxOf } = fleet;
  try {
    log('steady: measuring');
    const contactIds = new Map<string, string>();
    const window = await FleetWindow.open(fleet);
    const t0 = window.t0;
    const windowMs = opts.windowSeconds * 1000;
    const latencies: number[] = [];
    let timeouts = 0;
    const sampleAccounts = opts.sampleAccounts ?? 0;
    for (let k = 0; k < opts.latencySamples && sampleAccounts > 0; k++) {
      const at = t0 + ((k + 0.5) * windowMs) / opts.latencySamples;
      await sleep(Math.max(0, at - Date.now()));
      // The samples' own sandbox: the invoices added there reach no idle account.
      const i = k % sampleAccounts;
      const sb = sandboxOf(i);
      const accountId = accountIds[i] as string;
      let contactId = contactIds.get(sb.url);
      if (!contactId) {
        contactId = await firstContactId(sb);
        contactIds.set(sb.url, contactId);
      }
      const invoiceId = await addSandboxInvoice(sb, contactId);
      const sent = performance.now();
      await syncNow(ops, accountId, false);
      let seen = false;
      while (!seen && performance.now() - sent < VISIBLE_TIMEOUT_MS) {
        const rows = await ops.db.sql`
          select 1 from invoices where account_id = ${accountId} and source_id = ${invoiceId}`;
        seen = rows.length > 0;
        if (!seen) await sleep(20);
      }
      if (seen) latencies.push(performance.now() - sent);
      else timeouts += 1;
    }
    await sleep(Math.max(0, t0 + windowMs - Date.now()));
    const w = await window.close(opts.databaseUrl);
    const t1 = w.t1;
    windowSpan = { fromWallMs: t0, toWallMs: t1 };
    // --fairness-on-steady: this window is the first "without", then the window pairs on the same fleet.
    const windows = opts.fairness
      ? await alternatingWindows(fleet, opts.fairness, opts.databaseUrl, w)
      : undefined;

    const { all, seconds: historyFetchSeconds } = await fleet.histories();
    const fairness = opts.fairness && windows ? fairnessOf(all, fleet, opts.fairness, windows) : undefined;
    const syncs = all
      .flatMap((runs) => syncCycles(runs))
      .filter((a) => a.scheduledMs >= t0 && a.scheduledMs < t1);
    const started = syncs.filter((a) => a.startedMs !== null);
    const lateness = dueSyncs(all, opts.intervalSeconds * 1000, t0, t1);
    // Queue time of the regular activities only: a local one never waits in a server queue.
    const s2s = started.filter((a) => !a.local).map((a) => (a.startedMs as number) - a.scheduledMs);
    const local = syncs.filter((a) => a.local);
    const s2c = syncs.flatMap((a) =>
      a.completedMs !== null && a.startedMs !== null ? [a.completedMs - a.startedMs] : [],
    );
    const wftTimes = all.map((runs) => workflowTaskTimes(runs, t0, t1));
    const wft = wftTimes.flatMap((w) => w.queue);
    const wftRun = wftTimes.flatMap((w) => w.processing);
    const timers = all.flatMap((runs) => timerLateness(runs, t0, t1));
    // Every account on the samples' sandbox saw the added invoices: none of them is idle.
    const busy = new Set(accountIds.slice(0, sampleAccounts));
    const idle = perIdleCycle(all, accountIds, busy, w);
    if (opts.fairness) await opts.fairness.terminate(fleet);
    const steady: SteadyResult = {
      accounts: opts.accounts,
      onboarding: opts.onboarding,
      sandboxes: opts.sandboxHost.sandboxes.length,
      intervalSeconds: opts.intervalSeconds,
      setupSeconds: fleet.setup.seconds,
      setupCpu: fleet.setup.cpu,
      windowSeconds: (t1 - t0) / 1000,
      syncs: {
        scheduled: syncs.length,
        local: local.length,
        handedOver: local.filter((a) => a.handedOver).length,
        notStarted: syncs.length - started.length,
        due: lateness.due,
        missed: lateness.missed,
        startLatenessMs: summary(lateness.late),
        scheduleToStartMs: summary(s2s),
        startToCloseMs: { p50: percentile(s2c, 50), p99: percentile(s2c, 99) },
      },
      workflowTaskScheduleToStartMs: { p50: percentile(wft, 50), p99: percentile(wft, 99), n: wft.length },
      workflowTaskStartToCloseMs: { p50: percentile(wftRun, 50), p99: percentile(wftRun, 99) },
      timerLatenessMs: { p50: percentile(timers, 50), p99: percentile(timers, 99), n: timers.length },
      database: { setup: fleet.setup.database, window: w.database.shares },
      idleInTransaction: idleInTransaction(w.database),
      worker: {
        cpuCores: w.cpu.cores[SYNC_WORKER] ?? 0,
        avgRssBytes: w.rss.avgBytes,
        maxRssBytes: w.rss.maxBytes,
        ...mainThread(w),
      },
      importWorker: {
        cpuCores: w.cpu.cores[IMPORT_WORKER] ?? 0,
        avgRssBytes: w.importWorker.rss.avgBytes,
        maxRssBytes: w.importWorker.rss.maxBytes,
        ...mainThread(w.importWorker),
      },
      cpu: w.cpu,
      cycleCost: cycleCost({
        all,
        t0,
        t1,
        cpuSeconds: w.cpu.cpuSeconds,
        metrics: { before: w.metricsBefore, after: w.metricsAfter },
        cycles: idle.cycles,
        idleCycles: idle.idleCycles,
      }),
      idleCycles: idle.idleCycles,
      notIdleAccounts: idle.notIdleAccounts,
      requestsPerIdleCycle: idle.requestsPerIdleCycle,
      statementsPerIdleCycle: idle.statementsPerIdleCycle,
      historyEventsPerIdleCycle: idle.historyEventsPerIdleCycle,
      workflowCache: {
        hits: sdkCounter(w.metricsBefore, w.metricsAfter, 'sticky_cache_hit'),
        misses: sdkCounter(w.metricsBefore, w.metricsAfter, 'sticky_cache_miss'),
      },
      syncNowToVisibleMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        samples: latencies.map((l) => Math.round(l)),
        timeouts,
      },
      historyFetchSeconds,
    };
    result = { steady, fairness };
  } finally {
    // The bench's last phase (bench/run.ts): its workflows stay on the in-memory dev server, which stops
    // with the bench, instead of being terminated one by one (about 3 minutes at 10,000 accounts).
    await fleet.stop({ terminate: false });
  }
  const exitWallMs = fleet.worker.exitedAt();
  const profileDir = fleet.deployment.sync.cpuProfileDir;
  if (profileDir && windowSpan && exitWallMs !== null)
    result.steady.cpuProfile = summariseProfiles(profileDir, 16, { ...windowSpan, exitWallMs });
  return result;
}
