import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import type { ProfileSummary } from './cpu-profile';
import type { BaselineProcessResult, LoopVariant } from './import-baseline';
import type { FloorResult } from './import-floor';
import type { PipelineResult } from './import-pipeline';
import type { FetchProfile } from './profile-fetch';
import type { CpuShare } from './proc-stats';
import type { SteadyResult } from './steady-state';
import type { FairnessResult } from './fairness';
import type { IdleInTransaction } from './pg-activity';
import { LONG_IDLE_MS } from './pg-activity';
import type { LatencyProfileResult } from './import-latency';
import type { EventsSection } from './events';
import { cpuLine, delayCell, gcCell, idleCell, mb, meanOf, n0, n1, n2, table } from './format';
import { IMPORT_WORKER, SYNC_WORKER } from './deployment';
import { cycleCostLines, fairnessLines, overlapLines, pageCpuLines } from './report-deployment';

/** A due sync that starts later than this counts as the worker falling behind. */
const LATE_MS = 5_000;

export const GOALS = {
  pipelineInvoicesPerSecond: 10_000,
  pipelineToBaseline: 0.8,
  pipelineToFloor: 0.5,
  eventsPer1000Invoices: 8,
  windowedToOnePage: 3,
  steadyAccounts: 10_000,
  steadyIntervalSeconds: 300,
  startLatenessP99Ms: 1_000,
  workerRssBytes: 2 ** 30,
  requestsPerIdleCycle: 2,
  /**
   * "Close to 0": on average at most this many connections idle in a transaction for longer than
   * LONG_IDLE_MS (a transaction across a sevDesk call, which takes >= 250 ms under the latency profile).
   */
  longIdleInTransactionConnections: 0.02,
  fairnessRatio: 1.2,
  /** Import invoices/s with the change feed / without it. */
  feedImportRatio: 0.9,
  /** Events bytes per 1,000 idle account-days: accounts without changes add nothing to the feed. */
  idleFeedBytes: 0,
  /** Webhook events delivered per second to a local receiver, one account. */
  webhookEventsPerSecond: 2_000,
  /** sevDesk change to webhook received, p95: at most the account's sync interval plus this many seconds. */
  webhookLagSlackSeconds: 2,
} as const;

export interface Goal {
  name: string;
  target: string;
  value: number | null;
  pass: boolean | null;
  /** A figure reported with the goals that has no target: shown as "measured", never PASS or MISS. */
  report?: true;
}

export interface Experiment {
  name: string;
  /** A variant of the plain loop, or of the pipeline's worker. */
  kind: 'loop' | 'pipeline';
  /** The unchanged code, run before and after the variants as the reference. */
  control: boolean;
  variant: LoopVariant | { prebuiltBundle: boolean };
  seconds: number;
  invoicesPerSecond: number;
  /** Against the mean of the control runs of the same kind. */
  vsReference: number;
  fetchWaitMsMean: number | null;
  analyzeMsTotal: number | null;
  workerPeakRssBytes: number | null;
  rows: number;
  otherLoadCores: number;
}

export interface ImportSection {
  invoices: number;
  pipeline: PipelineResult;
  baseline: BaselineProcessResult;
  floor: FloorResult & { includes: string };
  fetchProfile: FetchProfile;
  experiments: Experiment[];
  /** Every timed run of 1 and 2, in the order they ran alternately; the details above are from the first. */
  rounds: {
    pipeline: { invoicesPerSecond: number; seconds: number; otherLoadCores: number }[];
    baseline: { invoicesPerSecond: number; seconds: number; otherLoadCores: number }[];
  };
  /** Means over the rounds: what the goals and the ratios use. */
  throughput: { pipeline: number; baseline: number };
  ratios: { pipelineToBaseline: number; baselineToFloor: number };
}

const goal = (
  name: string,
  target: string,
  value: number | null | undefined,
  pass: (v: number) => boolean,
): Goal => ({
  name,
  target,
  value: value ?? null,
  pass: value === undefined || value === null ? null : pass(value),
});

export function importGoals(s: ImportSection | undefined): Goal[] {
  return [
    goal(
      'pipeline invoices/s',
      `>= ${GOALS.pipelineInvoicesPerSecond}`,
      s?.throughput.pipeline,
      (v) => v >= GOALS.pipelineInvoicesPerSecond,
    ),
    goal(
      'pipeline / baseline',
      `>= ${GOALS.pipelineToBaseline}`,
      s?.ratios.pipelineToBaseline,
      (v) => v >= GOALS.pipelineToBaseline,
    ),
    goal(
      'pipeline / floor',
      `>= ${GOALS.pipelineToFloor}`,
      s && s.throughput.pipeline / s.floor.invoicesPerSecond,
      (v) => v >= GOALS.pipelineToFloor,
    ),
    goal(
      'history events per 1,000 invoices',
      `<= ${GOALS.eventsPer1000Invoices}`,
      s?.pipeline.eventsPer1000Invoices,
      (v) => v <= GOALS.eventsPer1000Invoices,
    ),
  ];
}

