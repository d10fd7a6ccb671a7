// Planner statistics while an import grows the tables: with statistics from when an account had no rows,
// PostgreSQL plans the per-page lookups as scans over the whole account and each page gets slower.
import type { Sql } from './client';

/** The tables the page writes grow. Names from this fixed list only, never from input. */
const SYNC_TABLES = [
  'invoices',
  'invoice_issues',
  'source_contacts',
  'customers',
  'customer_values',
  'events',
] as const;

/**
 * ANALYZE as the tables' owner: `sevsync_analyze` (migration 0006) is a SECURITY DEFINER function, so the
 * runtime role, which owns no table, may run it (docs/deploys.md, "Database roles"). A plain ANALYZE by a role
 * that is not the owner only warns "skipping" and leaves the statistics stale.
 */
const analyze = async (sql: Sql, tables: readonly string[]): Promise<void> => {
  await sql`select sevsync_analyze(${tables as string[]}::text[])`;
};

/** ANALYZE of every table the page writes grow (once the contacts of a walk are loaded). */
export async function analyzeSyncTables(sql: Sql): Promise<void> {
  await analyze(sql, SYNC_TABLES);
}

/**
 * ANALYZE only the tables whose statistics are stale: changed by as many rows since their last analyze as
 * they had then (at least 200). A growing import so re-plans at each doubling (pages 1, 2, 4, 8, ...), and
 * the tables a walk does not grow are not analyzed again each time. The floor is low because the first
 * pages add hundreds of customers at once. Autovacuum's own ANALYZE counts too; the check reads
 * pg_stat_user_tables only.
 */
export async function analyzeIfStale(sql: Sql): Promise<boolean> {
  const rows = await sql<{ relname: string }[]>`
    select relname from pg_stat_user_tables
    where schemaname = current_schema()
      and relname in (${sql.unsafe(SYNC_TABLES.map((t) => `'${t}'`).join(', '))})
      and n_mod_since_analyze >= greatest(200, n_live_tup - n_mod_since_analyze)
    order by relname`;
  if (rows.length === 0) return false;
  await analyze(
    sql,
    rows.map((r) => r.relname),
  );
  return true;
}
