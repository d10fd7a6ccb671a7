import { IMPORT_PAGE_SIZE, PAGE_OVERLAP } from '../src/activities/bulk-import';
import { processInvoicePage } from '../src/activities/pages';
import { fetchAllContacts } from '../src/activities/sevdesk-reads';
import { recomputeAccountValues, upsertSourceContacts } from '../src/db/customers';
import { analyzeIfStale, analyzeSyncTables } from '../src/db/statistics';
import type { Sql } from '../src/db/client';
import { createDb } from '../src/db/client';
import { ensureAccount } from '../src/db/interfaces';
import { createSevdeskClient } from '../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../src/shared';
import { mean, sum } from './histories';
import type { ProfileSummary } from './cpu-profile';
import { summariseProfiles } from './cpu-profile';
import { startBenchScript, waitForLine, withTimeout } from './infra';
import { postgresPidsOf } from './pg-activity';
import type { CpuShare } from './proc-stats';
import { RssSampler, cpuBetween, snapshotCpu } from './proc-stats';
import { StatementTimes, timedSql } from './sql-timing';

/** The cadence importPage had before analyzeIfStale (a what-if now). */
const ANALYZE_EVERY_PAGES = 5;

/** What-if changes to the loop, to measure a product change before anyone makes it. */
export interface LoopVariant {
  /** Fetch page N+1 while page N is written: the sevDesk wait overlaps the database work. */
  prefetch?: boolean;
  /**
   * 'stale' (default) is importPage's: analyzeIfStale after every page (only the stale tables). 'stale-all':
   * the same check, then all five tables (before); 'every-5' after pages 1, 6, 11, ...; 'doubling' after
   * pages 1, 2, 4, 8, 16, ...
   */
  analyze?: 'stale' | 'stale-all' | 'every-5' | 'doubling';
}

/** Whether the page's ANALYZE ran (the product's and the what-ifs' cadences). */
async function analyzeAfter(sql: Sql, page: number, cadence: LoopVariant['analyze']): Promise<boolean> {
  switch (cadence ?? 'stale') {
    case 'stale':
      return analyzeIfStale(sql);
    case 'stale-all': {
      const [row] = await sql<{ stale: boolean }[]>`
        select coalesce(bool_or(n_mod_since_analyze >= greatest(200, n_live_tup - n_mod_since_analyze)), false)
          as stale
        from pg_stat_user_tables
        where schemaname = current_schema()
          and relname in ('invoices', 'invoice_issues', 'source_contacts', 'customers', 'customer_values')`;
      if (!row?.stale) return false;
      await analyzeSyncTables(sql);
      return true;
    }
    case 'doubling':
    case 'every-5':
      if (cadence === 'doubling' ? (page & (page - 1)) !== 0 : page % ANALYZE_EVERY_PAGES !== 1) return false;
      await analyzeSyncTables(sql);
      return true;
  }
}

export interface BaselineResult {
  seconds: number;
  /** CPU of the loop's own process over the run (its PostgreSQL backends and the sandbox not included). */
  cpuSeconds: number;
  invoicesPerSecond: number;
  pages: number;
  contactsMs: number;
  /** Per page, ms: client.listInvoices (HTTP, JSON, zod); with prefetch only the part not overlapped. */
  fetchMsMean: number | null;
  /** Per page, ms: processInvoicePage (classify, contacts lookup, writeInvoicePage transaction). */
  processMsMean: number | null;
  analyzeMsTotal: number;
  /** Time per page spent in each SQL statement of processInvoicePage, largest first. */
  statements: { label: string; perPage: number; msPerPage: number }[];
  rows: number;
  /** fetch + process (+ ANALYZE where it ran) of every page in order, ms. */
  pageMs: number[];
}

export interface BaselineInput {
  databaseUrl: string;
  baseUrl: string;
  token: string;
  accountId: string;
  invoices: number;
  variant?: LoopVariant;
}

/**
 * The import without Temporal: what beginImport and importPage call (fetchAllContacts + upsertSourceContacts,
 * then client.listInvoices + processInvoicePage page by page, with the same offsets, overlap and ANALYZE
 * cadence), in a plain loop. Left out: the interface lookup and token decryption per page, the checkpoint
 * row, heartbeats, and everything Temporal does.
 */
