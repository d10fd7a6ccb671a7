// The fault campaign (`npm run chaos`, and its short version in test/chaos/chaos.test.ts). Everything runs
// on 127.0.0.1 in processes it owns: a Temporal dev server on a SQLite file (so that a SIGKILL and a
// restart keep its state), a fresh database, the real `sevsync worker` process and one sevDesk sandbox per
// account. While imports, reconciles and incremental syncs run, a seeded schedule of faults is injected;
// afterwards the faults are cleared, the imports finish, a sync-now runs, and the invariants are checked.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { AppDeps } from '../src/app';
import { addInterface, startImport } from '../src/app';
import type { Config } from '../src/config';
import type { DbHandle } from '../src/db/client';
import { ensureTemporal } from '../src/dev/temporal-cli';
import type { Sandbox } from '../sandbox';
import { startSandbox } from '../sandbox';
import type { SandboxKnobs } from '../sandbox/store';
import { Rng, hash32 } from '../sandbox/random';
import { closeDefaultDispatchers, createSevdeskClient } from '../src/sevdesk/client';
import type { AccountStatus } from '../src/shared';
import { accountSyncWorkflowId } from '../src/shared';
import { statusQuery } from '../src/workflows';
import { controlDb, createDatabase, dropDatabase, progressByAccount, terminateBackends } from './database';
import type { InvariantResult } from './invariants';
import { checkAccount } from './invariants';
import { mutate } from './mutations';
import type { FaultEvent, FaultKind } from './plan';
import { FAULT_KINDS, SANDBOX_KIND, planFaults, planFingerprint } from './plan';
import { TemporalDevServer, WorkerProcess, freePort, sleep } from './processes';
import { finalSync, finishImports, rerun, withTimeout, workflowHealth } from './settle';

export interface CampaignOptions {
  seed: number;
  /** Faults to inject (the schedule's length). */
  faults: number;
  accounts?: number;
  invoicesPerAccount?: number;
  /** Pause between two faults, drawn from this range by the seed. */
  gapMs?: readonly [number, number];
  /** The accounts' sync interval: short, so incremental syncs run between the imports. */
  syncIntervalSeconds?: number;
  /** Imports continue-as-new after this many pages (small: more runs, more places to die). */
  importPagesPerRun?: number;
  /** Server to create the campaign's own database on; its path is replaced. */
  adminDatabaseUrl?: string;
  /** Injection stops after this long even if faults remain (they are reported as not injected). */
  budgetMs?: number;
  /** How long a worker kill or a server restart may take to show progress again before it counts as failed. */
  recoveryTimeoutMs?: number;
  /** Keep the database and the log directory: always, only when an invariant failed, or never. */
  keep?: 'always' | 'on-failure' | 'never';
  log?: (line: string) => void;
}

export interface FaultTally {
  kind: FaultKind;
  injected: number;
  /** What the faults actually did: requests hit, processes killed, backends terminated, invoices changed. */
  effect: number;
  unit: string;
}

