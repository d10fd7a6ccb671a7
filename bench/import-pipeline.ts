import { randomBytes } from 'node:crypto';
import type { ImportStats } from '../src/activities/bulk-import';
import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import type { AppDeps } from '../src/app';
import { addInterface, connectApp } from '../src/app';
import { accountSyncWorkflowId } from '../src/shared';
import { statusQuery } from '../src/workflows';
import type { ProfileSummary } from './cpu-profile';
import { summariseProfiles } from './cpu-profile';
import type { ActivityTiming, Run } from './histories';
import { activityTimings, mean, runsOf, sum } from './histories';
import type { WorkerProcess, WorkerRole } from './deployment';
import { startDeployment } from './deployment';
import type { Child } from './infra';
import type { HostedSandbox } from './sandbox-host';
import { benchConfig, sleep, withTimeout } from './infra';
import { postgresPidsOf } from './pg-activity';
import type { CpuShare } from './proc-stats';
import { RssSampler, cpuBetween, readProc, snapshotCpu } from './proc-stats';

export interface PipelineResult {
  /** First event of the import's first run to the last event of its last run (server clock). */
  seconds: number;
  invoicesPerSecond: number;
  /** addInterface() until the import's result arrived (client clock; includes the token check and start-up). */
  wallSeconds: number;
  runs: number;
  historyEvents: number;
  eventsPer1000Invoices: number;
  pages: number;
  stats: ImportStats;
  rows: number;
  /**
   * The deployment's two worker processes (bench/deployment.ts): the import worker runs the walk's
   * activities (the pages), the sync worker the import's workflow tasks.
   */
  workers: Record<WorkerRole, PipelineWorker>;
  /** First and last history event of the import (server clock, ms): the span `seconds` measures. */
  spanMs: { from: number; to: number };
  /** Per process: 'worker (sync)', 'worker (imports)', temporal, sandbox, postgres, bench. */
  cpu: CpuShare;
  /** Per page, ms, from the histories (importPages: the call's times over the pages it walked). */
  perPage: {
    scheduleToStartMs: number | null;
    startToCloseMs: number | null;
    /** ActivityTaskCompleted to the next ActivityTaskScheduled in the same run: one workflow task round trip. */
    workflowTaskGapMs: number | null;
  };
  /** Execution of every importPage (or importPages call) in order, ms. */
  pageMs: number[];
  /** The import worker's CPU profile over the import (--cpu-profile), per thread. */
  cpuProfile?: ProfileSummary[];
  /** The sync worker's, over the same time (the import's workflow tasks). */
  syncCpuProfile?: ProfileSummary[];
  /** Time of the whole import by where it went, seconds. */
  split: {
    beginImport: number;
    importPageExecution: number;
    importPageQueue: number;
    workflowTaskGaps: number;
    continueAsNewGaps: number;
    finishImport: number;
    other: number;
  };
}

export interface PipelineWorker {
  /** Max of RSS sampled every 250 ms during the import. */
  importPeakRssBytes: number;
  importAvgRssBytes: number;
  /** VmHWM: the peak of the whole process life, workflow bundling at start-up included. */
  lifePeakRssBytes: number;
  /** Spawn until it polls (both start side by side). */
  startupSeconds: number;
}

/** The activities that walk the pages: one importPage per page, or importPages walking many pages per call. */
const PAGE_ACTIVITIES = new Set(['importPage', 'importPages']);
const pagesOf = (acts: ActivityTiming[]) => acts.filter((a) => PAGE_ACTIVITIES.has(a.type));

/**
 * Pages the import walked: one per importPage; importPages reports its pages only in its result payload,
 * so with it the page count is the invoices over the page size (a walk without re-reads).
 */
export function pageCount(acts: ActivityTiming[], invoices: number): number {
  const pages = pagesOf(acts);
  return pages.some((a) => a.type === 'importPages')
    ? Math.max(1, Math.ceil(invoices / IMPORT_PAGE_SIZE))
    : pages.length;
}