export function eventsGoals(e: EventsSection | undefined): Goal[] {
  const complete = e ? e.checks.length > 0 && e.checks.every((c) => c.ok) : false;
  return [
    goal(
      'change feed: import invoices/s with / without the feed',
      `>= ${GOALS.feedImportRatio}, feed complete`,
      e?.ratio,
      (v) => complete && v >= GOALS.feedImportRatio,
    ),
    goal(
      'change feed: events bytes per 1,000 idle account-days',
      `${GOALS.idleFeedBytes}`,
      e?.idle?.bytesPer1000AccountDays,
      (v) => v <= GOALS.idleFeedBytes,
    ),
    goal(
      'change feed: webhook delivery events/s',
      `>= ${GOALS.webhookEventsPerSecond}, all delivered`,
      e?.webhooks?.eventsPerSecond,
      (v) => (e?.webhooks?.ok ?? false) && v >= GOALS.webhookEventsPerSecond,
    ),
    webhookLagGoal(e?.webhookLag ?? undefined),
  ];
}

export const WEBHOOK_LAG_GOAL = 'change feed: sevDesk change to webhook received p95 (s)';

/** p95 <= interval + slack, every sample received and verified; a run where none arrived is a MISS too. */
function webhookLagGoal(lag: EventsSection['webhookLag'] | undefined): Goal {
  const target = `<= interval + ${GOALS.webhookLagSlackSeconds}`;
  if (!lag) return goal(WEBHOOK_LAG_GOAL, target, undefined, () => false);
  const max = lag.intervalSeconds + GOALS.webhookLagSlackSeconds;
  const p95 = lag.lagSeconds.p95;
  return {
    name: WEBHOOK_LAG_GOAL,
    target: `${target} (${max})`,
    value: p95,
    pass: lag.ok && p95 !== null && p95 <= max,
  };
}

export const FAIRNESS_GOAL = 'fairness: start lateness p99 during imports / without (medians)';
export const CYCLE_COST_GOAL = 'steady: CPU ms per idle account-cycle (workers, Temporal, PostgreSQL)';

/** The phases that sampled "idle in transaction", with a figure. */
function idlePhases(
  latency: LatencyProfileResult | undefined,
  steady: SteadyResult | undefined,
  fairness: FairnessResult | undefined,
): { phase: string; idle: IdleInTransaction }[] {
  const all: [string, IdleInTransaction | undefined][] = [
    ['steady window', steady?.idleInTransaction],
    ['latency import, one page', latency?.onePage.idleInTransaction],
    ['latency import, windowed', latency?.windowed.idleInTransaction],
    ...(fairness?.windows ?? []).map((w): [string, IdleInTransaction] => [
      `fairness ${w.kind === 'with' ? 'during imports' : 'without import'}, pair ${w.pair}`,
      w.idleInTransaction,
    ]),
  ];
  return all.flatMap(([phase, idle]) =>
    idle && typeof idle.longConnections === 'number' ? [{ phase, idle }] : [],
  );
}

/** Every goal of the issue, PASS/MISS (pass null: not measured in this run). */
export function allGoals(
  imp: ImportSection | undefined,
  latency: LatencyProfileResult | undefined,
  steady: SteadyResult | undefined,
  fairness: FairnessResult | undefined,
  events?: EventsSection | undefined,
): Goal[] {
  const idle = idlePhases(latency, steady, fairness).map((x) => x.idle.longConnections as number);
  const atScale =
    steady && steady.intervalSeconds <= GOALS.steadyIntervalSeconds ? steady.accounts : undefined;
  return [
    ...importGoals(imp),
    goal(
      'latency profile: windowed / one page at a time',
      `>= ${GOALS.windowedToOnePage}`,
      latency?.ratio,
      (v) => v >= GOALS.windowedToOnePage,
    ),
    goal(
      `steady: accounts on one worker at <= ${GOALS.steadyIntervalSeconds} s`,
      `>= ${GOALS.steadyAccounts.toLocaleString('en-US')}`,
      steady ? (atScale ?? 0) : undefined,
      (v) => v >= GOALS.steadyAccounts,
    ),
    goal(
      'steady: due sync start lateness p99 (ms)',
      `< ${GOALS.startLatenessP99Ms}`,
      steady?.syncs.startLatenessMs.p99,
      (v) => v < GOALS.startLatenessP99Ms,
    ),
    goal(
      'steady: sync worker max RSS (MiB)',
      `< ${GOALS.workerRssBytes / 2 ** 20}`,
      steady && steady.worker.maxRssBytes / 2 ** 20,
      (v) => v < GOALS.workerRssBytes / 2 ** 20,
    ),
    goal(
      'steady: sevDesk requests per idle cycle',
      `<= ${GOALS.requestsPerIdleCycle}`,
      steady?.requestsPerIdleCycle,
      (v) => v <= GOALS.requestsPerIdleCycle,
    ),
    goal(
      `connections idle in transaction > ${LONG_IDLE_MS} ms, mean (worst phase)`,
      `<= ${GOALS.longIdleInTransactionConnections}`,
      idle.length > 0 ? Math.max(...idle) : undefined,
      (v) => v <= GOALS.longIdleInTransactionConnections,
    ),
    {
      name: CYCLE_COST_GOAL,
      target: 'report (no target)',
      value: steady?.cycleCost?.totalMs ?? null,
      pass: null,
      report: true,
    },
    goal(
      FAIRNESS_GOAL,
      `<= ${GOALS.fairnessRatio}, medians over the pairs`,
      fairness?.ratio,
      (v) => v <= GOALS.fairnessRatio,
    ),
    ...eventsGoals(events),
  ];
}

const verdict = (g: Goal | undefined) => (!g || g.pass === null ? '' : g.pass ? 'PASS' : 'MISS');