export interface RecoveryStats {
  samples: number[];
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface CampaignReport {
  seed: number;
  planFingerprint: string;
  faultsPlanned: number;
  faultsInjected: number;
  accounts: number;
  invoicesPerAccount: number;
  tallies: FaultTally[];
  invariants: InvariantResult[];
  /** Kill to the first progress of any account afterwards (for a restart: counted once the server is back). */
  recovery: { workerKill: RecoveryStats; temporalRestart: RecoveryStats };
  unplannedWorkerExits: number;
  workerStarts: number;
  importsStarted: number;
  reconcilesStarted: number;
  durationsMs: { setup: number; faults: number; settle: number; rerun: number; total: number };
  /** Logs (and, if kept, the database name) for a look afterwards. */
  kept: { dir: string; database: string } | null;
  /** Each injected fault: when (ms since the start) and what it did. */
  timeline: { seq: number; atMs: number; what: string }[];
  /** The sandbox knobs drawn for each account (behaviours sevDesk has not pinned down: docs/sevdesk.md, "Unknowns"). */
  knobs: { account: string; listOrder: SandboxKnobs['listOrder']; hideWithoutShowAll: boolean }[];
  passed: boolean;
}

const KNOB_STREAM = 9005;
const LIST_ORDERS: readonly SandboxKnobs['listOrder'][] = ['id-asc', 'id-desc', 'update', 'shuffled'];

/** The short campaign that runs inside `npm test` (and `npm run chaos -- --short`): every kind once or more. */
export const SHORT_CAMPAIGN = {
  seed: 20261127,
  faults: 20,
  accounts: 2,
  invoicesPerAccount: 1500,
  gapMs: [200, 1000],
} as const satisfies Partial<CampaignOptions>;

/**
 * The name of the invariant that the worker process never died by itself. It fails now and then because
 * postgres.js 3.4.9 can crash the process when a backend is terminated (see chaos/pg-terminate-hammer.ts).
 */
export const WORKER_SURVIVED = 'worker never exited on its own';

const TASK_QUEUE = 'sevsync-chaos';
const SANDBOX_STREAM = 9003;
const MUTATION_STREAM = 9002;
const WORKLOAD_STREAM = 9004;

const UNITS: Record<FaultKind, string> = {
  'worker-kill': 'workers killed',
  'temporal-restart': 'servers killed',
  'pg-terminate': 'backends terminated',
  'rate-limit': 'requests answered 429',
  'rate-limit-retry-after': 'requests answered 429',
  'server-error-html': 'requests answered 500',
  hang: 'requests hung',
  truncated: 'bodies cut short',
  malformed: 'objects corrupted',
  slow: 'requests delayed',
  'empty-page': 'pages sent empty',
  'short-page': 'pages cut short',
  'duplicate-rows': 'pages with repeated rows',
  poison: 'odd records served',
  'invoices-added': 'invoices added',
  'invoices-paid': 'payments booked',
  'invoices-cancelled': 'invoices cancelled',
};

/** Nearest-rank percentile of milliseconds; null without samples. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

const stats = (samples: number[]): RecoveryStats => ({
  samples,
  p50: percentile(samples, 50),
  p95: percentile(samples, 95),
  max: samples.length ? Math.max(...samples) : null,
});

interface Account {
  id: string;
  sandbox: Sandbox;
}

/** A sandbox fault as added: its RegExp path is a fresh object, so its remaining count can be found again. */
interface Injected {
  kind: FaultKind;
  sandbox: Sandbox;
  path: RegExp;
  times: number;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function runCampaign(opts: CampaignOptions): Promise<CampaignReport> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const say = (msg: string) =>
    log(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
  const accountsN = opts.accounts ?? 3;
  const invoicesN = opts.invoicesPerAccount ?? 3000;
  const recoveryTimeoutMs = opts.recoveryTimeoutMs ?? 150_000;
  const plan = planFaults({ seed: opts.seed, faults: opts.faults, accounts: accountsN, gapMs: opts.gapMs });
  const adminUrl = opts.adminDatabaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';

  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-chaos-'));
  const dbName = `sevsync_chaos_${randomBytes(4).toString('hex')}`;
  const invariants: InvariantResult[] = [];
  const tallies = new Map<FaultKind, FaultTally>(
    FAULT_KINDS.map((kind) => [kind, { kind, injected: 0, effect: 0, unit: UNITS[kind] }]),
  );
  const tally = (kind: FaultKind, effect: number) => {
    const t = tallies.get(kind)!;
    t.injected += 1;
    t.effect += effect;
  };
  const injectedSandboxFaults: Injected[] = [];
  const timeline: CampaignReport['timeline'] = [];
  const recoveries = { workerKill: [] as number[], temporalRestart: [] as number[] };
  const unrecovered: string[] = [];
  let unplannedExits = 0;
  let importsStarted = 0;
  let reconcilesStarted = 0;
  let faultsInjected = 0;
  const durations = { setup: 0, faults: 0, settle: 0, rerun: 0, total: 0 };
  const knobs: CampaignReport['knobs'] = [];

  const bin = await ensureTemporal({ log: say });
  if (!bin) throw new Error('the chaos campaign needs the temporal CLI binary (npm run temporal:install)');
  const temporal = new TemporalDevServer(
    bin,
    await freePort(),
    path.join(dir, 'temporal.sqlite'),
    path.join(dir, 'temporal.log'),
  );
  const sandboxes: Sandbox[] = [];
  let control: DbHandle | undefined;
  let connection: Connection | undefined;
  let worker: WorkerProcess | undefined;
  let databaseCreated = false;
  let passed = false;
  const keep = opts.keep ?? 'on-failure';
  let kept: boolean;

  try {
    // ---- setup: own Temporal server, own database, the real worker process, one sandbox per account ----
    await temporal.start();
    const databaseUrl = await createDatabase(adminUrl, dbName);
    databaseCreated = true;
    say(
      `temporal ${temporal.address} (${path.join(dir, 'temporal.sqlite')}), database ${dbName}, logs ${dir}`,
    );
    const config: Config = {
      databaseUrl,
      temporalAddress: temporal.address,
      temporalNamespace: 'default',
      taskQueue: TASK_QUEUE,
      secretKey: randomBytes(32),
      sevdeskBaseUrl: 'http://127.0.0.1:9/api/v1',
      syncIntervalSeconds: opts.syncIntervalSeconds ?? 3,
    };
    control = controlDb(databaseUrl);
    const sql = control.sql;
    connection = await Connection.connect({ address: temporal.address });
    const temporalClient = new Client({ connection, namespace: 'default' });
    const ops: AppDeps = {
      config,
      db: control,
      temporal: temporalClient,
      sevdesk: ({ baseUrl, token }) => createSevdeskClient({ baseUrl, token, retry: { attempts: 2 } }),
      close: async () => {},
    };
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '../src/workflows/index.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => say(`bundle: ${m}`) },
    });
    writeFileSync(bundlePath, bundle.code);
    worker = new WorkerProcess(
      config,
      path.join(dir, 'worker.log'),
      (code, signal) => {
        unplannedExits += 1;
        say(`the worker exited on its own (code ${code}, signal ${signal}); restarting it`);
      },
      bundlePath,
    );
    worker.start();
    await worker.ready();