export async function runBaseline(
  opts: BaselineInput,
  /** Called with the result while the database pool is still open. */
  beforeClose?: (result: BaselineResult) => Promise<void>,
): Promise<BaselineResult> {
  // The worker's pool size, so that both write through the same number of connections.
  const db = createDb(opts.databaseUrl, { max: 10 });
  try {
    await ensureAccount(db.sql, opts.accountId);
    const client = createSevdeskClient({ baseUrl: opts.baseUrl, token: opts.token });
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const all = await fetchAllContacts(client);
    await upsertSourceContacts(db.sql, opts.accountId, SOURCE_SEVDESK, all.rows);
    await analyzeSyncTables(db.sql);
    const contactsMs = performance.now() - started;

    const times = new StatementTimes();
    const ctx = {
      sql: timedSql(db.sql, times),
      client,
      accountId: opts.accountId,
      source: SOURCE_SEVDESK,
      amountBasis: 'gross' as const,
      baseCurrency: 'EUR',
    };
    const fetchMs: number[] = [];
    const processMs: number[] = [];
    const analyzeMs: number[] = [];
    const pageMs: number[] = [];
    const prefetch = opts.variant?.prefetch ?? false;
    const fetchAt = (offset: number) => {
      const p = client.listInvoices({ offset, limit: IMPORT_PAGE_SIZE, countAll: true });
      // A prefetched page whose loop already failed must not become an unhandled rejection.
      p.catch(() => undefined);
      return p;
    };
    let requestOffset = 0;
    let pending = fetchAt(0);
    let tail: string[] = [];
    for (let page = 1; ; page++) {
      const t0 = performance.now();
      const res = await pending;
      const t1 = performance.now();
      const more = res.rawCount >= IMPORT_PAGE_SIZE;
      const nextOffset = Math.max(0, requestOffset + res.rawCount - PAGE_OVERLAP);
      if (more && prefetch) pending = fetchAt(nextOffset);
      // As walkPage: customer values wait for the end of the walk (recomputeAccountValues below).
      await processInvoicePage(ctx, res, { statsExclude: new Set(tail), deferValues: true });
      const t2 = performance.now();
      fetchMs.push(t1 - t0);
      processMs.push(t2 - t1);
      tail = res.objects.slice(-PAGE_OVERLAP).map((o) => o.id);
      if (await analyzeAfter(db.sql, page, opts.variant?.analyze)) analyzeMs.push(performance.now() - t2);
      pageMs.push(Math.round(performance.now() - t0));
      if (!more) break;
      if (!prefetch) pending = fetchAt(nextOffset);
      requestOffset = nextOffset;
    }
    // As finishImport: the values of every customer, once.
    await db.sql.begin((tx) => recomputeAccountValues(tx, opts.accountId, 0));
    const seconds = (performance.now() - started) / 1000;
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from invoices where account_id = ${opts.accountId}`;
    const cpu = process.cpuUsage(cpuAtStart);
    const result: BaselineResult = {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      seconds,
      invoicesPerSecond: opts.invoices / seconds,
      pages: fetchMs.length,
      contactsMs,
      fetchMsMean: mean(fetchMs),
      processMsMean: mean(processMs),
      analyzeMsTotal: sum(analyzeMs),
      statements: times.top().map((t) => ({
        label: t.label,
        perPage: t.count / fetchMs.length,
        msPerPage: t.ms / fetchMs.length,
      })),
      rows: row?.n ?? 0,
      pageMs,
    };
    await beforeClose?.(result);
    return result;
  } finally {
    await db.close();
  }
}

export interface BaselineProcessResult extends BaselineResult {
  cpu: CpuShare;
  peakRssBytes: number;
  cpuProfile?: ProfileSummary[];
}

/** runBaseline in a fresh process (bench/baseline-process.ts), measured from its start signal to its result. */
export async function runBaselineProcess(
  input: BaselineInput,
  otherPids: Record<string, number>,
  timeoutMs: number,
  cpuProfileDir?: string,
): Promise<BaselineProcessResult> {
  const child = startBenchScript(
    'baseline-process.ts',
    [JSON.stringify(input)],
    cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
  );
  let out: BaselineProcessResult;
  let fromWallMs: number;
  let toWallMs: number;
  try {
    await waitForLine(child, '{"ready"', 60_000, 'the baseline process');
    const pids = { baseline: child.pid, ...otherPids };
    const rss = new RssSampler(child.pid);
    const cpu0 = snapshotCpu(pids);
    fromWallMs = Date.now();
    child.proc.stdin?.write('go\n');
    const { result } = await waitForLine<{ result: BaselineResult }>(
      child,
      '{"result"',
      timeoutMs,
      'the baseline',
    );
    toWallMs = Date.now();
    const cpu = cpuBetween(cpu0, snapshotCpu(pids), await postgresPidsOf(input.databaseUrl));
    // The process may be reading stdin already or not: its own figure is exact either way.
    cpu.cpuSeconds.baseline = result.cpuSeconds;
    cpu.cores.baseline = result.cpuSeconds / cpu.wallSeconds;
    out = { ...result, cpu, peakRssBytes: rss.stop().maxBytes };
    child.proc.stdin?.write('bye\n');
    // It ends by itself once its result is out; a profile is only written on a normal exit.
    await withTimeout(child.exited, 15_000, 'the baseline process exit').catch(() => undefined);
  } finally {
    await child.stop();
  }
  const exitWallMs = child.exitedAt();
  if (cpuProfileDir && exitWallMs !== null)
    out.cpuProfile = summariseProfiles(cpuProfileDir, 12, { fromWallMs, toWallMs, exitWallMs });
  return out;
}
