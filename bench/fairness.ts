import { addInterface } from '../src/app';
import { accountSyncWorkflowId } from '../src/shared';
import type { WorkerRole } from './deployment';
import { IMPORT_WORKER, SYNC_WORKER } from './deployment';
import { importWorkflowOf } from './import-pipeline';
import type { Cleanup, startTemporal } from './infra';
import { checkpoint, createDatabase, dropDatabase, log, sleep, startSandboxHost, withTimeout } from './infra';
import type { BenchOptions } from './options';
import type { CpuShare } from './proc-stats';
import type { Run } from './histories';
import { median } from './histories';
import type { HostedSandbox } from './sandbox-host';
import type { Fleet, WindowSample } from './steady-state';
import type { IdleInTransaction } from './pg-activity';
import { idleInTransaction } from './pg-activity';
import { FleetWindow, dueSyncs, mainThread, startFleet, summary } from './steady-state';

// Fairness: steady-state accounts on the deployment (a sync worker, an import worker), their due syncs' start
// lateness in alternating windows without and during bulk imports: without, with, without, with, ... Each
// window lasts at least --fairness-seconds (the interval by default), so that every account falls due in it;
// a window "with" runs imports back to back (a new account each, on one sandbox of its own) until it has
// lasted that long, and ends when its last import ends. One pair of windows can differ by chance (a p99 of a
// few hundred syncs, a machine shared with other work): the goal is judged on the medians over the pairs,
// shown with the spread of the pairs' own ratios.

export interface WorkerInWindow {
  cpuCores: number;
  maxRssBytes: number;
  /** GC time by kind and the event loop's delay over the window (see SteadyResult.worker). */
  gcSeconds: Record<string, number> | null;
  eventLoopDelayMs: { p99: number | null; max: number | null };
}

export interface FairnessWindow {
  kind: 'without' | 'with';
  /** 1-based: window pair `pair` is its without and its with. */
  pair: number;
  windowSeconds: number;
  due: number;
  missed: number;
  startLatenessMs: { p50: number | null; p99: number | null; max: number | null };
  workers: Record<WorkerRole, WorkerInWindow>;
  idleInTransaction: IdleInTransaction;
  cpu: CpuShare;
  /** The imports of a window "with", back to back: how many, their invoices and speed. */
  imports: { count: number; invoices: number; invoicesPerSecond: number } | null;
}

type Delay = { p99: number | null; max: number | null };

export interface FairnessResult {
  accounts: number;
  intervalSeconds: number;
  /** Invoices of one import (the sandbox the imports read). */
  invoices: number;
  setupSeconds: number;
  /** In the order they ran: without, with, without, with, ... */
  windows: FairnessWindow[];
  /** Per pair: p99 with / p99 without. */
  pairRatios: (number | null)[];
  /** Medians over the windows of each kind of their start lateness p99. */
  medianP99Ms: { without: number | null; with: number | null };
  /** median(p99 with) / median(p99 without): the goal's figure. */
  ratio: number | null;
  /** Min and max of pairRatios: how far one pair of windows can be from another. */
  spread: { min: number; max: number } | null;
  /** Medians over the windows of each kind, per worker process: does the import reach the sync worker? */
  eventLoopDelayMs: Record<WorkerRole, { without: Delay; with: Delay }>;
}

/** Time after a window with imports before the next window: syncs that one made late get to start. */
const SETTLE_MS = 10_000;