    const accounts: Account[] = [];
    for (let i = 0; i < accountsN; i++) {
      const sandbox = await startSandbox({
        seed: hash32(opts.seed, SANDBOX_STREAM, i),
        data: { invoices: invoicesN },
      });
      sandboxes.push(sandbox);
      // Each account meets a sevDesk of its own kind: list order and showAll drawn from the seed.
      const knobRng = new Rng(opts.seed, KNOB_STREAM, i);
      sandbox.store.knobs.listOrder = knobRng.pick(LIST_ORDERS);
      sandbox.store.knobs.hideWithoutShowAll = knobRng.chance(0.5);
      knobs.push({ account: `chaos-${i + 1}`, ...sandbox.store.knobs });
      accounts.push({ id: `chaos-${i + 1}`, sandbox });
    }
    for (const a of accounts) {
      await addInterface(ops, {
        accountId: a.id,
        token: a.sandbox.token,
        baseUrl: a.sandbox.url,
        intervalSeconds: config.syncIntervalSeconds,
        tuning: { importPagesPerRun: opts.importPagesPerRun ?? 2, maxCyclesPerRun: 20 },
      });
    }
    durations.setup = Date.now() - started;
    say(
      `${accountsN} accounts of ${invoicesN} invoices added; ${plan.length} faults planned (${planFingerprint(plan)})`,
    );

    const parentStatus = (accountId: string) =>
      withTimeout(
        temporalClient.workflow.getHandle(accountSyncWorkflowId(accountId)).query(statusQuery),
        5000,
        'status query',
      );

    // ---- workload: new imports and reconciles keep starting, with pauses for incremental syncs ----
    let stopWorkload = false;
    const workload = accounts.map(async (a, i) => {
      const rng = new Rng(opts.seed, WORKLOAD_STREAM, i);
      let idleSince: number | undefined;
      let pauseMs = rng.range(2000, 6000);
      let lastError: string | undefined;
      while (!stopWorkload) {
        await sleep(1000);
        try {
          const s: AccountStatus = await parentStatus(a.id);
          const running = s.import && (s.import.state === 'running' || s.import.state === 'paused');
          if (running) {
            idleSince = undefined;
            continue;
          }
          idleSince ??= Date.now();
          if (Date.now() - idleSince < pauseMs || stopWorkload) continue;
          // Some walks are reconciles: their end marks what sevDesk no longer has as deleted.
          const kind = rng.chance(0.3) ? 'reconcile' : 'import';
          await startImport(ops, a.id, { dryRun: false, kind });
          if (kind === 'reconcile') reconcilesStarted += 1;
          else importsStarted += 1;
          say(`workload: ${kind} of ${a.id} started`);
          idleSince = undefined;
          pauseMs = rng.range(2000, 6000);
        } catch (err) {
          // The server or the worker is down right now: that is the point; try again in a second.
          const message = (err as Error).message;
          if (message !== lastError) say(`workload: ${a.id}: ${message}`);
          lastError = message;
        }
      }
    });

