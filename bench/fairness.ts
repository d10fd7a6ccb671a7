import { addInterface } from '../src/app';
import { accountSyncWorkflowId } from '../src/shared';
import { importWorkflowOf } from './import-pipeline';
import type { Cleanup, startTemporal } from './infra';
import { checkpoint, createDatabase, dropDatabase, log, sleep, startSandboxHost, withTimeout } from './infra';
import type { BenchOptions } from './options';
import type { CpuShare } from './proc-stats';
import type { Run } from './histories';
import type { HostedSandbox } from './sandbox-host';
import type { Fleet, WindowSample } from './steady-state';
import type { IdleInTransaction } from './pg-activity';
import { idleInTransaction } from './pg-activity';
import { FleetWindow, dueSyncs, mainThread, startFleet, summary } from './steady-state';

// Fairness: steady-state accounts on one worker, their start lateness over a window without an import, then
// over the time one more account's bulk import runs on the same worker. The import's sandbox is in a process
// of its own, so that serving its pages does not slow the other accounts' sandboxes (as on the real sevDesk,
// where each company is served apart).

export interface FairnessWindow {
  windowSeconds: number;
  due: number;
  missed: number;
  startLatenessMs: { p50: number | null; p99: number | null; max: number | null };
  workerCpuCores: number;
  workerMaxRssBytes: number;
  /** The worker's GC time by kind and event loop delay in the window (see SteadyResult.worker). */
  gcSeconds: Record<string, number> | null;
  eventLoopDelayMs: { p99: number | null; max: number | null };
  idleInTransaction: IdleInTransaction;
  cpu: CpuShare;
}

export interface FairnessResult {
  accounts: number;
  intervalSeconds: number;
  invoices: number;
  setupSeconds: number;
  without: FairnessWindow;
  withImport: FairnessWindow & { importSeconds: number; importInvoicesPerSecond: number };
  /** withImport p99 / without p99. */
  ratio: number | null;
}

/** Time after the last window before the histories are read: syncs due late in it get to start. */
const SETTLE_MS = 10_000;

export async function runFairness(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
  setupTimeoutMs: number,
): Promise<FairnessResult> {
  const count = Math.ceil(opts.fairnessAccounts / opts.accountsPerSandbox);
  log(
    `fairness: ${opts.fairnessAccounts} accounts at ${opts.fairnessInterval} s, then one import of ` +
      `${opts.fairnessInvoices.toLocaleString('en-US')} invoices`,
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
    log(`fairness: ${opts.fairnessSeconds} s without an import`);
    const a = await FleetWindow.open(fleet);
    await sleep(opts.fairnessSeconds * 1000);
    const without = await a.close(databaseUrl);
    const withImport = await importWindow(fleet, importer, databaseUrl);
    await sleep(SETTLE_MS);
    const { all } = await fleet.histories();
    return fairnessOf(all, fleet, importer, without, withImport);
  } finally {
    await importer.terminate(fleet);
    await fleet.stop();
    await importer.host.stop();
    await host.stop();
  }
}

/** The sandbox of the account that imports, in a process of its own. */
export interface ImportSandbox {
  host: Awaited<ReturnType<typeof startSandboxHost>>;
  sb: HostedSandbox;
  accountId: string;
  invoices: number;
  terminate(fleet: Fleet): Promise<void>;
}

export async function startImportSandbox(opts: BenchOptions, cleanup: Cleanup): Promise<ImportSandbox> {
  const host = await startSandboxHost([{ seed: opts.seed + 2000, invoices: opts.fairnessInvoices }]);
  cleanup.add('fairness import sandbox host', () => host.stop());
  const sb = host.sandboxes[0];
  if (!sb) throw new Error('no import sandbox');
  const accountId = 'bench-fair-import';
  return {
    host,
    sb,
    accountId,
    invoices: sb.invoices,
    terminate: (fleet) =>
      fleet.ops.temporal.workflow
        .getHandle(accountSyncWorkflowId(accountId))
        .terminate('bench done')
        .then(() => undefined)
        .catch(() => undefined),
  };
}

/** A window over the time one more account's bulk import runs on the fleet's worker. */
export async function importWindow(
  fleet: Fleet,
  importer: ImportSandbox,
  databaseUrl: string,
): Promise<WindowSample> {
  log('fairness: the same while one account imports');
  const b = await FleetWindow.open(fleet);
  await addInterface(fleet.ops, {
    accountId: importer.accountId,
    token: importer.sb.token,
    baseUrl: importer.sb.url,
    intervalSeconds: 3600,
  });
  const importId = await importWorkflowOf(fleet.ops, importer.accountId);
  await withTimeout(
    fleet.ops.temporal.workflow.getHandle(importId).result(),
    Math.max(300_000, (importer.invoices / 200) * 1000),
    'the fairness import',
  );
  const w = await b.close(databaseUrl);
  const seconds = (w.t1 - w.t0) / 1000;
  log(
    `fairness: the import took ${seconds.toFixed(1)} s (${Math.round(importer.invoices / seconds)} invoices/s)`,
  );
  return w;
}

/** Start lateness of the fleet's due syncs without and during the import, from one read of the histories. */
export function fairnessOf(
  all: Run[][],
  fleet: Fleet,
  importer: ImportSandbox,
  without: WindowSample,
  withImport: WindowSample,
): FairnessResult {
  const intervalMs = fleet.intervalSeconds * 1000;
  const windowOf = (w: WindowSample): FairnessWindow => {
    const due = dueSyncs(all, intervalMs, w.t0, w.t1);
    return {
      windowSeconds: (w.t1 - w.t0) / 1000,
      due: due.due,
      missed: due.missed,
      startLatenessMs: summary(due.late),
      workerCpuCores: w.cpu.cores.worker ?? 0,
      workerMaxRssBytes: w.rss.maxBytes,
      ...mainThread(w),
      idleInTransaction: idleInTransaction(w.database),
      cpu: w.cpu,
    };
  };
  const r0 = windowOf(without);
  const r1 = windowOf(withImport);
  const p0 = r0.startLatenessMs.p99;
  const p1 = r1.startLatenessMs.p99;
  const importSeconds = (withImport.t1 - withImport.t0) / 1000;
  return {
    accounts: fleet.accountIds.length,
    intervalSeconds: fleet.intervalSeconds,
    invoices: importer.invoices,
    setupSeconds: fleet.setup.seconds,
    without: r0,
    withImport: { ...r1, importSeconds, importInvoicesPerSecond: importer.invoices / importSeconds },
    ratio: p0 === null || p1 === null ? null : p1 / Math.max(1, p0),
  };
}