export async function runFairness(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
  setupTimeoutMs: number,
): Promise<FairnessResult> {
  const count = Math.ceil(opts.fairnessAccounts / opts.accountsPerSandbox);
  log(
    `fairness: ${opts.fairnessAccounts} accounts at ${opts.fairnessInterval} s, ${opts.fairnessWindows} pairs of ` +
      `${opts.fairnessSeconds} s windows without / with imports of ${opts.fairnessInvoices.toLocaleString('en-US')} invoices`,
  );
  const host = await startSandboxHost(
    Array.from({ length: count }, (_, i) => ({
      seed: opts.seed + 1000 + i,
      invoices: opts.invoicesPerAccount,
    })),
  );
  cleanup.add('fairness sandbox host', () => host.stop());
  const importer = await startImportSandbox(opts, cleanup);
  await checkpoint();
  const databaseUrl = await createDatabase('fairness');
  cleanup.add('fairness database', () => dropDatabase(databaseUrl));
  const fleet = await startFleet({
    databaseUrl,
    temporal,
    sandboxHost: host,
    accounts: opts.fairnessAccounts,
    accountsPerSandbox: opts.accountsPerSandbox,
    intervalSeconds: opts.fairnessInterval,
    setupTimeoutMs,
    onboarding: 'sync',
    label: 'fair',
  });
  try {
    const windows = await alternatingWindows(fleet, importer, databaseUrl);
    const { all } = await fleet.histories();
    return fairnessOf(all, fleet, importer, windows);
  } finally {
    await importer.terminate(fleet);
    await fleet.stop();
    await importer.host.stop();
    await host.stop();
  }
}

/** The sandbox the imports read, in a process of its own; every import is a new account on it. */
export interface ImportSandbox {
  host: Awaited<ReturnType<typeof startSandboxHost>>;
  sb: HostedSandbox;
  invoices: number;
  /** Window pairs and the least length of a window (s). */
  pairs: number;
  windowSeconds: number;
  /** The accounts added so far (one per import). */
  accountIds: string[];
  terminate(fleet: Fleet): Promise<void>;
}

export async function startImportSandbox(opts: BenchOptions, cleanup: Cleanup): Promise<ImportSandbox> {
  const host = await startSandboxHost([{ seed: opts.seed + 2000, invoices: opts.fairnessInvoices }]);
  cleanup.add('fairness import sandbox host', () => host.stop());
  const sb = host.sandboxes[0];
  if (!sb) throw new Error('no import sandbox');
  const accountIds: string[] = [];
  return {
    host,
    sb,
    invoices: sb.invoices,
    pairs: opts.fairnessWindows,
    windowSeconds: opts.fairnessSeconds,
    accountIds,
    terminate: async (fleet) => {
      await Promise.all(
        accountIds.map((id) =>
          fleet.ops.temporal.workflow
            .getHandle(accountSyncWorkflowId(id))
            .terminate('bench done')
            .catch(() => undefined),
        ),
      );
    },
  };
}

/** A window during imports: one after the other until the window has lasted `windowSeconds`. */
async function importWindow(
  fleet: Fleet,
  importer: ImportSandbox,
  databaseUrl: string,
  pair: number,
): Promise<WindowSample & { imports: number }> {
  const w = await FleetWindow.open(fleet);
  const until = w.t0 + importer.windowSeconds * 1000;
  let imports = 0;
  do {
    const accountId = `bench-fair-import-${pair}-${imports + 1}`;
    importer.accountIds.push(accountId);
    await addInterface(fleet.ops, {
      accountId,
      token: importer.sb.token,
      baseUrl: importer.sb.url,
      intervalSeconds: 3600,
    });
    const importId = await importWorkflowOf(fleet.ops, accountId);
    await withTimeout(
      fleet.ops.temporal.workflow.getHandle(importId).result(),
      Math.max(300_000, (importer.invoices / 200) * 1000),
      'the fairness import',
    );
    imports += 1;
  } while (Date.now() < until);
  return { ...(await w.close(databaseUrl)), imports };
}

/**
 * Window pairs on the fleet: without an import, then during imports, `importer.pairs` times. `first`: a
 * window already measured on the fleet that stands for the first "without" (the steady window).
 */
