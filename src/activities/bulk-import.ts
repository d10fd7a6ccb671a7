// The walk activities of an import or reconcile: begin (checkpoint and contacts), pages in batches through
// the page window, finish (sweep, values, cursor), fail. The page itself is walk.ts, the window
// page-window.ts, the sweep reconcile.ts.
import { upsertSourceContacts } from '../db/customers';
import { lockAccountEvents } from '../db/events';
import {
  clearSeen,
  createCheckpoint,
  recomputeWalkValues,
  failCheckpoint,
  finishCheckpoint,
  loadCheckpoint,
  lockCheckpoint,
  markDeleted,
  markReconciled,
  moveCursorAfterImport,
  reopenCheckpoint,
} from '../db/imports';
import { loadInterface, recordSyncRun } from '../db/interfaces';
import { analyzeIfStale, analyzeSyncTables } from '../db/statistics';
import { raiseContactCursor } from '../db/sync';
import type { ImportStats } from '../shared';
import { ErrorTypes, SOURCE_SEVDESK } from '../shared';
import type { ActivityDeps } from './deps';
import { DEFAULT_OVERLAP_SECONDS, openInterface, toFailure } from './deps';
import { DryRunContacts } from './dry-run-contacts';
import { withHeartbeat } from './heartbeat';
import type { BatchKey } from './page-window';
import { HELD_WALKS, PageWindow } from './page-window';
import { pageContext } from './pages';
import { sweep } from './reconcile';
import { fetchAllContacts } from './sevdesk-reads';
import type { ImportPageResult, ImportRef } from './walk';
import {
  checkpointAhead,
  emptyStats,
  fromCheckpoint,
  IMPORT_PAGE_SIZE,
  requestOffsetOf,
  walkPage,
} from './walk';

// What the benches, the CLI and the tests import from here.
export type { ImportStats } from '../shared';
export type { ImportPageResult, ImportRef } from './walk';
export { IMPORT_PAGE_SIZE, PAGE_OVERLAP } from './walk';

/** One importPages call returns after about this long, so that the workflow's progress stays fresh. */
export const IMPORT_BATCH_BUDGET_MS = 2000;
/** Pages of one import fetched ahead of the one being written (SEVSYNC_IMPORT_WINDOW; 1: one at a time). */
export const DEFAULT_IMPORT_WINDOW = 4;

export interface ImportPagesResult extends ImportPageResult {
  /** Pages written by this call. */
  pages: number;
}

