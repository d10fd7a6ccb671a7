import Decimal from 'decimal.js';
import type { Sql } from '../db/client';
import { analyzeSyncTables, recomputeCustomerValues, upsertSourceContacts } from '../db/crm-writes';
import { jsonb, recordSyncRun } from '../db/interfaces';
import type { ContactRow } from '../domain/contact';
import { SOURCE_SEVDESK } from '../shared';
import type { ActivityDeps } from './account-sync';
import { DEFAULT_OVERLAP_SECONDS, openInterface, toFailure } from './account-sync';
import { withHeartbeat } from './heartbeat';
import { processInvoicePage } from './pages';
import { fetchAllContacts } from './sevdesk-reads';

export const IMPORT_PAGE_SIZE = 1000;
/** Each page re-reads a few rows of the previous one: a row deleted meanwhile cannot make the walk skip one. */
export const PAGE_OVERLAP = 20;
const ANALYZE_EVERY_PAGES = 5;

export interface ImportRef {
  accountId: string;
  importId: string;
  kind: 'import' | 'reconcile';
  dryRun: boolean;
}

export interface ImportStats {
  invoices: number;
  assigned: number;
  unassigned: number;
  invalid: number;
  unassignedReasons: Record<string, number>;
  openSum: string;
  paidSum: string;
  written: number;
  deleted: number;
  /** Ids of the previous page's last rows, which the next page re-reads. */
  tailIds?: string[];
}

export interface ImportPageResult {
  nextOffset: number;
  done: number;
  total: number | null;
  finished: boolean;
  /** Only when the walk has been stopped because the interface was deactivated mid-page. */
  paused: boolean;
}

const emptyStats = (): ImportStats => ({
  invoices: 0,
  assigned: 0,
  unassigned: 0,
  invalid: 0,
  unassignedReasons: {},
  openSum: '0.00',
  paidSum: '0.00',
  written: 0,
  deleted: 0,
});

interface Checkpoint {
  next_offset: number;
  done: number;
  total: number | null;
  pages: number;
  state: string;
  stats: ImportStats;
}

