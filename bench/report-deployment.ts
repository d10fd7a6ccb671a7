import type { CycleCost } from './cycle-cost';
import { DEPLOYMENT_PROCESSES } from './cycle-cost';
import { IMPORT_WORKER, SYNC_WORKER } from './deployment';
import type { FairnessResult, FairnessWindow } from './fairness';
import { delayCell, idleCell, n0, n1, n2, table } from './format';
import type { LatencyProfileResult } from './import-latency';
import type { PipelineResult } from './import-pipeline';
import { LONG_IDLE_MS } from './pg-activity';
import type { Goal } from './report';

// The report's parts about the deployment's processes: the pipeline's CPU per page by process, how the
// import window overlaps the fetches, the steady state's CPU per account-cycle, and the fairness windows.

/** What each process does in the pipeline, in the order of the per-page table. */
const PAGE_ROLES: [string, string][] = [
  [IMPORT_WORKER, 'the walk: fetch, parse, validate, write, checkpoint'],
  [SYNC_WORKER, "the import's workflow tasks"],
  ['postgres', "PostgreSQL: the import database's backends"],
  ['temporal', 'Temporal: history, task queues, matching'],
  ['sandbox', "sandbox: sevDesk's side, serving the pages"],
];

/**
 * Where each CPU millisecond of a 1,000-invoice page goes in the pipeline, per process (first run). The CPU is
 * read from addInterface to the import's result (cores: over that time), the pages from the history.
 */
export function pageCpuLines(p: PipelineResult, cores: number): string[] {
  const pages = Math.max(1, p.pages);
  const ms = (name: string) => ((p.cpu.cpuSeconds[name] ?? 0) * 1000) / pages;
  const named = new Set(PAGE_ROLES.map(([n]) => n));
  const others = Object.keys(p.cpu.cpuSeconds).filter((n) => !named.has(n) && n !== 'bench');
  const rows: [string, string][] = [...PAGE_ROLES, ...others.map((n): [string, string] => [n, ''])];
  const total = rows.reduce((a, [n]) => a + ms(n), 0);
  const wallMs = (p.seconds * 1000) / pages;
  const out = [
    `  CPU per 1,000-invoice page, pipeline (first run: ${n0(p.pages)} pages, ${n1(p.seconds)} s, ` +
      `${n0(wallMs)} ms of wall time a page): where each CPU millisecond goes, per process`,
  ];
  out.push(
    ...table([
      ['', 'CPU ms / page', 'share', 'cores'],
      ...rows.map(([n, what]) => [
        n.startsWith('worker') ? `${n}: ${what}` : what || n,
        n1(ms(n)),
        total > 0 ? `${((ms(n) / total) * 100).toFixed(1)} %` : '-',
        n2(p.cpu.cores[n] ?? 0),
      ]),
      ['total', n1(total), '100 %', n2(rows.reduce((a, [n]) => a + (p.cpu.cores[n] ?? 0), 0))],
      [
        '(the bench process: waits, samples; not in the total)',
        n1(ms('bench')),
        '',
        n2(p.cpu.cores['bench']),
      ],
    ]).map((l) => `    ${l}`),
  );
  out.push(
    `    with all of it on ${cores} cores and perfect overlap, at most ` +
      `${n0(total > 0 ? (cores * 1e6) / total : null)} invoices/s; other load on the machine ` +
      `${n2(Math.max(0, p.cpu.machineBusyCores - Object.values(p.cpu.cores).reduce((a, b) => a + b, 0)))} cores`,
  );
  return out;
}

/** The window's overlap of the page fetches, one page at a time against windowed. */
export function overlapLines(lp: LatencyProfileResult): string[] {
  const a = lp.onePage.overlap;
  const b = lp.windowed.overlap;
  if (!a || !b) return [];
  const out = [
    `  how the window overlaps the fetches (ms per page; from the sandbox's times of each request, ` +
      `bench/fetch-overlap.ts):`,
  ];
  out.push(
    ...table([
      ['', 'one page', `windowed (${lp.windowed.window})`],
      ['page fetch: request arrival to the last byte of the answer', n0(a.fetchMs), n0(b.fetchMs)],
      [
        'page fetches in flight (sum of fetch times / import span)',
        n2(a.fetchesInFlight),
        n2(b.fetchesInFlight),
      ],
      ['wall time per page (import span / pages)', n0(a.pageMs), n0(b.pageMs)],
      [
        'after its answer until the window asks for the next page (parse, write, checkpoint)',
        n0(a.writeMs),
        n0(b.writeMs),
      ],
      ['writer waiting for an answer', n0(a.waitMs), n0(b.waitMs)],
    ]).map((l) => `    ${l}`),
  );
  if (a.fetchMs !== null && a.writeMs !== null && b.fetchMs !== null && b.writeMs !== null) {
    const serial = a.fetchMs + a.writeMs;
    const windowed = Math.max(b.writeMs, b.fetchMs / lp.windowed.window);
    out.push(
      `    one page at a time a page costs its fetch and its write in a row (${n0(a.fetchMs)} + ${n0(a.writeMs)} ms); ` +
        `windowed the fetches overlap (${n1(b.fetchesInFlight)} in flight), so a page costs about ` +
        `max(write, fetch / ${lp.windowed.window}) = ${n0(windowed)} ms: ${n0(serial)} / ${n0(windowed)} = ` +
        `${n1(serial / windowed)} expected, ${n2(lp.ratio)} measured`,
    );
  }
  return out;
}

