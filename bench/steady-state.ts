import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import type { AppDeps } from '../src/app';
import { addInterface, syncNow } from '../src/app';
import { requireKeyring } from '../src/config';
import { createDb } from '../src/db/client';
import { ensureAccount, insertInterface } from '../src/db/interfaces';
import { encryptToken } from '../src/secrets';
import { createSevdeskClient } from '../src/sevdesk/client';
import { accountSyncWorkflowId } from '../src/shared';
import type { AccountSyncState } from '../src/workflows';
import { accountSyncWorkflow } from '../src/workflows';
import type { Run } from './histories';
import { activityTimings, mapLimit, percentile, runsOf, timerLateness, workflowTaskTimes } from './histories';
import type { Child } from './infra';
import { benchConfig, log, sleep, startWorkerProcess } from './infra';
import type { ActivityShare } from './pg-activity';
import { PgActivitySampler, postgresPidsOf } from './pg-activity';
import type { CpuShare } from './proc-stats';
import { RssSampler, cpuBetween, snapshotCpu } from './proc-stats';
import type { HostedSandbox } from './sandbox-host';

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
    /** syncAccount activities scheduled in the window. */
    scheduled: number;
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
  worker: { cpuCores: number; avgRssBytes: number; maxRssBytes: number };
  cpu: CpuShare;
  syncNowToVisibleMs: { p50: number | null; p95: number | null; samples: number[]; timeouts: number };
  historyFetchSeconds: number;
}

const VISIBLE_TIMEOUT_MS = 60_000;
/** A sync scheduled this much before its timer was due came from a signal (sync-now), not from the timer. */
const EARLY_MS = 100;
/** Syncs due this close to the end of the window may legitimately not be scheduled yet. */
const MISSED_GRACE_MS = 5_000;

/**
 * Whether one worker keeps up: every sync that the interval makes due inside the window, and how late it
 * started. Independent of the window's phase: accounts synced just before the window are not due in it.
 */