    /** Waits for the first progress after a kill; `countFrom` is when progress starts to count. */
    const measure = async (
      e: FaultEvent,
      what: 'workerKill' | 'temporalRestart',
      killedAt: Date,
      countFrom: Date,
    ) => {
      const label =
        what === 'workerKill' ? 'worker SIGKILL' : `Temporal server SIGKILL, down ${e.downtimeMs} ms`;
      const at = await firstProgress(sql, countFrom, recoveryTimeoutMs);
      if (at === undefined) {
        unrecovered.push(`#${e.seq} ${e.kind}`);
        return `${label}: no progress within ${recoveryTimeoutMs} ms`;
      }
      const ms = at.getTime() - killedAt.getTime();
      recoveries[what].push(ms);
      return `${label}: progress again after ${(ms / 1000).toFixed(1)} s`;
    };

    const killWorker = async (e: FaultEvent) => {
      await worker!.kill();
      const killedAt = new Date();
      worker!.start();
      tally('worker-kill', 1);
      return measure(e, 'workerKill', killedAt, killedAt);
    };

    const restartTemporal = async (e: FaultEvent) => {
      await temporal.kill();
      const killedAt = new Date();
      tally('temporal-restart', 1);
      await sleep(e.downtimeMs ?? 1000);
      await temporal.start();
      // Progress while the server was down (activities finishing their writes) is not recovery.
      return measure(e, 'temporalRestart', killedAt, new Date());
    };

    /** Injects one fault and says what it did. */
    const inject = async (e: FaultEvent): Promise<string> => {
      const a = accounts[e.account]!;
      if (e.kind === 'worker-kill') return killWorker(e);
      if (e.kind === 'temporal-restart') return restartTemporal(e);
      if (e.kind === 'pg-terminate') {
        const n = await terminateBackends(sql);
        tally('pg-terminate', n);
        return `terminated ${n} PostgreSQL backends`;
      }
      const sandboxKind = SANDBOX_KIND[e.kind];
      if (sandboxKind) {
        const re = new RegExp(e.path === '*' ? '^/' : `^${escapeRegExp(e.path ?? '/')}(?:/|$)`);
        a.sandbox.faults.add({
          kind: sandboxKind,
          times: e.times,
          path: re,
          ...(e.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: e.retryAfterSeconds }),
          ...(e.delayMs === undefined ? {} : { delayMs: e.delayMs }),
          ...(e.field === undefined ? {} : { field: e.field }),
        });
        injectedSandboxFaults.push({ kind: e.kind, sandbox: a.sandbox, path: re, times: e.times });
        tallies.get(e.kind)!.injected += 1;
        return `${e.kind} x${e.times} on ${e.path} of ${a.id}`;
      }
      const n = mutate(a.sandbox, e, new Rng(opts.seed, MUTATION_STREAM, e.seq));
      tally(e.kind, n);
      return `${e.kind}: ${n} in ${a.id}`;
    };

    // ---- the faults, in the seeded order ----
    const faultsStarted = Date.now();
    const budgetEnd = faultsStarted + (opts.budgetMs ?? 9 * 60_000);
    for (const e of plan) {
      if (Date.now() > budgetEnd) {
        say(`time budget used up: ${plan.length - faultsInjected} faults not injected`);
        break;
      }
      await sleep(e.gapMs);
      const at = Date.now() - started;
      const what = await inject(e);
      timeline.push({ seq: e.seq, atMs: at, what });
      say(`#${e.seq} ${what}`);
      faultsInjected += 1;
    }
    durations.faults = Date.now() - faultsStarted;