const PROCESS_LABEL: Record<string, string> = {
  [SYNC_WORKER]: SYNC_WORKER,
  [IMPORT_WORKER]: IMPORT_WORKER,
  temporal: 'Temporal',
  postgres: 'PostgreSQL',
};

/** CPU per idle account-cycle by process, and where the sync worker's and Temporal's parts go. */
export function cycleCostLines(c: CycleCost): string[] {
  const ms = (n: string) => c.cpuMsPerCycle[n] ?? 0;
  const w = c.syncWorker;
  return [
    `  CPU per idle account-cycle (measured, no target): the window's CPU / its ${n0(c.cycles)} cycles ` +
      `(${n0(c.idleCycles)} of them of accounts without changes), ms:`,
    `    ${DEPLOYMENT_PROCESSES.map((n) => `${PROCESS_LABEL[n] ?? n} ${n1(ms(n))}`).join(' + ')} = ` +
      `${n1(c.totalMs)}; besides: sandbox (sevDesk's side) ${n1(ms('sandbox'))}`,
    `    sync worker: ${n2(w.workflowTasks)} workflow tasks per cycle, ${n2(w.cachedTasks)} found their workflow ` +
      `cached / ${n2(w.replayedTasks)} replayed its history (SDK sticky cache hit / miss)`,
    `    sync worker (SDK timings, wall ms per cycle): workflow tasks ${n1(w.workflowTaskMs)}, of which ` +
      `replaying histories ${n1(w.replayMs)} and the local activity syncAccountQuick ${n1(w.localActivityMs)} ` +
      `(${n2(w.localActivities)} runs per cycle)`,
    `    Temporal: ${n1(c.temporal.historyEvents)} history events written per cycle, ` +
      `${n2(c.temporal.cpuMsPerHistoryEvent)} ms of its CPU per event`,
  ];
}

/** One row per window, then the goal's figure: medians over the pairs, with the pairs' spread. */
export function fairnessLines(fa: FairnessResult, goal: Goal | undefined, verdict: string): string[] {
  if (!fa.windows) return [];
  const out = [
    '',
    `Fairness: ${n0(fa.accounts)} accounts at a ${fa.intervalSeconds} s interval on a sync worker, ` +
      `${fa.pairRatios.length} pairs of windows without and during imports of ${n0(fa.invoices)} invoices each ` +
      '(back to back, on the import worker)',
  ];
  const row = (w: FairnessWindow) => [
    w.kind === 'with'
      ? `${w.pair} with: ${w.imports?.count ?? 0} import(s), ${n0(w.imports?.invoicesPerSecond)} invoices/s`
      : `${w.pair} without`,
    n0(w.windowSeconds),
    `${n0(w.due)} / ${n0(w.missed)}`,
    `${n0(w.startLatenessMs.p50)} / ${n0(w.startLatenessMs.p99)} / ${n0(w.startLatenessMs.max)}`,
    n2(w.workers.sync.cpuCores),
    delayCell(w.workers.sync.eventLoopDelayMs),
    n2(w.workers.imports.cpuCores),
    delayCell(w.workers.imports.eventLoopDelayMs),
    idleCell(w.idleInTransaction),
  ];
  out.push(
    ...table([
      [
        'window',
        's',
        'due / missed',
        'lateness p50 / p99 / max ms',
        'sync cores',
        'sync loop delay p99 / max',
        'import cores',
        'import loop delay p99 / max',
        `idle in txn / > ${LONG_IDLE_MS} ms`,
      ],
      ...fa.windows.map(row),
    ]),
  );
  const d = fa.eventLoopDelayMs;
  out.push(
    `  p99 with / without, per pair: ${fa.pairRatios.map((r) => n2(r)).join(', ')}`,
    `  median p99 with / without: ${n0(fa.medianP99Ms.with)} / ${n0(fa.medianP99Ms.without)} ms = ` +
      `${n2(fa.ratio)} (pairs ${fa.spread ? `${n2(fa.spread.min)}-${n2(fa.spread.max)}` : '-'}; goal ${goal?.target ?? '-'}) ${verdict}`,
    `  event loop delay p99 / max, ms (medians of the windows): sync worker without ${delayCell(d.sync.without)}, ` +
      `with ${delayCell(d.sync.with)}; import worker without ${delayCell(d.imports.without)}, with ${delayCell(d.imports.with)}`,
  );
  return out;
}