/** CPU used by processes the bench did not start (other work on the machine), in cores. */
export const otherLoad = (c: CpuShare): number =>
  Math.max(0, c.machineBusyCores - Object.values(c.cores).reduce((a, b) => a + b, 0));

/**
 * CPU spent per 1,000-invoice page by each process during a phase, and the throughput the machine's cores
 * could reach with that CPU cost if every process overlapped perfectly (an upper bound, not a forecast).
 * The total leaves out the bench's own process (it only waits for the result and samples).
 */
export function cpuPerPage(cpu: CpuShare, pages: number, cores: number) {
  const perPage = Object.fromEntries(
    Object.entries(cpu.cpuSeconds).map(([k, v]) => [k, (v * 1000) / Math.max(1, pages)]),
  );
  const total = Object.entries(perPage).reduce((a, [k, v]) => (k === 'bench' ? a : a + v), 0);
  return {
    msPerPage: perPage,
    totalMs: total,
    boundInvoicesPerSecond: total > 0 ? (cores * 1e6) / total : null,
  };
}

/** Where the time of one 1,000-invoice page goes, from the measured parts (ms). */
export function pageBreakdown(s: ImportSection) {
  const p = s.pipeline;
  const b = s.baseline;
  const analyzePerPage = b.analyzeMsTotal / b.pages;
  const plainActivity = (b.fetchMsMean ?? 0) + (b.processMsMean ?? 0) + analyzePerPage;
  const sqlInProcess = b.statements
    .filter((st) => !st.label.startsWith('(transaction'))
    .reduce((a, st) => a + st.msPerPage, 0);
  const txn = b.statements.find((st) => st.label.startsWith('(transaction'))?.msPerPage ?? 0;
  const lookup =
    b.statements.find((st) => st.label.startsWith('select source_id from source_contacts'))?.msPerPage ?? 0;
  const f = s.fetchProfile;
  return {
    pipelinePageMs: (p.seconds * 1000) / Math.max(1, p.pages),
    activityMs: p.perPage.startToCloseMs,
    queueMs: p.perPage.scheduleToStartMs,
    workflowTaskGapMs: p.perPage.workflowTaskGapMs,
    continueAsNewMsPerPage: (p.split.continueAsNewGaps * 1000) / Math.max(1, p.pages),
    baselineFetchMs: b.fetchMsMean,
    baselineProcessMs: b.processMsMean,
    analyzeMsPerPage: analyzePerPage,
    /** importPage's execution beyond the plain loop's fetch + process + analyze: checkpoint, interface lookup, contention. */
    activityExtraMs: (p.perPage.startToCloseMs ?? 0) - plainActivity,
    writeTransactionMs: txn,
    contactLookupMs: lookup,
    /** processInvoicePage minus its SQL: classify, toInvoiceRow (sha1, decimals), JSON for the statements. */
    transformMs: (b.processMsMean ?? 0) - txn - lookup,
    sqlStatementsMs: sqlInProcess,
    fetchHttpMs: f.httpMs,
    fetchParseMs: f.parseMs,
    pageBytes: f.bytes,
  };
}

