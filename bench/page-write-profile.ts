// `npx tsx bench/page-write-profile.ts [--invoices N] [--rounds N]`: the database write of an import's pages
// alone. The pages are fetched and classified before the clock starts; then each round writes them all, page
// by page as the import does (customer values deferred to the end), into a fresh database through one
// connection, timing every statement and reading that backend's CPU from /proc.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IMPORT_PAGE_SIZE, PAGE_OVERLAP } from '../src/activities/bulk-import';
import { fetchAllContacts } from '../src/activities/sevdesk-reads';
import { createDb } from '../src/db/client';
import { recomputeAccountValues, upsertSourceContacts } from '../src/db/customers';
import { ensureAccount } from '../src/db/interfaces';
import { analyzeIfStale, analyzeSyncTables } from '../src/db/statistics';
import { writeInvoicePage } from '../src/db/page-write';
import { classifyPage } from '../src/domain/page';
import { createSevdeskClient, closeDefaultDispatchers } from '../src/sevdesk/client';
import type { Page } from '../src/sevdesk/paging';
import type { Invoice } from '../src/sevdesk/schema';
import { SOURCE_SEVDESK } from '../src/shared';
import { startSandbox } from '../sandbox/server';
import { createDatabase, dropDatabase } from './infra';
import { StatementTimes, timedSql } from './sql-timing';

const TICK_MS = 1000 / 100;

function backendCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { invoices: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '2' } },
  });
  const invoices = Number(values.invoices);
  const sandbox = await startSandbox({ seed: 7, data: { invoices } });
  const client = createSevdeskClient({ baseUrl: sandbox.url, token: sandbox.token });
  const contacts = (await fetchAllContacts(client)).rows;
  const pages: Page<Invoice>[] = [];
  for (let offset = 0; ;) {
    const page = await client.listInvoices({ offset, limit: IMPORT_PAGE_SIZE, countAll: true });
    pages.push(page);
    if (page.rawCount < IMPORT_PAGE_SIZE) break;
    offset = Math.max(0, offset + page.rawCount - PAGE_OVERLAP);
  }
  const classified = pages.map((p) => classifyPage(p, 'EUR'));
  await sandbox.close();
  for (let round = 1; round <= Number(values.rounds); round++) {
    const url = await createDatabase(`pw${round}`);
    const db = createDb(url, { max: 1 });
    try {
      const accountId = 'acct-profile';
      await ensureAccount(db.sql, accountId);
      await upsertSourceContacts(db.sql, accountId, SOURCE_SEVDESK, contacts);
      await analyzeSyncTables(db.sql);
      const [{ pid } = { pid: 0 }] = await db.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      if (process.env.PW_EXPLAIN) {
        await db.sql`load 'auto_explain'`;
        await db.sql`set auto_explain.log_min_duration = 4`;
        await db.sql`set auto_explain.log_analyze = on`;
        await db.sql`set auto_explain.log_triggers = on`;
        await db.sql`set auto_explain.log_nested_statements = on`;
      }
      const times = new StatementTimes();
      const sql = timedSql(db.sql, times);
      const cpu0 = backendCpuMs(pid);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      let tail: string[] = [];
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
          { statsExclude: new Set(tail), deferValues: true },
        );
        tail = pages[i]!.objects.slice(-PAGE_OVERLAP).map((o) => o.id);
        await analyzeIfStale(db.sql);
      }
      const writeMs = performance.now() - t0;
      await db.sql.begin((tx) => recomputeAccountValues(tx, accountId, 0));
      const totalMs = performance.now() - t0;
      const pgMs = backendCpuMs(pid) - cpu0;
      const own = process.cpuUsage(own0);
      const n = classified.length;
      console.log(
        `round ${round}: ${n} pages, write ${(writeMs / n).toFixed(1)} ms/page, with values ${(totalMs / 1000).toFixed(2)} s, ` +
          `${Math.round((invoices / totalMs) * 1000)} invoices/s; PostgreSQL CPU ${(pgMs / n).toFixed(1)} ms/page, ` +
          `this process ${((own.user + own.system) / 1000 / n).toFixed(1)} ms/page`,
      );
      for (const t of times.top().slice(0, 14))
        console.log(
          `  ${(t.ms / n).toFixed(2).padStart(7)} ms/page  ${(t.count / n).toFixed(1).padStart(4)}x  ${t.label}`,
        );
    } finally {
      await db.close();
      await dropDatabase(url);
    }
  }
  await closeDefaultDispatchers();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