export function createImportActivities(deps: ActivityDeps) {
  const overlap = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  /** Pages of one import in flight (invoice pages ahead of the one written; contact pages at its start). */
  const window = Math.max(1, deps.importWindow ?? DEFAULT_IMPORT_WINDOW);
  const pageWindow = new PageWindow(window * HELD_WALKS);
  const dryRunContacts = new DryRunContacts(window);
  const walkDeps = { sql: deps.sql, dryRunContacts };
  const batchKey = (ref: ImportRef, iface: { baseUrl: string; tokenCiphertext: string }, pass: number) => ({
    accountId: ref.accountId,
    importId: ref.importId,
    pass,
    baseUrl: iface.baseUrl,
    tokenCiphertext: iface.tokenCiphertext,
  });

  /** Creates (or finds, when resumed) the checkpoint and loads every contact once for the whole walk. */
  async function beginImport(
    ref: ImportRef,
  ): Promise<{ nextOffset: number; done: number; total: number | null; pass: number }> {
    return withHeartbeat(async () => {
      const { client, iface } = await openInterface(deps, ref.accountId);
      await createCheckpoint(deps.sql, ref, emptyStats());
      await reopenCheckpoint(deps.sql, ref);
      const cp = await loadCheckpoint(deps.sql, ref);
      const fresh = (cp?.nextOffset ?? 0) === 0 && (cp?.stats.pass ?? 1) === 1;
      const first: BatchKey = batchKey(ref, iface, 1);
      if (fresh && iface.active && !ref.dryRun) {
        // The walk's first invoice page is asked for while the contacts load, for the first batch to take
        // over (as pages fetched ahead are); on another worker it is fetched again there.
        pageWindow.hold(
          first,
          0,
          client.listInvoices({ offset: 0, limit: IMPORT_PAGE_SIZE, countAll: true }),
        );
      }
      try {
        if (ref.dryRun) await dryRunContacts.load(ref.importId, client);
        else if ((cp?.nextOffset ?? 0) === 0) {
          // The import's window bounds the contact pages in flight too (1: one page at a time).
          const all = await fetchAllContacts(client, { concurrency: window });
          await upsertSourceContacts(deps.sql, ref.accountId, SOURCE_SEVDESK, all.rows);
          await analyzeSyncTables(deps.sql);
          await raiseContactCursor(deps.sql, ref.accountId, all.maxUpdate);
        }
      } catch (err) {
        throw toFailure(err);
      }
      // Its wait counts from now: loading many contacts may take longer than that.
      pageWindow.touch(first, 0);
      return {
        nextOffset: cp?.nextOffset ?? 0,
        done: cp?.done ?? 0,
        total: cp?.total ?? null,
        pass: cp?.stats.pass ?? 1,
      };
    });
  }

  /** One page: fetched and written, then the checkpoint moves on (histories from before the window). */
  async function importPage(ref: ImportRef & { offset: number; pass?: number }): Promise<ImportPageResult> {
    return withHeartbeat(async (report) => {
      try {
        return await walkPage(walkDeps, ref, report, await openInterface(deps, ref.accountId));
      } catch (err) {
        throw toFailure(err);
      }
    });
  }

  /**
   * Pages of the walk in order, a window of them fetched ahead (bounded by the per-token request limit),
   * each written and checkpointed before the next: a retry goes on from the last page written. Returns
   * after `maxPages` pages or `budgetMs` (so that the workflow's progress stays fresh), at the end of a
   * pass, on a pause, or when the interface's token or address changed.
   */
  async function importPages(
    ref: ImportRef & { offset: number; pass?: number; maxPages?: number; budgetMs?: number },
  ): Promise<ImportPagesResult> {
    return withHeartbeat(async (report) => {
      const started = Date.now();
      const session = await openInterface(deps, ref.accountId).catch((err: unknown) => {
        throw toFailure(err);
      });
      const { iface } = session;
      let offset = ref.offset;
      const pass = ref.pass ?? 1;
      const batch = pageWindow.batch(batchKey(ref, iface, pass), iface.baseCurrency, (o) =>
        session.client.listInvoices({ offset: requestOffsetOf(o), limit: IMPORT_PAGE_SIZE, countAll: true }),
      );
      let pages = 0;
      let handOver = false;
      // ANALYZE after a page runs while the next page is written (it does not block writes), one at a time;
      // the batch returns only once the last one is done.
      let analyzing: Promise<unknown> = Promise.resolve();
      const analyze = () => {
        analyzing = analyzing.then(() => analyzeIfStale(deps.sql));
      };
      // The count so far bounds the prefetch; a retry after pages were written goes on from the checkpoint.
      const cp = await loadCheckpoint(deps.sql, ref);
      if (cp && checkpointAhead(cp, offset, pass)) return { ...fromCheckpoint(cp), pages };
      let total: number | null = cp?.total ?? null;
      // The walk's first page comes alone: the workflow learns sevDesk's count (the progress bar) at once.
      const maxPages = offset === 0 && pass === 1 ? 1 : (ref.maxPages ?? 50);
      // Deactivated: nothing is fetched (walkPage answers `paused` before any request).
      const depth = iface.active || ref.dryRun ? window : 0;
      // The window from the page to write on, as far as the count goes; before the count is known only that
      // page (an account with one page of invoices asks for nothing more). Pages past this batch's last are
      // handed to the next batch when it returns for its page or time budget.
      const topUp = () => {
        for (let k = 0, o = offset; k < (total === null ? Math.min(1, depth) : depth); k++) {
          if (total !== null && o >= total) break;
          void batch.fetch(o);
          o = requestOffsetOf(o) + IMPORT_PAGE_SIZE;
        }
      };
      const walk = async (): Promise<ImportPagesResult> => {
        for (;;) {
          topUp();
          const at = offset;
          const res = await walkPage(walkDeps, { ...ref, offset, pass }, report, {
            ...session,
            analyze,
            fetch: async () => {
              const page = await batch.fetch(at);
              // The first page brings the count: the rest of the window is asked for while it is written.
              if (total === null && page.total !== null) {
                total = page.total;
                topUp();
              }
              return page;
            },
            classify: (page, baseCurrency) => batch.classified(at, page, baseCurrency),
          });
          batch.done(offset);
          if (res.paused && !ref.dryRun) await deps.sql.begin((tx) => recomputeWalkValues(tx, ref));
          if (!res.paused) pages += 1;
          total = res.total ?? total;
          const expected = requestOffsetOf(offset) + IMPORT_PAGE_SIZE;
          const out = { ...res, pages };
          if (res.finished || res.paused || res.pass !== pass || res.nextOffset !== expected) return out;
          offset = res.nextOffset;
          // Pages or time budget spent: the pages asked for ahead wait for the next batch (on this worker).
          if (pages >= maxPages || Date.now() - started >= (ref.budgetMs ?? IMPORT_BATCH_BUDGET_MS)) {
            handOver = true;
            return out;
          }
          const now = await loadInterface(deps.sql, ref.accountId);
          const same = now?.tokenCiphertext === iface.tokenCiphertext && now.baseUrl === iface.baseUrl;
          if (!same || !now.active) return out;
        }
      };
      try {
        const out = await walk();
        await analyzing;
        return out;
      } catch (err) {
        await analyzing.catch(() => undefined);
        throw toFailure(err);
      } finally {
        batch.close(handOver);
      }
    });
  }

  /**
   * Ends the walk: a reconcile removes what sevDesk provably no longer has; a real import moves the
   * incremental cursor to the newest `update` it saw, so the next sync re-reads only its overlap.
   * Idempotent: a retry after the final commit returns the stored figures and sweeps nothing.
   */
  async function finishImport(ref: ImportRef): Promise<ImportStats> {
    return withHeartbeat(async () => {
      const cp = await loadCheckpoint(deps.sql, ref);
      const stats: ImportStats = { ...(cp?.stats ?? emptyStats()) };
      if (!cp || cp.state === 'done') {
        dryRunContacts.forget(ref.importId);
        return stats;
      }
      let confirmed: string[] = [];
      if (!ref.dryRun && ref.kind === 'reconcile') {
        const { client } = await openInterface(deps, ref.accountId);
        confirmed = await sweep(deps.sql, ref, client, stats, async () => {
          const { iface } = await openInterface(deps, ref.accountId);
          return pageContext(deps.sql, client, iface);
        });
      }
      await deps.sql.begin(async (tx) => {
        await lockAccountEvents(tx, ref.accountId);
        const again = await lockCheckpoint(tx, ref);
        if (again?.state === 'done') return;
        if (!ref.dryRun) {
          await recomputeWalkValues(tx, ref);
          stats.deleted = await markDeleted(tx, ref.accountId, confirmed);
          if (ref.kind === 'reconcile') await markReconciled(tx, ref.accountId);
          else await moveCursorAfterImport(tx, ref, overlap);
        }
        await clearSeen(tx, ref);
        await finishCheckpoint(tx, ref, stats);
        await recordSyncRun(tx, {
          accountId: ref.accountId,
          kind: ref.kind,
          counts: {
            pages: cp.pages,
            fetched: cp.done,
            written: stats.written,
            unassigned: stats.unassigned,
            invalid: stats.invalid,
          },
          error: stats.discrepancy ? { type: ErrorTypes.countMismatch, message: stats.discrepancy } : null,
        });
      });
      dryRunContacts.forget(ref.importId);
      return (await loadCheckpoint(deps.sql, ref))?.stats ?? stats;
    });
  }

  /** The workflow gave up on a page: the checkpoint says so, and `import start` resumes it from there. */
  async function failImport(ref: ImportRef & { message: string }): Promise<void> {
    // A stopped dry run's contacts leave memory too; a resumed one loads them again.
    dryRunContacts.forget(ref.importId);
    await failCheckpoint(deps.sql, ref, ref.message);
    // The pages written so far count from now on, not only once a resumed walk finishes.
    if (!ref.dryRun) await deps.sql.begin((tx) => recomputeWalkValues(tx, ref));
  }

  return { beginImport, importPage, importPages, finishImport, failImport };
}