function dueSyncs(all: Run[][], intervalMs: number, t0: number, t1: number) {
  let due = 0;
  let missed = 0;
  const late: number[] = [];
  for (const runs of all) {
    const acts = activityTimings(runs)
      .filter((a) => a.type === 'syncAccount')
      .sort((a, b) => a.scheduledMs - b.scheduledMs);
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

export type Onboarding = 'sync' | 'import';

/**
 * The interface row and the account workflow as addInterface makes them, but with a workflow state that says
 * the initial import already ran: the first cycle is then a full first sync (syncAccount with no cursor).
 * Onboarding a thousand accounts through bulk imports takes many minutes on a small machine (every import
 * ANALYZEs the shared tables, and those ANALYZEs wait for each other), which is measured with
 * --onboarding import; the steady state after onboarding is the same either way.
 */
async function addWithoutImport(ops: AppDeps, accountId: string, sb: HostedSandbox, intervalSeconds: number) {
  await ensureAccount(ops.db.sql, accountId);
  const encrypted = encryptToken(
    requireKeyring(ops.config),
    { accountId, provider: 'sevdesk', baseUrl: sb.url },
    sb.token,
  );
  await insertInterface(ops.db.sql, {
    accountId,
    baseUrl: sb.url,
    ciphertext: encrypted.ciphertext,
    keyId: encrypted.keyId,
    settings: { intervalSeconds, amountBasis: 'gross' },
    active: true,
  });
  const state: AccountSyncState = {
    active: true,
    intervalSeconds,
    blocked: null,
    lastError: null,
    lastSyncAt: null,
    lastCounts: null,
    cycles: 0,
    requestSeq: 0,
    servedSeq: 0,
    settingsSeq: 0,
    import: null,
    lastReconcileAt: null,
    initialImportStarted: true,
  };
  await ops.temporal.workflow.start(accountSyncWorkflow, {
    workflowId: accountSyncWorkflowId(accountId),
    taskQueue: ops.config.taskQueue,
    args: [{ accountId, intervalSeconds, startActive: true, state }],
    staticSummary: `sevDesk invoice sync for account ${accountId}`,
  });
}

export async function runSteadyState(opts: {
  databaseUrl: string;
  temporal: Child & { address: string };
  sandboxHost: Child & { sandboxes: HostedSandbox[] };
  accounts: number;
  accountsPerSandbox: number;
  intervalSeconds: number;
  windowSeconds: number;
  latencySamples: number;
  setupTimeoutMs: number;
  onboarding: Onboarding;
}): Promise<SteadyResult> {
  const config = benchConfig({
    databaseUrl: opts.databaseUrl,
    temporalAddress: opts.temporal.address,
    taskQueue: `bench-steady-${randomBytes(3).toString('hex')}`,
  });
  const worker = await startWorkerProcess(config);
  // connectApp with a larger pool: the bench adds accounts many at a time.
  const db = createDb(config.databaseUrl, { max: 8 });
  const connection = await Connection.connect({ address: config.temporalAddress });
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
  const accountIds = Array.from({ length: opts.accounts }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  const sandboxOf = (i: number) =>
    opts.sandboxHost.sandboxes[Math.floor(i / opts.accountsPerSandbox)] as HostedSandbox;
  try {
    const dbName = decodeURIComponent(new URL(opts.databaseUrl).pathname.slice(1));
    const setupActivity = new PgActivitySampler(dbName);
    const pids = { worker: worker.pid, temporal: opts.temporal.pid, sandbox: opts.sandboxHost.pid };
    const setupCpu0 = snapshotCpu(pids);
    const setupStarted = Date.now();
    await mapLimit<string, unknown>(accountIds, 16, (accountId, i) =>
      opts.onboarding === 'import'
        ? addInterface(ops, {
            accountId,
            token: sandboxOf(i).token,
            baseUrl: sandboxOf(i).url,
            intervalSeconds: opts.intervalSeconds,
          })
        : addWithoutImport(ops, accountId, sandboxOf(i), opts.intervalSeconds),
    );
    log(`steady: ${opts.accounts} interfaces added in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
    for (;;) {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from interfaces where last_synced_at is not null`;
      if ((row?.n ?? 0) >= opts.accounts) break;
      if (Date.now() - setupStarted > opts.setupTimeoutMs)
        throw new Error(
          `only ${row?.n ?? 0} of ${opts.accounts} accounts synced within ${opts.setupTimeoutMs / 1000} s`,
        );
      await sleep(500);
    }
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    const setupDb = await setupActivity.stop();
    const setupCpu = cpuBetween(setupCpu0, snapshotCpu(pids), await postgresPidsOf(opts.databaseUrl));
    log(`steady: every account synced once after ${setupSeconds.toFixed(1)} s; measuring`);

    const contactIds = new Map<string, string>();
    const rss = new RssSampler(worker.pid, 1000);
    const windowActivity = new PgActivitySampler(dbName);
    const cpu0 = snapshotCpu(pids);
    const t0 = Date.now();
    const windowMs = opts.windowSeconds * 1000;
    const latencies: number[] = [];
    let timeouts = 0;
    for (let k = 0; k < opts.latencySamples; k++) {
      const at = t0 + ((k + 0.5) * windowMs) / opts.latencySamples;
      await sleep(Math.max(0, at - Date.now()));
      const i = Math.floor(((k + 0.5) * opts.accounts) / opts.latencySamples);
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
        const rows = await db.sql`
          select 1 from invoices where account_id = ${accountId} and source_id = ${invoiceId}`;
        seen = rows.length > 0;
        if (!seen) await sleep(20);
      }
      if (seen) latencies.push(performance.now() - sent);
      else timeouts += 1;
    }
    await sleep(Math.max(0, t0 + windowMs - Date.now()));
    const t1 = Date.now();
    const cpu = cpuBetween(cpu0, snapshotCpu(pids), await postgresPidsOf(opts.databaseUrl));
    const sampled = rss.stop();
    const windowDb = await windowActivity.stop();

    const fetchStarted = Date.now();
    const all = await mapLimit(accountIds, 8, (id) => runsOf(ops.temporal, accountSyncWorkflowId(id)));
    const historyFetchSeconds = (Date.now() - fetchStarted) / 1000;
    const syncs = all
      .flatMap((runs) => activityTimings(runs))
      .filter((a) => a.type === 'syncAccount' && a.scheduledMs >= t0 && a.scheduledMs < t1);
    const started = syncs.filter((a) => a.startedMs !== null);
    const lateness = dueSyncs(all, opts.intervalSeconds * 1000, t0, t1);
    const s2s = started.map((a) => (a.startedMs as number) - a.scheduledMs);
    const s2c = syncs.flatMap((a) =>
      a.completedMs !== null && a.startedMs !== null ? [a.completedMs - a.startedMs] : [],
    );
    const wftTimes = all.map((runs) => workflowTaskTimes(runs, t0, t1));
    const wft = wftTimes.flatMap((w) => w.queue);
    const wftRun = wftTimes.flatMap((w) => w.processing);
    const timers = all.flatMap((runs) => timerLateness(runs, t0, t1));
    return {
      accounts: opts.accounts,
      onboarding: opts.onboarding,
      sandboxes: opts.sandboxHost.sandboxes.length,
      intervalSeconds: opts.intervalSeconds,
      setupSeconds,
      setupCpu,
      windowSeconds: (t1 - t0) / 1000,
      syncs: {
        scheduled: syncs.length,
        notStarted: syncs.length - started.length,
        due: lateness.due,
        missed: lateness.missed,
        startLatenessMs: {
          p50: percentile(lateness.late, 50),
          p99: percentile(lateness.late, 99),
          max: percentile(lateness.late, 100),
        },
        scheduleToStartMs: { p50: percentile(s2s, 50), p99: percentile(s2s, 99), max: percentile(s2s, 100) },
        startToCloseMs: { p50: percentile(s2c, 50), p99: percentile(s2c, 99) },
      },
      workflowTaskScheduleToStartMs: { p50: percentile(wft, 50), p99: percentile(wft, 99), n: wft.length },
      workflowTaskStartToCloseMs: { p50: percentile(wftRun, 50), p99: percentile(wftRun, 99) },
      timerLatenessMs: { p50: percentile(timers, 50), p99: percentile(timers, 99), n: timers.length },
      database: { setup: setupDb.shares, window: windowDb.shares },
      worker: {
        cpuCores: cpu.cores.worker ?? 0,
        avgRssBytes: sampled.avgBytes,
        maxRssBytes: sampled.maxBytes,
      },
      cpu,
      syncNowToVisibleMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        samples: latencies.map((l) => Math.round(l)),
        timeouts,
      },
      historyFetchSeconds,
    };
  } finally {
    await mapLimit(accountIds, 16, (id) =>
      ops.temporal.workflow
        .getHandle(accountSyncWorkflowId(id))
        .terminate('bench done')
        .catch(() => undefined),
    );
    await ops.close();
    await worker.stop();
  }
}