    invariants.push({
      name: 'every planned fault injected within the budget',
      account: '*',
      pass: faultsInjected === plan.length,
      detail: faultsInjected === plan.length ? '' : `${plan.length - faultsInjected} left out`,
    });

    // ---- settle: faults off, imports finished, one final sync-now ----
    const settleStarted = Date.now();
    stopWorkload = true;
    await Promise.all(workload);
    // Late faults get a little time to meet a request before they are cleared (a fault on a path that
    // nothing asks for right now stays unfired and is reported so).
    const drainUntil = Date.now() + 20_000;
    while (Date.now() < drainUntil && accounts.some((a) => a.sandbox.faults.pending().length > 0)) {
      await sleep(500);
    }
    for (const f of injectedSandboxFaults) {
      const left = f.sandbox.faults.pending().find((p) => p.path === f.path)?.times ?? 0;
      tallies.get(f.kind)!.effect += f.times - left;
    }
    for (const a of accounts) a.sandbox.faults.clear();
    say('faults cleared; waiting for the imports to finish');
    for (const a of accounts) {
      const problems = await finishImports(ops, a.id, parentStatus);
      invariants.push({
        name: 'imports finished',
        account: a.id,
        pass: problems.length === 0,
        detail: problems.join('; '),
      });
    }
    for (const a of accounts) {
      const problem = await finalSync(ops, a.id);
      invariants.push({
        name: 'final sync-now served',
        account: a.id,
        pass: !problem,
        detail: problem ?? '',
      });
    }
    say('checking invariants');
    for (const a of accounts) invariants.push(...(await checkAccount(sql, a.id, a.sandbox.store)));
    invariants.push(await workflowHealth(temporalClient, accountsN));
    invariants.push({
      name: 'every kill and restart recovered',
      account: '*',
      pass: unrecovered.length === 0,
      detail: unrecovered.join(', '),
    });
    invariants.push({
      name: WORKER_SURVIVED,
      account: '*',
      pass: unplannedExits === 0,
      detail: unplannedExits ? `${unplannedExits} unplanned exits (see ${path.join(dir, 'worker.log')})` : '',
    });
    durations.settle = Date.now() - settleStarted;

    // ---- re-run: another sync-now and another full import must not write a single row ----
    const rerunStarted = Date.now();
    say('re-run: sync-now + full import + sync-now per account');
    for (const a of accounts) invariants.push(await rerun(ops, sql, a.id, parentStatus));
    durations.rerun = Date.now() - rerunStarted;
    passed = invariants.every((i) => i.pass);
  } finally {
    await worker?.stop().catch(() => {});
    await connection?.close().catch(() => {});
    await control?.close().catch(() => {});
    await temporal.stop().catch(() => {});
    await Promise.all(sandboxes.map((s) => s.close().catch(() => {})));
    await closeDefaultDispatchers().catch(() => {});
    kept = keep === 'always' || (keep === 'on-failure' && !passed);
    if (!kept) {
      if (databaseCreated) await dropDatabase(adminUrl, dbName);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  durations.total = Date.now() - started;
  return {
    seed: opts.seed,
    planFingerprint: planFingerprint(plan),
    faultsPlanned: plan.length,
    faultsInjected,
    accounts: accountsN,
    invoicesPerAccount: invoicesN,
    tallies: [...tallies.values()],
    invariants,
    recovery: {
      workerKill: stats(recoveries.workerKill),
      temporalRestart: stats(recoveries.temporalRestart),
    },
    unplannedWorkerExits: unplannedExits,
    workerStarts: worker?.starts ?? 0,
    importsStarted,
    reconcilesStarted,
    durationsMs: durations,
    kept: kept ? { dir, database: dbName } : null,
    timeline,
    knobs,
    passed,
  };
}

/** The first progress of any account after `since`, polled often; undefined after the timeout. */
async function firstProgress(
  sql: DbHandle['sql'],
  since: Date,
  timeoutMs: number,
): Promise<Date | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await progressByAccount(sql, since).catch(() => new Map<string, Date>());
    if (found.size > 0) return new Date(Math.min(...[...found.values()].map((d) => d.getTime())));
    await sleep(150);
  }
  return undefined;
}
