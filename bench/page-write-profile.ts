// `npx tsx bench/page-write-profile.ts [--invoices N] [--rounds N] [--costs]`: the database write of an
// import's pages alone. The pages are fetched and classified before the clock starts; then each run writes
// them all, page by page as the import does (customer values deferred to the end, ANALYZE when stale), into a
// fresh database through one connection, timing every statement and reading that backend's CPU from /proc.
// --costs adds one run per index, foreign key and trigger of the hot tables with that one object dropped
// (runs alternate with the full schema): what each costs a page. PW_EXPLAIN=1 logs the plans of statements
// over 4 ms to the server log (auto_explain, with triggers).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IMPORT_PAGE_SIZE, PAGE_OVERLAP } from '../src/activities/bulk-import';
import { fetchAllContacts } from '../src/activities/sevdesk-reads';
import type { Sql } from '../src/db/client';
import { createDb } from '../src/db/client';
import { recomputeAccountValues, upsertSourceContacts } from '../src/db/customers';
import { ensureAccount } from '../src/db/interfaces';
import { writeInvoicePage } from '../src/db/page-write';
import { analyzeIfStale, analyzeSyncTables } from '../src/db/statistics';
import type { ContactRow } from '../src/domain/contact';
import type { ClassifiedPage } from '../src/domain/page';
import { classifyPage } from '../src/domain/page';
import { closeDefaultDispatchers, createSevdeskClient } from '../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../src/shared';
import { startSandbox } from '../sandbox/server';
import { createDatabase, dropDatabase } from './infra';
import { StatementTimes, timedSql } from './sql-timing';

const TICK_MS = 1000 / 100;

/** user + system CPU of a process from /proc, ms (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** What a run leaves out: nothing, or one index / foreign key / trigger of the hot tables. */
interface Variant {
  label: string;
  drop?: string;
}

/** The hot tables' indexes (not the unique keys the upserts need), foreign keys and triggers. */
async function costVariants(url: string): Promise<Variant[]> {
  const db = createDb(url, { max: 1 });
  try {
    const tables = ['invoices', 'invoice_issues', 'customers', 'events'];
    const indexes = await db.sql<{ name: string; table: string }[]>`
      select i.relname as name, t.relname as table from pg_index x
      join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
      where t.relname = any(${tables}) and not x.indisunique and not x.indisprimary
      order by 2, 1`;
    const fks = await db.sql<{ name: string; table: string }[]>`
      select c.conname as name, t.relname as table from pg_constraint c join pg_class t on t.oid = c.conrelid
      where c.contype = 'f' and t.relname = any(${tables}) order by 2, 1`;
    const triggers = await db.sql<{ name: string; table: string }[]>`
      select g.tgname as name, t.relname as table from pg_trigger g join pg_class t on t.oid = g.tgrelid
      where not g.tgisinternal and t.relname = any(${tables}) order by 2, 1`;
    return [
      ...indexes.map((x) => ({ label: `index ${x.name}`, drop: `drop index ${x.name}` })),
      ...fks.map((x) => ({
        label: `fk ${x.name}`,
        drop: `alter table ${x.table} drop constraint ${x.name}`,
      })),
      ...triggers.map((x) => ({ label: `trigger ${x.name}`, drop: `drop trigger ${x.name} on ${x.table}` })),
    ];
  } finally {
    await db.close();
  }
}

interface RunResult {
  writeMsPerPage: number;
  pgCpuMsPerPage: number;
  ownCpuMsPerPage: number;
  invoicesPerSecond: number;
  times: StatementTimes;
}