async function loadCheckpoint(sql: Sql, ref: ImportRef): Promise<Checkpoint | undefined> {
  const [row] = await sql<Checkpoint[]>`
    select next_offset, done, total, pages, state, stats from import_checkpoints
    where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
  return row;
}

export function createImportActivities(deps: ActivityDeps) {
  const overlap = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  /** Dry runs write nothing, so their contacts live in the worker's memory for the length of the import. */
  const dryRunContacts = new Map<string, Map<string, ContactRow>>();

  /** Creates (or finds, when resumed) the checkpoint and loads every contact once for the whole walk. */
  async function beginImport(
    ref: ImportRef,
  ): Promise<{ nextOffset: number; done: number; total: number | null }> {
    return withHeartbeat(() => begin(ref));
  }

  async function begin(ref: ImportRef): Promise<{ nextOffset: number; done: number; total: number | null }> {
    const { client } = await openInterface(deps, ref.accountId);
    await deps.sql`
      insert into import_checkpoints (account_id, import_id, kind, dry_run, state, stats)
      values (${ref.accountId}, ${ref.importId}, ${ref.kind}, ${ref.dryRun}, 'running', ${jsonb(emptyStats())}::jsonb)
      on conflict (account_id, import_id) do nothing`;
    const cp = await loadCheckpoint(deps.sql, ref);
    try {
      if (ref.dryRun) {
        const all = await fetchAllContacts(client);
        dryRunContacts.set(ref.importId, new Map(all.rows.map((r) => [r.source_id, r])));
      } else if ((cp?.next_offset ?? 0) === 0) {
        const all = await fetchAllContacts(client);
        await upsertSourceContacts(deps.sql, ref.accountId, SOURCE_SEVDESK, all.rows);
        await analyzeSyncTables(deps.sql);
        await deps.sql`
          update interfaces set contact_cursor = greatest(coalesce(contact_cursor, 0), ${all.maxUpdate ?? 0})
          where account_id = ${ref.accountId} and provider = ${SOURCE_SEVDESK}`;
      }
    } catch (err) {
      throw toFailure(err);
    }
    return { nextOffset: cp?.next_offset ?? 0, done: cp?.done ?? 0, total: cp?.total ?? null };
  }

  /** One page: fetched and written in one transaction, then the checkpoint moves on. */
  async function importPage(ref: ImportRef & { offset: number }): Promise<ImportPageResult> {
    return withHeartbeat((report) => walkPage(ref, report));
  }

  async function walkPage(
    ref: ImportRef & { offset: number },
    report: (details: { offset: number; stage: string }) => void,
  ): Promise<ImportPageResult> {
    const { iface, client } = await openInterface(deps, ref.accountId);
    // A dry run writes nothing and may preview an interface that is not active yet.
    if (!iface.active && !ref.dryRun) {
      return { nextOffset: ref.offset, done: ref.offset, total: null, finished: false, paused: true };
    }
    const cp = await loadCheckpoint(deps.sql, ref);
    if (cp && cp.next_offset > ref.offset) {
      // A retry after the page was written and checkpointed: do not fetch it again.
      return {
        nextOffset: cp.next_offset,
        done: cp.done,
        total: cp.total,
        finished: cp.state === 'walked',
        paused: false,
      };
    }
    const requestOffset = Math.max(0, ref.offset - PAGE_OVERLAP);
    try {
      const page = await client.listInvoices({
        offset: requestOffset,
        limit: IMPORT_PAGE_SIZE,
        countAll: true,
      });
      report({ offset: ref.offset, stage: 'fetched' });
      let contacts: ContactRow[] = [];
      if (ref.dryRun) {
        let cache = dryRunContacts.get(ref.importId);
        if (!cache) {
          const all = await fetchAllContacts(client);
          cache = new Map(all.rows.map((r) => [r.source_id, r]));
          dryRunContacts.set(ref.importId, cache);
        }
        const ids = new Set(page.objects.flatMap((i) => (i.contact ? [i.contact.id] : [])));
        contacts = [...ids].flatMap((id) => cache.get(id) ?? []);
      }
      const ctx = {
        sql: deps.sql,
        client,
        accountId: ref.accountId,
        source: SOURCE_SEVDESK,
        amountBasis: iface.settings.amountBasis,
        baseCurrency: iface.baseCurrency,
      };
      // Overlap rows are written again (harmless) but were counted by the page before.
      const prevTail = new Set(cp?.stats.tailIds ?? []);
      const out = await processInvoicePage(ctx, page, {
        dryRun: ref.dryRun,
        contacts,
        statsExclude: prevTail,
      });
      const nextOffset = requestOffset + page.rawCount;
      const finished = page.rawCount < IMPORT_PAGE_SIZE;
      const prev = cp?.stats ?? emptyStats();
      const reasons = { ...prev.unassignedReasons };
      for (const [k, v] of Object.entries(out.unassignedReasons)) reasons[k] = (reasons[k] ?? 0) + v;
      const stats: ImportStats = {
        invoices: prev.invoices + out.assigned + out.unassigned,
        assigned: prev.assigned + out.assigned,
        unassigned: prev.unassigned + out.unassigned,
        invalid: prev.invalid + out.invalid,
        unassignedReasons: reasons,
        openSum: new Decimal(prev.openSum).plus(out.openSum).toFixed(2),
        paidSum: new Decimal(prev.paidSum).plus(out.paidSum).toFixed(2),
        written: prev.written + out.written,
        deleted: prev.deleted,
        tailIds: page.objects.slice(-PAGE_OVERLAP).map((o) => o.id),
      };
      await deps.sql.begin(async (tx) => {
        if (ref.kind === 'reconcile') {
          const ids = page.objects.map((o) => o.id).concat(page.invalid.flatMap((x) => (x.id ? [x.id] : [])));
          await tx`
            insert into walk_seen (account_id, walk_id, source_id)
            select ${ref.accountId}, ${ref.importId}, unnest(${ids}::text[]) on conflict do nothing`;
        }
        await tx`
          update import_checkpoints set next_offset = ${nextOffset}, done = ${nextOffset}, total = ${page.total},
            pages = pages + 1, stats = ${jsonb(stats)}::jsonb,
            max_update = greatest(coalesce(max_update, 0), ${out.maxUpdate ?? 0}),
            state = ${finished ? 'walked' : 'running'}, updated_at = now()
          where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
      });
      report({ offset: nextOffset, stage: 'written' });
      if (!ref.dryRun && ((cp?.pages ?? 0) + 1) % ANALYZE_EVERY_PAGES === 1)
        await analyzeSyncTables(deps.sql);
      return { nextOffset, done: nextOffset, total: page.total, finished, paused: false };
    } catch (err) {
      throw toFailure(err);
    }
  }

  /**
   * Ends the walk: a reconcile marks what sevDesk no longer has as deleted; a real import moves the
   * incremental cursor to the newest `update` it saw, so the next sync re-reads only its overlap.
   */
  async function finishImport(ref: ImportRef): Promise<ImportStats> {
    dryRunContacts.delete(ref.importId);
    // Idempotent: a retry after the commit below (worker or backend killed before the activity completed)
    // must not sweep again, now without the walk's seen ids, and mark every invoice deleted.
    return deps.sql.begin(async (tx) => {
      const [cp] = await tx<Checkpoint[]>`
        select next_offset, done, total, pages, state, stats from import_checkpoints
        where account_id = ${ref.accountId} and import_id = ${ref.importId} for update`;
      const stats = cp?.stats ?? emptyStats();
      if (cp?.state === 'done') return stats;
      if (!ref.dryRun && ref.kind === 'reconcile') {
        const gone = await tx<{ customer_id: number | null }[]>`
          update invoices i set removed_at = now(), removed_reason = 'deleted', updated_at = now()
          where i.account_id = ${ref.accountId} and i.source = ${SOURCE_SEVDESK} and i.removed_at is null
            and not exists (select 1 from walk_seen w where w.account_id = i.account_id
              and w.walk_id = ${ref.importId} and w.source_id = i.source_id)
          returning i.customer_id`;
        stats.deleted = gone.length;
        await recomputeCustomerValues(
          tx,
          ref.accountId,
          gone.flatMap((g) => (g.customer_id === null ? [] : [Number(g.customer_id)])),
        );
        await tx`delete from walk_seen where account_id = ${ref.accountId} and walk_id = ${ref.importId}`;
        await tx`update interfaces set last_reconciled_at = now() where account_id = ${ref.accountId} and provider = ${SOURCE_SEVDESK}`;
      }
      if (!ref.dryRun) {
        // The newest `update` the walk read, but never past its own start (minus the overlap): a change to an
        // invoice the walk had already passed is then still re-read by the next incremental sync.
        await tx`
          update interfaces i set invoice_cursor = greatest(coalesce(i.invoice_cursor, 0),
            least(c.max_update, extract(epoch from c.started_at)::bigint - ${overlap})), updated_at = now()
          from import_checkpoints c
          where c.account_id = ${ref.accountId} and c.import_id = ${ref.importId} and c.max_update is not null
            and i.account_id = c.account_id and i.provider = ${SOURCE_SEVDESK}`;
      }
      await tx`
        update import_checkpoints set state = 'done', stats = ${jsonb(stats)}::jsonb, finished_at = now(), updated_at = now()
        where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
      await recordSyncRun(tx, {
        accountId: ref.accountId,
        kind: ref.kind,
        counts: {
          pages: cp?.pages ?? 0,
          fetched: cp?.done ?? 0,
          written: stats.written,
          unassigned: stats.unassigned,
          invalid: stats.invalid,
        },
        error: null,
      });
      return stats;
    }) as Promise<ImportStats>;
  }

  return { beginImport, importPage, finishImport };
}