export async function alternatingWindows(
  fleet: Fleet,
  importer: ImportSandbox,
  databaseUrl: string,
  first?: WindowSample,
): Promise<(WindowSample & { kind: 'without' | 'with'; imports: number })[]> {
  const out: (WindowSample & { kind: 'without' | 'with'; imports: number })[] = [];
  for (let pair = 1; pair <= importer.pairs; pair++) {
    if (pair === 1 && first) out.push({ ...first, kind: 'without', imports: 0 });
    else {
      log(
        `fairness: window pair ${pair} of ${importer.pairs}, ${importer.windowSeconds} s without an import`,
      );
      const w = await FleetWindow.open(fleet);
      await sleep(importer.windowSeconds * 1000);
      out.push({ ...(await w.close(databaseUrl)), kind: 'without', imports: 0 });
    }
    log(`fairness: window pair ${pair}, imports back to back for at least ${importer.windowSeconds} s`);
    const w = await importWindow(fleet, importer, databaseUrl, pair);
    const seconds = (w.t1 - w.t0) / 1000;
    log(
      `fairness: ${w.imports} import(s) in ${seconds.toFixed(1)} s (${Math.round((w.imports * importer.invoices) / seconds)} invoices/s)`,
    );
    out.push({ ...w, kind: 'with' });
    await sleep(SETTLE_MS);
  }
  return out;
}

const workerIn = (w: WindowSample, role: WorkerRole): WorkerInWindow =>
  role === 'sync'
    ? {
        cpuCores: w.cpu.cores[SYNC_WORKER] ?? 0,
        maxRssBytes: w.rss.maxBytes,
        ...mainThread(w),
      }
    : {
        cpuCores: w.cpu.cores[IMPORT_WORKER] ?? 0,
        maxRssBytes: w.importWorker.rss.maxBytes,
        ...mainThread(w.importWorker),
      };

const medianOrNull = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
};

/** Start lateness of the fleet's due syncs per window, from one read of the histories after the last. */
export function fairnessOf(
  all: Run[][],
  fleet: Fleet,
  importer: ImportSandbox,
  samples: (WindowSample & { kind: 'without' | 'with'; imports: number })[],
): FairnessResult {
  const intervalMs = fleet.intervalSeconds * 1000;
  let pair = 0;
  const windows = samples.map((w): FairnessWindow => {
    if (w.kind === 'without') pair += 1;
    const due = dueSyncs(all, intervalMs, w.t0, w.t1);
    const seconds = (w.t1 - w.t0) / 1000;
    return {
      kind: w.kind,
      pair,
      windowSeconds: seconds,
      due: due.due,
      missed: due.missed,
      startLatenessMs: summary(due.late),
      workers: { sync: workerIn(w, 'sync'), imports: workerIn(w, 'imports') },
      idleInTransaction: idleInTransaction(w.database),
      cpu: w.cpu,
      imports:
        w.kind === 'with'
          ? {
              count: w.imports,
              invoices: w.imports * importer.invoices,
              invoicesPerSecond: (w.imports * importer.invoices) / seconds,
            }
          : null,
    };
  });
  const of = (kind: 'without' | 'with') => windows.filter((w) => w.kind === kind);
  const pairRatios = of('with').map((w) => {
    const p0 = of('without').find((x) => x.pair === w.pair)?.startLatenessMs.p99 ?? null;
    const p1 = w.startLatenessMs.p99;
    return p0 === null || p1 === null ? null : p1 / Math.max(1, p0);
  });
  const medianP99Ms = {
    without: medianOrNull(of('without').map((w) => w.startLatenessMs.p99)),
    with: medianOrNull(of('with').map((w) => w.startLatenessMs.p99)),
  };
  const known = pairRatios.filter((r): r is number => r !== null);
  const delay = (role: WorkerRole, kind: 'without' | 'with'): Delay => ({
    p99: medianOrNull(of(kind).map((w) => w.workers[role].eventLoopDelayMs.p99)),
    max: medianOrNull(of(kind).map((w) => w.workers[role].eventLoopDelayMs.max)),
  });
  return {
    accounts: fleet.accountIds.length,
    intervalSeconds: fleet.intervalSeconds,
    invoices: importer.invoices,
    setupSeconds: fleet.setup.seconds,
    windows,
    pairRatios,
    medianP99Ms,
    ratio:
      medianP99Ms.without === null || medianP99Ms.with === null
        ? null
        : medianP99Ms.with / Math.max(1, medianP99Ms.without),
    spread: known.length === 0 ? null : { min: Math.min(...known), max: Math.max(...known) },
    eventLoopDelayMs: {
      sync: { without: delay('sync', 'without'), with: delay('sync', 'with') },
      imports: { without: delay('imports', 'without'), with: delay('imports', 'with') },
    },
  };
}