async function writeAll(
  variant: Variant,
  contacts: ContactRow[],
  classified: ClassifiedPage[],
  tails: string[][],
  invoices: number,
): Promise<RunResult> {
  const url = await createDatabase('pw');
  const db = createDb(url, { max: 1 });
  try {
    if (variant.drop) await db.sql.unsafe(variant.drop);
    const accountId = 'acct-profile';
    await ensureAccount(db.sql, accountId);
    await upsertSourceContacts(db.sql, accountId, SOURCE_SEVDESK, contacts);
    await analyzeSyncTables(db.sql);
    const [{ pid } = { pid: 0 }] = await db.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    if (process.env.PW_EXPLAIN) await explainOn(db.sql);
    const times = new StatementTimes();
    const sql = timedSql(db.sql, times);
    const cpu0 = processCpuMs(pid);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    for (const [i, c] of classified.entries()) {
      await writeInvoicePage(
        sql,
        {
          accountId,
          source: SOURCE_SEVDESK,
          amountBasis: 'gross',
          contacts: [],
          invoices: c.invoices,
          stornos: c.stornos,
          reminders: c.reminders,
          withdrawnIds: c.withdrawnIds,
          invalid: c.invalid,
          validIds: c.objectIds,
        },
        { statsExclude: new Set(tails[i]), deferValues: true },
      );
      await analyzeIfStale(db.sql);
    }
    const writeMs = performance.now() - t0;
    await db.sql.begin((tx) => recomputeAccountValues(tx, accountId, 0));
    const totalMs = performance.now() - t0;
    const own = process.cpuUsage(own0);
    const n = classified.length;
    return {
      writeMsPerPage: writeMs / n,
      pgCpuMsPerPage: (processCpuMs(pid) - cpu0) / n,
      ownCpuMsPerPage: (own.user + own.system) / 1000 / n,
      invoicesPerSecond: (invoices / totalMs) * 1000,
      times,
    };
  } finally {
    await db.close();
    await dropDatabase(url);
  }
}

async function explainOn(sql: Sql): Promise<void> {
  await sql`load 'auto_explain'`;
  await sql`set auto_explain.log_min_duration = 4`;
  await sql`set auto_explain.log_analyze = on`;
  await sql`set auto_explain.log_triggers = on`;
  await sql`set auto_explain.log_nested_statements = on`;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      invoices: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '2' },
      costs: { type: 'boolean', default: false },
    },
  });
  const invoices = Number(values.invoices);
  const rounds = Number(values.rounds);
  const sandbox = await startSandbox({ seed: 7, data: { invoices } });
  const client = createSevdeskClient({ baseUrl: sandbox.url, token: sandbox.token });
  const contacts = (await fetchAllContacts(client)).rows;
  const classified: ClassifiedPage[] = [];
  const tails: string[][] = [[]];
  for (let offset = 0; ;) {
    const page = await client.listInvoices({ offset, limit: IMPORT_PAGE_SIZE, countAll: true });
    classified.push(classifyPage(page, 'EUR'));
    tails.push(page.objects.slice(-PAGE_OVERLAP).map((o) => o.id));
    if (page.rawCount < IMPORT_PAGE_SIZE) break;
    offset = Math.max(0, offset + page.rawCount - PAGE_OVERLAP);
  }
  await sandbox.close();
  const full: RunResult[] = [];
  const run = (v: Variant) => writeAll(v, contacts, classified, tails, invoices);
  for (let round = 1; round <= rounds; round++) {
    const r = await run({ label: 'full schema' });
    full.push(r);
    const n = classified.length;
    console.log(
      `round ${round}: ${n} pages of ${IMPORT_PAGE_SIZE}: write ${r.writeMsPerPage.toFixed(1)} ms/page, ` +
        `${Math.round(r.invoicesPerSecond)} invoices/s with the values; CPU per page: PostgreSQL ` +
        `${r.pgCpuMsPerPage.toFixed(1)} ms, this process ${r.ownCpuMsPerPage.toFixed(1)} ms`,
    );
    for (const t of r.times.top().slice(0, 16))
      console.log(
        `  ${(t.ms / n).toFixed(2).padStart(7)} ms/page ${(t.count / n).toFixed(1).padStart(5)}x  ${t.label}`,
      );
  }
  if (!values.costs) return;
  // Each object's cost: PostgreSQL CPU per page with it dropped, against the full schema's runs around it.
  const url = await createDatabase('pwschema');
  const variants = await costVariants(url);
  await dropDatabase(url);
  console.log(`\nwhat each object costs a page (PostgreSQL CPU, ms; full schema runs interleaved):`);
  for (const v of variants) {
    const without = await run(v);
    full.push(await run({ label: 'full schema' }));
    const base = median(full.map((r) => r.pgCpuMsPerPage));
    console.log(
      `  ${(base - without.pgCpuMsPerPage).toFixed(1).padStart(6)} ms  ${v.label} ` +
        `(without: ${without.pgCpuMsPerPage.toFixed(1)}, full: median ${base.toFixed(1)} of ${full.length})`,
    );
  }
}

main()
  .then(() => closeDefaultDispatchers())
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