function split(runs: Run[], acts: ActivityTiming[], seconds: number): PipelineResult['split'] {
  const exec = (a: ActivityTiming) => ((a.completedMs ?? 0) - (a.startedMs ?? a.scheduledMs)) / 1000;
  const queue = (a: ActivityTiming) => ((a.startedMs ?? a.scheduledMs) - a.scheduledMs) / 1000;
  const byType = (t: string) => acts.filter((a) => a.type === t);
  let wft = 0;
  let can = 0;
  for (let i = 1; i < acts.length; i++) {
    const prev = acts[i - 1] as ActivityTiming;
    const cur = acts[i] as ActivityTiming;
    const gap = (cur.scheduledMs - (prev.completedMs ?? cur.scheduledMs)) / 1000;
    if (cur.run === prev.run) wft += gap;
    else can += gap;
  }
  const first = acts[0];
  const last = acts[acts.length - 1];
  const lead = first ? (first.scheduledMs - (runs[0]?.startMs ?? first.scheduledMs)) / 1000 : 0;
  const tail = last ? ((runs[runs.length - 1]?.endMs ?? 0) - (last.completedMs ?? 0)) / 1000 : 0;
  const parts = {
    beginImport: sum(byType('beginImport').map((a) => exec(a) + queue(a))),
    importPageExecution: sum(pagesOf(acts).map(exec)),
    importPageQueue: sum(pagesOf(acts).map(queue)),
    workflowTaskGaps: wft + lead + tail,
    continueAsNewGaps: can,
    finishImport: sum(byType('finishImport').map((a) => exec(a) + queue(a))),
  };
  return { ...parts, other: seconds - sum(Object.values(parts)) };
}

/** runPipeline's view of the sandbox it imports from (its process, for CPU; its URL, token and size). */
export const pipelineSource = (host: { pid: number }, sb: HostedSandbox) => ({
  sandboxPid: host.pid,
  baseUrl: sb.url,
  token: sb.token,
  invoices: sb.invoices,
});