export function render(opts: {
  header: string;
  cores: number;
  imp: ImportSection | undefined;
  latency?: LatencyProfileResult | undefined;
  steady: SteadyResult | undefined;
  fairness?: FairnessResult | undefined;
  events?: EventsSection | undefined;
  goals: Goal[];
  findings: string[];
  resultFile: string;
}): string {
  const out: string[] = ['', opts.header, ''];
  const g = (name: string) => opts.goals.find((x) => x.name === name);
  const s = opts.imp;
  if (s) {
    const p = s.pipeline;
    out.push(
      `Bulk import of ${s.invoices.toLocaleString('en-US')} sandbox invoices (same data for all three)`,
    );
    out.push(
      ...table([
        ['', 'invoices/s', 'seconds', 'goal', ''],
        [
          `1 pipeline (Temporal + sync and import worker processes)${s.rounds.pipeline.length > 1 ? `, mean of ${s.rounds.pipeline.length}` : ''}`,
          n0(s.throughput.pipeline),
          n1(meanOf(s.rounds.pipeline.map((r) => r.seconds))),
          `>= ${n0(GOALS.pipelineInvoicesPerSecond)}`,
          verdict(g('pipeline invoices/s')),
        ],
        [
          `2 baseline (same functions, plain loop)${s.rounds.baseline.length > 1 ? `, mean of ${s.rounds.baseline.length}` : ''}`,
          n0(s.throughput.baseline),
          n1(meanOf(s.rounds.baseline.map((r) => r.seconds))),
          '',
          '',
        ],
        ['3 floor (COPY into the same tables)', n0(s.floor.invoicesPerSecond), n2(s.floor.seconds), '', ''],
        [
          'ratio 1/2',
          n2(s.ratios.pipelineToBaseline),
          '',
          `>= ${GOALS.pipelineToBaseline}`,
          verdict(g('pipeline / baseline')),
        ],
        ['ratio 2/3', n2(s.ratios.baselineToFloor), '', '', ''],
        [
          `history events per 1,000 invoices (${p.historyEvents} in ${p.runs} runs)`,
          n2(p.eventsPer1000Invoices),
          '',
          `<= ${GOALS.eventsPer1000Invoices}`,
          verdict(g('history events per 1,000 invoices')),
        ],
        [
          'worker peak RSS during the import: imports / sync',
          `${mb(p.workers.imports.importPeakRssBytes)} / ${mb(p.workers.sync.importPeakRssBytes)}`,
          '',
          '',
          '',
        ],
        [
          'worker peak RSS of its life (VmHWM, start-up bundling included): imports / sync',
          `${mb(p.workers.imports.lifePeakRssBytes)} / ${mb(p.workers.sync.lifePeakRssBytes)}`,
          '',
          '',
          '',
        ],
        ['baseline process peak RSS during its loop', mb(s.baseline.peakRssBytes), '', '', ''],
      ]),
    );
    const runsOf = (xs: { invoicesPerSecond: number; otherLoadCores: number }[]) =>
      xs.map((r) => `${n0(r.invoicesPerSecond)} (other load ${n2(r.otherLoadCores)})`).join(', ');
    out.push(
      `  runs (alternating P B B P ...): pipeline ${runsOf(s.rounds.pipeline)}; baseline ${runsOf(s.rounds.baseline)}; ` +
        'the rows below are from the first run of each',
    );
    out.push(
      `  rows written: pipeline ${n0(p.rows)}, baseline ${n0(s.baseline.rows)}, floor ${n0(s.floor.rows.invoices)} invoices`,
    );
    out.push(`  CPU (cores) during the pipeline: ${cpuLine(p.cpu)}`);
    out.push(`  CPU (cores) during the baseline: ${cpuLine(s.baseline.cpu)}`);
    const c = cpuPerPage(s.baseline.cpu, s.baseline.pages, opts.cores);
    out.push(
      `  CPU ms per 1,000-invoice page, baseline: ${Object.entries(c.msPerPage)
        .map(([k, v]) => `${k} ${n0(v)}`)
        .join(
          ', ',
        )}; total ${n0(c.totalMs)} -> at most ${n0(c.boundInvoicesPerSecond)} invoices/s on ${opts.cores} cores`,
    );
    out.push(...pageCpuLines(p, opts.cores));
    const bd = pageBreakdown(s);
    out.push('', 'Where the time goes, per 1,000-invoice page (ms, measured)');
    out.push(
      ...table([
        ['pipeline: one page end to end (import span / pages)', n1(bd.pipelinePageMs)],
        ['  importPage(s) execution (ActivityTaskStarted..Completed)', n1(bd.activityMs)],
        ['  activity queue (Scheduled..Started)', n1(bd.queueMs)],
        ['  workflow task between two pages (Completed..next Scheduled)', n1(bd.workflowTaskGapMs)],
        ['  continue-as-new, spread over the pages', n1(bd.continueAsNewMsPerPage)],
        ['baseline: fetch (client.listInvoices)', n1(bd.baselineFetchMs)],
        [`  sandbox HTTP incl. body (${mb(bd.pageBytes)} JSON per page)`, n1(bd.fetchHttpMs)],
        ['  JSON.parse', n1(bd.fetchParseMs)],
        [
          '  zod: the same fields as z.looseObject (unknown keys copied; before)',
          n1(s.fetchProfile.validateLooseMs),
        ],
        [
          '  zod: the Invoice schema over the page (z.object, as shipped)',
          n1(s.fetchProfile.validateStripMs),
        ],
        ['baseline: processInvoicePage', n1(bd.baselineProcessMs)],
        ['  writeInvoicePage transaction (begin..commit)', n1(bd.writeTransactionMs)],
        ['  known-contacts lookup', n1(bd.contactLookupMs)],
        ['  classify + toInvoiceRow + statement JSON (the rest)', n1(bd.transformMs)],
        ['baseline: ANALYZE, spread over the pages', n1(bd.analyzeMsPerPage)],
        [
          'importPage beyond the plain loop (checkpoint, interface, heartbeats, contention)',
          n1(bd.activityExtraMs),
        ],
      ]),
    );
    out.push('  SQL statements of processInvoicePage (ms per page, baseline):');
    for (const st of s.baseline.statements.slice(0, 8))
      out.push(
        `    ${n1(st.msPerPage).padStart(6)}  ${st.label}${st.perPage > 1.05 ? ` (x${n1(st.perPage)})` : ''}`,
      );
    out.push(
      `  import span split (s): ${Object.entries(p.split)
        .map(([k, v]) => `${k} ${n2(v)}`)
        .join(', ')}`,
    );
    const prof = (label: string, list: ProfileSummary[] | undefined) => {
      const main = list?.[0];
      if (!main) return;
      const busy = main.durationMs - main.idleMs;
      out.push(
        `  CPU profile, ${label} main thread over the import: ${n0(busy)} ms busy of ${n0(main.durationMs)} ms; self time by area (ms):`,
      );
      out.push(`    ${main.byArea.map((a) => `${a.area} ${n0(a.ms)}`).join(', ')}`);
    };
    prof('import worker', p.cpuProfile);
    prof('sync worker', p.syncCpuProfile);
    prof('baseline', s.baseline.cpuProfile);
    out.push(`  floor: ${s.floor.includes}`);
    if (s.experiments.length > 0) {
      out.push(
        '',
        'What-if variants (measured; each into a fresh database; x = against the mean of its controls)',
      );
      out.push(
        ...table([
          [
            '',
            'invoices/s',
            'x controls',
            'fetch wait ms/page',
            'ANALYZE s',
            'import worker peak RSS',
            'other load',
          ],
          ...s.experiments.map((e) => [
            `${e.kind === 'loop' ? '2' : '1'} ${e.name}`,
            n0(e.invoicesPerSecond),
            n2(e.vsReference),
            n1(e.fetchWaitMsMean),
            e.analyzeMsTotal === null ? '-' : n1(e.analyzeMsTotal / 1000),
            mb(e.workerPeakRssBytes),
            n2(e.otherLoadCores),
          ]),
        ]),
      );
    }
    out.push(
      `  floor steps (ms): ${Object.entries(s.floor.stepsMs)
        .map(([k, v]) => `${k} ${n0(v)}`)
        .join(', ')}`,
    );
  }
  const lp = opts.latency;
  if (lp) {
    out.push(
      '',
      `Bulk import of ${n0(lp.invoices)} invoices against a sevDesk that takes its time: ${lp.requestMs} ms per request + ${lp.perObjectMs} ms per object`,
    );
    out.push(
      ...table([
        ['', 'invoices/s', 'seconds', `idle in txn / > ${LONG_IDLE_MS} ms`, 'goal', ''],
        [
          'one page at a time (SEVSYNC_IMPORT_WINDOW=1)',
          n0(lp.onePage.invoicesPerSecond),
          n1(lp.onePage.seconds),
          idleCell(lp.onePage.idleInTransaction),
          '',
          '',
        ],
        [
          `windowed (product default, ${lp.windowed.window} pages in flight)`,
          n0(lp.windowed.invoicesPerSecond),
          n1(lp.windowed.seconds),
          idleCell(lp.windowed.idleInTransaction),
          '',
          '',
        ],
        [
          'ratio windowed / one page',
          n2(lp.ratio),
          '',
          '',
          `>= ${GOALS.windowedToOnePage}`,
          verdict(g('latency profile: windowed / one page at a time')),
        ],
      ]),
    );
    out.push(...overlapLines(lp));
    out.push(`  latency profile: ${lp.source}`);
  }
  if (opts.events) out.push(...renderEvents(opts.events, g));
  const st = opts.steady;
  if (st) {
    out.push(
      '',
      `Steady state: ${st.accounts.toLocaleString('en-US')} accounts at a ${st.intervalSeconds} s interval on one sync worker (and the import worker beside it), ${st.sandboxes} sandbox(es), ${n0(st.windowSeconds)} s window`,
    );
    out.push(
      ...table([
        [
          'sync cycles in the window (all, incl. sync-now) / local activity first / handed over',
          `${n0(st.syncs.scheduled)} / ${n0(st.syncs.local)} / ${n0(st.syncs.handedOver)}`,
        ],
        [
          'timer syncs due in the window / missed (not started)',
          `${n0(st.syncs.due)} / ${n0(st.syncs.missed)}`,
        ],
        [
          'due sync start lateness p50 / p99 / max (ms)',
          `${n0(st.syncs.startLatenessMs.p50)} / ${n0(st.syncs.startLatenessMs.p99)} / ${n0(st.syncs.startLatenessMs.max)}`,
        ],
        [
          'sync schedule-to-start p50 / p99 / max (ms, regular activities)',
          `${n0(st.syncs.scheduleToStartMs.p50)} / ${n0(st.syncs.scheduleToStartMs.p99)} / ${n0(st.syncs.scheduleToStartMs.max)}`,
        ],
        [
          'sync cycle start-to-close p50 / p99 (ms)',
          `${n0(st.syncs.startToCloseMs.p50)} / ${n0(st.syncs.startToCloseMs.p99)}`,
        ],
        [
          'workflow task schedule-to-start p50 / p99 (ms)',
          `${n0(st.workflowTaskScheduleToStartMs.p50)} / ${n0(st.workflowTaskScheduleToStartMs.p99)}`,
        ],
        [
          'workflow task start-to-close p50 / p99 (ms, worker side)',
          `${n0(st.workflowTaskStartToCloseMs.p50)} / ${n0(st.workflowTaskStartToCloseMs.p99)}`,
        ],
        [
          'timer fired after due p50 / p99 (ms, server side)',
          `${n0(st.timerLatenessMs.p50)} / ${n0(st.timerLatenessMs.p99)}`,
        ],
        ['sync worker CPU (cores, window average)', n2(st.worker.cpuCores)],
        ['sync worker RSS avg / max', `${mb(st.worker.avgRssBytes)} / ${mb(st.worker.maxRssBytes)}`],
        ['sync worker main thread: event loop delay p99 / max (ms)', delayCell(st.worker.eventLoopDelayMs)],
        ['sync worker garbage collection in the window (s, by kind)', gcCell(st.worker.gcSeconds)],
        [
          'import worker CPU (cores) / RSS max / event loop delay p99 / max (ms)',
          st.importWorker
            ? `${n2(st.importWorker.cpuCores)} / ${mb(st.importWorker.maxRssBytes)} / ${delayCell(st.importWorker.eventLoopDelayMs)}`
            : 'n/a',
        ],
        [
          `sevDesk requests per idle cycle (${n0(st.idleCycles)} cycles of accounts without changes; ` +
            `${n0(st.notIdleAccounts)} more accounts ran a full sync near the window)`,
          n2(st.requestsPerIdleCycle),
        ],
        [
          'database statements per idle cycle (worker: sevsync_db_statements_total)',
          st.statementsPerIdleCycle === null ? 'not counted' : n1(st.statementsPerIdleCycle),
        ],
        ['history events per idle cycle', n1(st.historyEventsPerIdleCycle)],
        [
          'workflow tasks: cached workflow / replayed history (SDK sticky cache hit / miss)',
          `${n0(st.workflowCache?.hits ?? null)} / ${n0(st.workflowCache?.misses ?? null)}`,
        ],
        [
          `idle in transaction: share of busy connection time / connections idle > ${LONG_IDLE_MS} ms`,
          idleCell(st.idleInTransaction),
        ],
        [
          `sync-now to visible p50 / p95 (ms, ${st.syncNowToVisibleMs.samples.length} samples, ${st.syncNowToVisibleMs.timeouts} timeouts)`,
          `${n0(st.syncNowToVisibleMs.p50)} / ${n0(st.syncNowToVisibleMs.p95)}`,
        ],
        [
          st.onboarding === 'import'
            ? 'setup: interfaces added (addInterface), bulk import, first sync (s)'
            : st.onboarding === 'sync'
              ? 'setup: interfaces, workflows (starts spread over one interval), first full sync (s)'
              : "setup: interfaces with a first sync's cursors, workflows (starts spread over one interval), first cycle (s)",
          n1(st.setupSeconds),
        ],
      ]),
    );
    out.push(`  CPU (cores) during the setup: ${cpuLine(st.setupCpu)}`);
    out.push(`  CPU (cores) in the window: ${cpuLine(st.cpu)}`);
    if (st.cycleCost) out.push(...cycleCostLines(st.cycleCost));
    for (const [label, list] of [
      ['setup', st.database.setup],
      ['window', st.database.window],
    ] as const) {
      out.push(`  database connections during the ${label} (connection-seconds):`);
      for (const a of list.slice(0, 6)) out.push(`    ${n1(a.connectionSeconds).padStart(7)}  ${a.what}`);
    }
    const main = st.cpuProfile?.[0];
    if (main) {
      const cycles = st.syncs.scheduled;
      out.push(
        `  CPU profile, worker main thread over the window: ${n0(main.durationMs - main.idleMs)} ms busy of ${n0(main.durationMs)} ms` +
          (cycles > 0 ? ` (${n1((main.durationMs - main.idleMs) / cycles)} ms per sync cycle)` : '') +
          '; self time by area (ms):',
      );
      out.push(`    ${main.byArea.map((a) => `${a.area} ${n0(a.ms)}`).join(', ')}`);
      out.push(`    top functions: ${main.topFunctions.map((f) => `${f.fn} ${n0(f.ms)}`).join(', ')}`);
    }
  }
  if (opts.fairness) out.push(...fairnessLines(opts.fairness, g(FAIRNESS_GOAL), verdict(g(FAIRNESS_GOAL))));
  out.push('', 'Goals');
  out.push(
    ...table([
      ['', 'measured', 'goal', ''],
      ...opts.goals.map((x) => [
        x.name,
        x.value === null
          ? '-'
          : Math.abs(x.value) >= 100 || Number.isInteger(x.value)
            ? n0(x.value)
            : n2(x.value),
        x.target,
        x.report
          ? x.value === null
            ? 'not measured'
            : 'measured'
          : x.pass === null
            ? 'not measured'
            : verdict(x),
      ]),
    ]),
  );
  const worst = idlePhases(opts.latency, opts.steady, opts.fairness).sort(
    (a, b) => (b.idle.longConnections ?? 0) - (a.idle.longConnections ?? 0),
  )[0];
  if (worst && (worst.idle.longConnections ?? 0) > 0)
    out.push(
      `  idle in transaction > ${LONG_IDLE_MS} ms, worst in the ${worst.phase}; the statement before the wait: ` +
        worst.idle.longAfter.map((a) => `${a.what} (${n1(a.connectionSeconds)} connection-s)`).join('; '),
    );
  if (opts.findings.length > 0) {
    out.push('', 'Findings');
    for (const f of opts.findings) out.push(`  - ${f}`);
  }
  out.push('', `Result file: ${opts.resultFile}`, '');
  return out.join('\n');
}

