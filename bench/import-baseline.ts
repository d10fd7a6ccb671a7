import { IMPORT_PAGE_SIZE, PAGE_OVERLAP } from '../src/activities/bulk-import';
import { processInvoicePage } from '../src/activities/pages';
import { fetchAllContacts } from '../src/activities/sevdesk-reads';
import { analyzeSyncTables, upsertSourceContacts } from '../src/db/crm-writes';
import { createDb } from '../src/db/client';
import { ensureAccount } from '../src/db/interfaces';
import { createSevdeskClient } from '../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../src/shared';
import { mean, sum } from './histories';
import { StatementTimes, timedSql } from './sql-timing';

/** importPage analyzes after pages 1, 6, 11, ...: the plain loop does the same so that plans match. */
const ANALYZE_EVERY_PAGES = 5;

export interface BaselineResult {
  seconds: number;
  invoicesPerSecond: number;
  pages: number;
  contactsMs: number;
  /** Per page, ms: client.listInvoices (HTTP, JSON, zod). */
  fetchMsMean: number | null;
  /** Per page, ms: processInvoicePage (classify, contacts lookup, writeInvoicePage transaction). */
  processMsMean: number | null;
  analyzeMsTotal: number;
  /** Time per page spent in each SQL statement of processInvoicePage, largest first. */
  statements: { label: string; perPage: number; msPerPage: number }[];
  rows: number;
}

/**
 * The import without Temporal: what beginImport and importPage call (fetchAllContacts + upsertSourceContacts,
 * then client.listInvoices + processInvoicePage page by page, with the same offsets, overlap and ANALYZE
 * cadence), in a plain loop. Left out: the interface lookup and token decryption per page, the checkpoint
 * row, heartbeats, and everything Temporal does.
 */
export async function runBaseline(opts: {
  databaseUrl: string;
  baseUrl: string;
  token: string;
  accountId: string;
  invoices: number;
}): Promise<BaselineResult> {
  // The worker's pool size, so that both write through the same number of connections.
  const db = createDb(opts.databaseUrl, { max: 10 });
  try {
    await ensureAccount(db.sql, opts.accountId);
    const client = createSevdeskClient({ baseUrl: opts.baseUrl, token: opts.token });
    const started = performance.now();
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
    let offset = 0;
    let tail: string[] = [];
    for (let page = 1; ; page++) {
      const requestOffset = Math.max(0, offset - PAGE_OVERLAP);
      const t0 = performance.now();
      const res = await client.listInvoices({
        offset: requestOffset,
        limit: IMPORT_PAGE_SIZE,
        countAll: true,
      });
      const t1 = performance.now();
      await processInvoicePage(ctx, res, { statsExclude: new Set(tail) });
      const t2 = performance.now();
      fetchMs.push(t1 - t0);
      processMs.push(t2 - t1);
      tail = res.objects.slice(-PAGE_OVERLAP).map((o) => o.id);
      offset = requestOffset + res.rawCount;
      if (page % ANALYZE_EVERY_PAGES === 1) {
        await analyzeSyncTables(db.sql);
        analyzeMs.push(performance.now() - t2);
      }
      if (res.rawCount < IMPORT_PAGE_SIZE) break;
    }
    const seconds = (performance.now() - started) / 1000;
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from invoices where account_id = ${opts.accountId}`;
    return {
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
    };
  } finally {
    await db.close();
  }
}