/** The workflow id of the bulk import the account's workflow started (addInterface's first act). */
export async function importWorkflowOf(ops: AppDeps, accountId: string, timeoutMs = 60_000): Promise<string> {
  const parent = ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
  const t0 = Date.now();
  for (;;) {
    const id = (await parent.query(statusQuery).catch(() => undefined))?.import?.workflowId;
    // The status may name the child before the server has started it: wait until it exists.
    if (
      id &&
      (await ops.temporal.workflow
        .getHandle(id)
        .describe()
        .then(
          () => true,
          () => false,
        ))
    )
      return id;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`the bulk import did not start within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(50);
  }
}

/**
 * The real pipeline: addInterface starts the account workflow, whose first act is the bulk import child; the
 * deployment's two worker processes run it (the import worker its pages, the sync worker its workflow tasks).
 */
export async function runPipeline(opts: {
  databaseUrl: string;
  temporal: Child & { address: string };
  sandboxPid: number;
  baseUrl: string;
  token: string;
  accountId: string;
  invoices: number;
  timeoutMs: number;
  /** When set, both workers run under --cpu-prof (into `<dir>/sync`, `<dir>/imports`); the result summarises them. */
  cpuProfileDir?: string | undefined;
  /** Run the workers with this prebuilt workflow bundle (bench/worker-process.ts) instead of `sevsync worker`. */
  prebuiltBundle?: string;
  /** More environment for both worker processes (e.g. SEVSYNC_IMPORT_WINDOW); undefined unsets. */
  workerEnv?: Record<string, string | undefined>;
}): Promise<PipelineResult> {
  const config = benchConfig({
    databaseUrl: opts.databaseUrl,
    temporalAddress: opts.temporal.address,
    taskQueue: `bench-import-${randomBytes(3).toString('hex')}`,
  });
  const workerStarted = Date.now();
  const deployment = await startDeployment(config, {
    cpuProfileDir: opts.cpuProfileDir,
    ...(opts.prebuiltBundle ? { prebuiltBundle: opts.prebuiltBundle } : {}),
    ...(opts.workerEnv ? { env: opts.workerEnv } : {}),
  });
  const startupSeconds = (Date.now() - workerStarted) / 1000;
  const ops = await connectApp(config);
  let result: PipelineResult;
  let window: { fromWallMs: number; toWallMs: number } | undefined;
  try {
    const pids = { ...deployment.pids, temporal: opts.temporal.pid, sandbox: opts.sandboxPid };
    const rss = {
      sync: new RssSampler(deployment.sync.child.pid),
      imports: new RssSampler(deployment.imports.child.pid),
    };
    const cpu0 = snapshotCpu(pids);
    const t0 = Date.now();
    await addInterface(ops, {
      accountId: opts.accountId,
      token: opts.token,
      baseUrl: opts.baseUrl,
      intervalSeconds: 3600,
    });
    const parent = ops.temporal.workflow.getHandle(accountSyncWorkflowId(opts.accountId));
    const importWorkflowId = await importWorkflowOf(ops, opts.accountId);
    const finished = ops.temporal.workflow.getHandle(importWorkflowId).result() as Promise<ImportStats>;
    const stats = await withTimeout(finished, opts.timeoutMs, 'the bulk import');
    const tEnd = Date.now();
    const wallSeconds = (tEnd - t0) / 1000;
    window = { fromWallMs: t0, toWallMs: tEnd };
    const cpu = cpuBetween(cpu0, snapshotCpu(pids), await postgresPidsOf(opts.databaseUrl));
    const workerFigures = (role: WorkerRole): PipelineWorker => {
      const sampled = rss[role].stop();
      return {
        importPeakRssBytes: sampled.maxBytes,
        importAvgRssBytes: sampled.avgBytes,
        lifePeakRssBytes: readProc(deployment[role].child.pid)?.peakRssBytes ?? 0,
        startupSeconds,
      };
    };
    const workers = { sync: workerFigures('sync'), imports: workerFigures('imports') };

    const runs = await runsOf(ops.temporal, importWorkflowId);
    const acts = activityTimings(runs);
    const seconds = ((runs[runs.length - 1]?.endMs ?? 0) - (runs[0]?.startMs ?? 0)) / 1000;
    const historyEvents = sum(runs.map((r) => r.events.length));
    const pages = pagesOf(acts);
    const nPages = pageCount(acts, opts.invoices);
    const gaps: number[] = [];
    for (let i = 1; i < acts.length; i++) {
      const prev = acts[i - 1] as ActivityTiming;
      const cur = acts[i] as ActivityTiming;
      if (cur.run === prev.run && prev.completedMs !== null) gaps.push(cur.scheduledMs - prev.completedMs);
    }
    const perPage = (xs: number[]) =>
      xs.length === 0 ? null : nPages === pages.length ? mean(xs) : sum(xs) / nPages;
    const [row] = await ops.db.sql<{ n: number }[]>`
      select count(*)::int as n from invoices where account_id = ${opts.accountId}`;
    await parent.terminate('bench done').catch(() => undefined);
    result = {
      seconds,
      invoicesPerSecond: opts.invoices / seconds,
      wallSeconds,
      runs: runs.length,
      historyEvents,
      eventsPer1000Invoices: historyEvents / (opts.invoices / 1000),
      pages: nPages,
      stats,
      rows: row?.n ?? 0,
      workers,
      spanMs: { from: runs[0]?.startMs ?? 0, to: runs[runs.length - 1]?.endMs ?? 0 },
      cpu,
      // Per page: with importPages one call covers many pages, so its times are spread over them.
      perPage: {
        scheduleToStartMs: perPage(pages.map((a) => (a.startedMs ?? a.scheduledMs) - a.scheduledMs)),
        startToCloseMs: perPage(pages.map((a) => (a.completedMs ?? 0) - (a.startedMs ?? a.scheduledMs))),
        workflowTaskGapMs: perPage(gaps),
      },
      split: split(runs, acts, seconds),
      pageMs: pages.map((a) => Math.round((a.completedMs ?? 0) - (a.startedMs ?? a.scheduledMs))),
    };
  } finally {
    await ops.close();
    await deployment.stop();
  }
  const profile = (w: WorkerProcess) => {
    const exitWallMs = w.child.exitedAt();
    return w.cpuProfileDir && window && exitWallMs !== null
      ? summariseProfiles(w.cpuProfileDir, 12, { ...window, exitWallMs })
      : undefined;
  };
  const imports = profile(deployment.imports);
  const sync = profile(deployment.sync);
  if (imports) result.cpuProfile = imports;
  if (sync) result.syncCpuProfile = sync;
  return result;
}