export function findings(
  imp: ImportSection | undefined,
  steady: SteadyResult | undefined,
  cores: number,
): string[] {
  const out: string[] = [];
  const f = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? '?' : v.toFixed(d));
  if (imp) {
    const bd = pageBreakdown(imp);
    const p = imp.pipeline;
    const basePageMs = (imp.baseline.seconds * 1000) / imp.baseline.pages;
    const budget = (IMPORT_PAGE_SIZE / GOALS.pipelineInvoicesPerSecond) * 1000;
    if (imp.throughput.pipeline < GOALS.pipelineInvoicesPerSecond) {
      out.push(
        `${GOALS.pipelineInvoicesPerSecond.toLocaleString('en-US')} invoices/s allows ${f(budget)} ms per 1,000-invoice page; ` +
          `the pipeline takes ${f(bd.pipelinePageMs)} ms and the plain loop already ${f(basePageMs)} ms ` +
          `(fetch ${f(bd.baselineFetchMs)}, process ${f(bd.baselineProcessMs)}, ANALYZE ${f(bd.analyzeMsPerPage)} per page): ` +
          'the goal is missed by the fetch and write code itself, before any Temporal cost.',
      );
    }
    const c = cpuPerPage(p.cpu, p.pages, cores);
    out.push(
      `CPU: one page costs ${f(c.totalMs)} ms of CPU across the processes in the pipeline (import worker ` +
        `${f(c.msPerPage[IMPORT_WORKER])}, sync worker ${f(c.msPerPage[SYNC_WORKER])}, PostgreSQL ` +
        `${f(c.msPerPage.postgres)}, sandbox ${f(c.msPerPage.sandbox)}, Temporal ` +
        `${f(c.msPerPage.temporal)}): with everything on ${cores} cores, no schedule reaches more than ` +
        `${f(c.boundInvoicesPerSecond)} invoices/s.`,
    );
    out.push(
      `Fetch: of ${f(bd.baselineFetchMs)} ms per page, the sandbox's HTTP answer (${f((bd.pageBytes ?? 0) / 1e6, 1)} MB) takes ` +
        `${f(bd.fetchHttpMs)} ms, JSON.parse ${f(bd.fetchParseMs)} ms, zod's Invoice schema (z.object, unknown ` +
        `keys dropped) ${f(imp.fetchProfile.validateStripMs)} ms (${f(imp.fetchProfile.validateLooseMs)} ms as ` +
        'z.looseObject, which copies them).',
    );
    const top = imp.baseline.statements
      .filter(
        (s) =>
          !s.label.startsWith('(transaction') && !s.label.startsWith('select source_id from source_contacts'),
      )
      .slice(0, 3);
    out.push(
      `Write: processInvoicePage ${f(bd.baselineProcessMs)} ms per page = writeInvoicePage transaction ${f(bd.writeTransactionMs)} ms ` +
        `(largest: ${top.map((s) => `${s.label} ${f(s.msPerPage)} ms`).join('; ')}) + known-contacts lookup ` +
        `${f(bd.contactLookupMs)} ms + classify/toInvoiceRow ${f(bd.transformMs)} ms.`,
    );
    out.push(
      `Temporal and bookkeeping per page: ${f(bd.pipelinePageMs - basePageMs)} ms more than the plain loop = ` +
        `importPage doing more than fetch+process+ANALYZE ${f(bd.activityExtraMs)} ms (interface lookup and token decryption, ` +
        `checkpoint transaction, heartbeats) + workflow task round trip (the sync worker) ` +
        `${f(bd.workflowTaskGapMs)} ms + activity queue ${f(bd.queueMs)} ms + continue-as-new ${f(bd.continueAsNewMsPerPage, 1)} ms.`,
    );
    out.push(
      `Floor: the same rows by COPY take ${f(imp.floor.seconds, 2)} s (${f(imp.floor.invoicesPerSecond)} invoices/s); ` +
        `the plain loop is ${f(imp.ratios.baselineToFloor, 2)}x of it.`,
    );
    for (const [phase, cpu] of [
      ['pipeline', p.cpu],
      ['baseline', imp.baseline.cpu],
    ] as const) {
      const other = otherLoad(cpu);
      if (other > 0.15)
        out.push(
          `Noise: processes outside the bench used ${other.toFixed(2)} cores during the ${phase}; its figures are pessimistic.`,
        );
    }
  }
  if (steady) {
    const verdict =
      steady.syncs.due === 0
        ? 'no sync fell due in the window (make it longer than the interval)'
        : steady.syncs.missed === 0 && (steady.syncs.startLatenessMs.p99 ?? Infinity) < LATE_MS
          ? 'one worker keeps up with the interval'
          : 'one worker does not keep up with the interval';
    out.push(
      `Steady state: ${steady.syncs.due} syncs fell due in ${f(steady.windowSeconds)} s, ${steady.syncs.missed} missed, ` +
        `started p50 ${f(steady.syncs.startLatenessMs.p50)} ms / p99 ${f(steady.syncs.startLatenessMs.p99)} ms after due: ` +
        `${verdict}; sync worker ${f(steady.worker.cpuCores, 2)} cores, sync activity p50 ${f(steady.syncs.startToCloseMs.p50)} ms.`,
    );
    const other = otherLoad(steady.cpu);
    if (other > 0.15)
      out.push(`Noise: processes outside the bench used ${other.toFixed(2)} cores during the steady window.`);
  }
  return out;
}

