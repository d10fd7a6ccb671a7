import { DEFAULT_IMPORT_WINDOW, IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import type { FetchOverlap } from './fetch-overlap';
import { fetchOverlap } from './fetch-overlap';
import type { PipelineResult } from './import-pipeline';
import { pipelineSource, runPipeline } from './import-pipeline';
import type { Cleanup, startTemporal } from './infra';
import { checkpoint, createDatabase, dropDatabase, log, startSandboxHost } from './infra';
import type { BenchOptions } from './options';
import { LATENCY_DEFAULTS } from './options';
import type { IdleInTransaction } from './pg-activity';
import { PgActivitySampler, idleInTransaction } from './pg-activity';

// The bulk import against a sevDesk that takes its time (the sandbox's latency profile): the real pipeline,
// once with one page in flight (SEVSYNC_IMPORT_WINDOW=1) and once with the product's default window. Both
// keep the per-token limit of concurrent sevDesk requests; the window is what lets them overlap.

export interface LatencyRun {
  invoicesPerSecond: number;
  seconds: number;
  /** Pages of one import in flight (SEVSYNC_IMPORT_WINDOW). */
  window: number;
  historyEvents: number;
  rows: number;
  /** "idle in transaction" in the import's database: with slow HTTP calls, one inside a transaction shows. */
  idleInTransaction: IdleInTransaction;
  /** Page fetches in flight, fetch and write time per page, from the sandbox's request times. */
  overlap: FetchOverlap;
}

export interface LatencyProfileResult {
  requestMs: number;
  perObjectMs: number;
  source: string;
  invoices: number;
  onePage: LatencyRun;
  windowed: LatencyRun;
  /** windowed / onePage invoices per second. */
  ratio: number;
}

type Measured = PipelineResult & { idle: IdleInTransaction; overlap: FetchOverlap };

const runOf = (r: Measured, window: number): LatencyRun => ({
  invoicesPerSecond: r.invoicesPerSecond,
  seconds: r.seconds,
  window,
  historyEvents: r.historyEvents,
  rows: r.rows,
  idleInTransaction: r.idle,
  overlap: r.overlap,
});

export async function importUnderLatency(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
): Promise<LatencyProfileResult> {
  const latency = { requestMs: opts.latencyMs, perObjectMs: opts.latencyPerObjectMs };
  log(
    `latency: ${opts.latencyInvoices.toLocaleString('en-US')} invoices behind ${latency.requestMs} ms per ` +
      `request + ${latency.perObjectMs} ms per object`,
  );
  // The host times every request it answers: how the import's page fetches overlap (bench/fetch-overlap.ts).
  const host = await startSandboxHost([{ seed: opts.seed + 500, invoices: opts.latencyInvoices, latency }], {
    timeRequests: true,
  });
  cleanup.add('latency sandbox host', () => host.stop());
  const sb = host.sandboxes[0];
  if (!sb) throw new Error('no sandbox');
  const pageMs = latency.requestMs + latency.perObjectMs * 1000;
  const pages = Math.ceil(sb.invoices / 1000);
  // One page at a time: every page waits for its answer; generous, so that a slow machine is measured.
  const timeoutMs = 180_000 + pages * (pageMs + 1_000) * 2;
  const run = async (label: string, window: number | undefined): Promise<Measured> => {
    await checkpoint();
    const db = await createDatabase(`latency_${label}`);
    cleanup.add(`latency ${label} database`, () => dropDatabase(db));
    log(`latency: pipeline, ${window === undefined ? 'default window' : `window ${window}`}`);
    const activity = new PgActivitySampler(decodeURIComponent(new URL(db).pathname.slice(1)));
    const r = await runPipeline({
      databaseUrl: db,
      temporal,
      ...pipelineSource(host, sb),
      accountId: `bench-latency-${label}`,
      timeoutMs,
      workerEnv: { SEVSYNC_IMPORT_WINDOW: window === undefined ? undefined : String(window) },
    });
    const idle = idleInTransaction(await activity.stop());
    const overlap = fetchOverlap(
      await host.requestTimes(),
      r.spanMs,
      window ?? DEFAULT_IMPORT_WINDOW,
      IMPORT_PAGE_SIZE,
    );
    const f = (v: number | null) => (v === null ? '-' : v.toFixed(0));
    log(
      `latency: ${Math.round(r.invoicesPerSecond)} invoices/s in ${r.seconds.toFixed(1)} s; ` +
        `${overlap.fetchesInFlight.toFixed(2)} page fetches in flight, fetch ${f(overlap.fetchMs)} ms, ` +
        `write ${f(overlap.writeMs)} ms per page`,
    );
    await dropDatabase(db);
    return { ...r, idle, overlap };
  };
  const onePage = await run('one', 1);
  const windowed = await run('windowed', undefined);
  await host.stop();
  return {
    ...latency,
    source:
      opts.latencyMs === LATENCY_DEFAULTS.requestMs &&
      opts.latencyPerObjectMs === LATENCY_DEFAULTS.perObjectMs
        ? LATENCY_DEFAULTS.source
        : 'set by --latency-ms / --latency-per-object-ms',
    invoices: sb.invoices,
    onePage: runOf(onePage, 1),
    windowed: runOf(windowed, DEFAULT_IMPORT_WINDOW),
    ratio: windowed.invoicesPerSecond / onePage.invoicesPerSecond,
  };
}