function renderEvents(e: EventsSection, g: (name: string) => Goal | undefined): string[] {
  const out: string[] = [];
  const runs = (feed: boolean) => e.runs.filter((r) => r.feed === feed);
  const seconds = (feed: boolean) => meanOf(runs(feed).map((r) => r.seconds));
  const of = (feed: boolean) => (runs(feed).length > 1 ? `, median of ${runs(feed).length}` : '');
  out.push(
    '',
    `Change feed: bulk import of ${n0(e.invoices)} sandbox invoices with and without the feed (pipeline, each into a fresh database)`,
  );
  out.push(
    ...table([
      ['', 'invoices/s', 'seconds', 'events', 'goal', ''],
      [
        `with the feed${of(true)}`,
        n0(e.medians.withFeed),
        n1(seconds(true)),
        n0(runs(true)[0]?.events),
        '',
        '',
      ],
      [
        `without (feed triggers disabled, sevsync_emit a no-op)${of(false)}`,
        n0(e.medians.withoutFeed),
        n1(seconds(false)),
        n0(runs(false)[0]?.events),
        '',
        '',
      ],
      [
        'ratio with / without',
        n2(e.ratio),
        '',
        '',
        `>= ${GOALS.feedImportRatio}`,
        verdict(g('change feed: import invoices/s with / without the feed')),
      ],
      [
        `events table bytes per 1,000 invoices imported (${mb(e.size.totalBytes)} for ${n0(e.size.invoices)} invoices)`,
        n0(e.size.bytesPer1000Invoices),
        '',
        '',
        '',
        '',
      ],
    ]),
  );
  out.push(
    `  runs (alternating E N N E ...): ${e.runs
      .map((r) => `${r.feed ? 'E' : 'N'} ${n0(r.invoicesPerSecond)} (other load ${n2(r.otherLoadCores)})`)
      .join(', ')}`,
  );
  const split = (feed: boolean) =>
    `page activities ${n2(meanOf(runs(feed).map((r) => r.importPageExecutionSeconds)))} s, ` +
    `finishImport ${n2(meanOf(runs(feed).map((r) => r.finishImportSeconds)))} s`;
  out.push(`  where the time went (mean, from the histories): with ${split(true)}; without ${split(false)}`);
  out.push(
    `  events table: ${n0(e.size.events)} events, ${n0(e.size.bytesPerEvent)} bytes each; heap ${mb(e.size.heapBytes)}, ` +
      `indexes ${mb(e.size.indexBytes)}, total ${mb(e.size.totalBytes)} (incl. TOAST)`,
  );
  for (const [i, c] of e.checks.entries()) {
    const types = Object.entries(c.byType)
      .map(([t, n]) => `${t} ${n0(n)}`)
      .join(', ');
    out.push(
      `  feed check, run ${i + 1} with the feed: ${c.ok ? 'complete' : `NOT COMPLETE (${c.problems.join('; ')})`}: ` +
        `${n0(c.invoiceCreated)} invoice.created for ${n0(c.shownInvoices)} shown invoices; ${types}`,
    );
  }
  out.push(`  turned off without the feed: ${e.disabledTriggers.join(', ')}`);
  const idle = e.idle;
  if (idle) {
    out.push(
      '',
      `Change feed of idle accounts: ${idle.accounts} accounts of ${n0(idle.invoicesPerAccount)} invoices (one sandbox, no changes), ` +
        `${n0(idle.windowSeconds)} s of cycles at a ${idle.intervalSeconds} s interval`,
    );
    out.push(
      ...table([
        [
          `sync cycles in the window (incl. ${idle.syncNowCycles} sync-now with wait)`,
          n0(idle.cycles),
          '',
          '',
        ],
        ['events added', n0(idle.eventsAdded), '', ''],
        [
          'bytes added: events relation growth / rows',
          `${n0(idle.relationBytesAdded)} / ${n0(idle.rowBytesAdded)}`,
          '',
          '',
        ],
        [
          `account-days at the default ${idle.defaultIntervalSeconds} s interval`,
          n2(idle.accountDays),
          '',
          '',
        ],
        [
          'events bytes per 1,000 idle account-days',
          n0(idle.bytesPer1000AccountDays),
          `${GOALS.idleFeedBytes}`,
          verdict(g('change feed: events bytes per 1,000 idle account-days')),
        ],
      ]),
    );
    out.push(
      `  events before the window (not counted): import ${n0(idle.eventsBeforeWindow.import)}, ` +
        `the first cycles after it ${n0(idle.eventsBeforeWindow.settle)}`,
    );
    if (idle.accountErrors.length > 0) out.push(`  accounts in error: ${idle.accountErrors.join('; ')}`);
  }
  const w = e.webhooks;
  if (w) {
    out.push(
      '',
      `Webhook delivery: ${n0(w.events)} events of one account to a local receiver (bench/webhook-delivery.ts)`,
    );
    out.push(
      ...table([
        ['', 'measured', 'goal', ''],
        [
          `events/s (${n2(w.seconds)} s, ${n0(w.requests)} requests, ${w.ok ? 'all in seq order, sampled signatures verified' : 'NOT all delivered in order / verified'})`,
          n0(w.eventsPerSecond),
          `>= ${n0(GOALS.webhookEventsPerSecond)}`,
          verdict(g('change feed: webhook delivery events/s')),
        ],
      ]),
    );
  }
  const lag = e.webhookLag;
  if (lag) {
    const changes = (c: 'paid' | 'added') => lag.perSample.filter((s) => s.change === c).length;
    out.push(
      '',
      `Webhook lag: sevDesk change to webhook received, one account of ${n0(lag.invoices)} invoices syncing every ` +
        `${lag.intervalSeconds} s on the real worker; ${lag.samples} changes (${changes('paid')} paid, ${changes('added')} added), ` +
        `each after a random 0..${lag.intervalSeconds} s wait (bench/webhook-lag.ts)`,
    );
    const s = (v: number | null) => n2(v);
    out.push(
      ...table([
        ['', 'p50', 'p95', 'max', 'goal', ''],
        [
          `seconds (${lag.received} of ${lag.samples} received; ${lag.requests} requests, ` +
            `${lag.signatureFailures === 0 ? 'all signatures verified' : `${lag.signatureFailures} BAD SIGNATURES`})`,
          s(lag.lagSeconds.p50),
          s(lag.lagSeconds.p95),
          s(lag.lagSeconds.max),
          `<= ${lag.intervalSeconds + GOALS.webhookLagSlackSeconds}`,
          verdict(g(WEBHOOK_LAG_GOAL)),
        ],
      ]),
    );
    out.push(
      `  one event to the next, less the interval (a sync cycle + the delivery): p50 ${n2(lag.beyondIntervalSeconds.p50)} s, ` +
        `max ${n2(lag.beyondIntervalSeconds.max)} s; the rest of the lag is where the change fell in the interval`,
    );
    if (lag.timeouts > 0)
      out.push(`  ${lag.timeouts} sample(s) got no event within ${lag.sampleTimeoutSeconds} s (a MISS)`);
  }
  return out;
}
