import { ApplicationFailure } from '@temporalio/common';
import Decimal from 'decimal.js';
import {
  analyzeIfStale,
  analyzeSyncTables,
  recomputeAccountValues,
  upsertSourceContacts,
} from '../db/crm-writes';
import type { Checkpoint, WalkRef } from '../db/imports';
import {
  advanceCheckpoint,
  clearSeen,
  countSeen,
  createCheckpoint,
  failCheckpoint,
  finishCheckpoint,
  loadCheckpoint,
  lockCheckpoint,
  markDeleted,
  markReconciled,
  moveCursorAfterImport,
  recordSeen,
  reopenCheckpoint,
  saveCheckpointStats,
  sweepCandidates,
} from '../db/imports';
import type { InterfaceRecord } from '../db/interfaces';
import { loadInterface, recordSyncRun } from '../db/interfaces';
import { raiseContactCursor } from '../db/sync';
import type { ContactRow } from '../domain/contact';
import type { Page, SevdeskClient } from '../sevdesk/client';
import { SevdeskNotFoundError } from '../sevdesk/errors';
import type { Invoice } from '../sevdesk/schema';
import type { ImportStats } from '../shared';
import { ErrorTypes, SOURCE_SEVDESK } from '../shared';
import type { ActivityDeps } from './account-sync';
import { checkCompany } from './company';
import { DEFAULT_OVERLAP_SECONDS, openInterface, toFailure } from './account-sync';
import { withHeartbeat } from './heartbeat';
import { classifyAhead, pageContext, processInvoicePage } from './pages';
import { fetchAllContacts } from './sevdesk-reads';

export type { ImportStats } from '../shared';

export const IMPORT_PAGE_SIZE = 1000;
/** Each page re-reads a few rows of the previous one: a row deleted meanwhile cannot make the walk skip one. */
export const PAGE_OVERLAP = 20;
/** How long pages fetched ahead wait for the walk's next batch on the same worker. */
const CARRY_MS = 30_000;
/** One importPages call returns after about this long, so that the workflow's progress stays fresh. */
export const IMPORT_BATCH_BUDGET_MS = 2000;
/** Pages of one import fetched ahead of the one being written (SEVSYNC_IMPORT_WINDOW; 1: one at a time). */
export const DEFAULT_IMPORT_WINDOW = 4;
/** Each page request starts PAGE_OVERLAP rows before the page's offset (offset 0 starts at 0). */
const requestOffsetOf = (offset: number) => Math.max(0, offset - PAGE_OVERLAP);
/** A walk that saw fewer invoices than sevDesk counts walks again, this many times in all before it stops. */
export const MAX_WALK_PASSES = 3;
/** GET /Invoice/{id} requests a reconcile may spend confirming that candidates are really gone. */
export const CONFIRM_BUDGET = 200;
/** A sweep removing more than this share (and more than HOLD_MIN invoices) waits for an operator. */
export const HOLD_SHARE = 0.05;
export const HOLD_MIN = 20;

export type ImportRef = WalkRef;

export interface ImportPagesResult extends ImportPageResult {
  /** Pages written by this call. */
  pages: number;
}

export interface ImportPageResult {
  nextOffset: number;
  done: number;
  total: number | null;
  finished: boolean;
  /** Only when the walk has been stopped because the interface was deactivated mid-page. */
  paused: boolean;
  /** The walk's pass: a new pass starts again at offset 0. */
  pass: number;
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
  pass: 1,
});

/**
 * A walk may end only when it has seen as many distinct invoices as sevDesk counts, re-checked at the end.
 * Falling short, it walks again (rows shift while people work, or a page glitched); the same small
 * shortfall twice is sevDesk's own count being off, recorded as a discrepancy; anything else stops the walk.
 */
function judgeShortfall(
  stats: ImportStats,
  seen: number,
  total: number,
): 'complete' | 'discrepancy' | 'again' | 'stop' {
  if (seen >= total) return 'complete';
  const shortfalls = stats.shortfalls ?? [];
  const small = total - seen <= Math.max(2, Math.ceil(total * 0.001));
  if (small && shortfalls.at(-1) === `${seen}/${total}`) return 'discrepancy';
  return shortfalls.length + 1 >= MAX_WALK_PASSES ? 'stop' : 'again';
}

export function createImportActivities(deps: ActivityDeps) {
  const overlap = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  /**
   * Pages a batch had asked for ahead when its budget ran out, for the walk's next batch if it runs on this
   * worker (keyed by walk, pass, offset and token). Unclaimed ones expire; elsewhere they are fetched again.
   */
  const carried = new Map<string, { page: Promise<Page<Invoice>>; at: number }>();
  const carryKey = (ref: ImportRef, iface: InterfaceRecord, pass: number, offset: number) =>
    `${ref.accountId}|${ref.importId}|${pass}|${offset}|${iface.baseUrl}|${iface.tokenCiphertext}`;
  /** Dry runs write nothing, so their contacts live in the worker's memory for the length of the import. */
  const dryRunContacts = new Map<string, Map<string, ContactRow>>();
  /** Pages of one import in flight (invoice pages ahead of the one written; contact pages at its start). */
  const window = Math.max(1, deps.importWindow ?? DEFAULT_IMPORT_WINDOW);

  async function dryRunCache(ref: ImportRef, client: SevdeskClient) {
    let cache = dryRunContacts.get(ref.importId);
    if (!cache) {
      const all = await fetchAllContacts(client, { concurrency: window });
      cache = new Map(all.rows.map((r) => [r.source_id, r]));
      dryRunContacts.set(ref.importId, cache);
    }
    return cache;
  }

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
      if (fresh && iface.active && !ref.dryRun) {
        // The walk's first invoice page is asked for while the contacts load, for the first batch to take
        // over (as pages fetched ahead are); on another worker it is fetched again there.
        const page = client.listInvoices({ offset: 0, limit: IMPORT_PAGE_SIZE, countAll: true });
        page.catch(() => {});
        carried.set(carryKey(ref, iface, 1, 0), { page, at: Date.now() });
      }
      try {
        if (ref.dryRun) await dryRunCache(ref, client);
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
      // Its 30 s to be taken over count from now: loading many contacts may take longer than that.
      const first = carried.get(carryKey(ref, iface, 1, 0));
      if (first) first.at = Date.now();
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
        return await walkPage(ref, report, await openInterface(deps, ref.accountId));
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
      const keyOf = (pass: number, o: number) => carryKey(ref, iface, pass, o);
      for (const [k, v] of carried) if (started - v.at > CARRY_MS) carried.delete(k);
      const fresh = (o: number) =>
        session.client.listInvoices({ offset: requestOffsetOf(o), limit: IMPORT_PAGE_SIZE, countAll: true });
      const ahead = new Map<number, Promise<Page<Invoice>>>();
      const fetchAt = (pass: number, o: number) => {
        let p = ahead.get(o);
        if (!p) {
          const c = carried.get(keyOf(pass, o));
          carried.delete(keyOf(pass, o));
          // A page the previous batch asked for: taken over (asked again if that request failed).
          p = c ? c.page.catch(() => fresh(o)) : fresh(o);
          // Awaited in order below; one that fails ahead of time fails its own page then, not the batch now.
          p.catch(() => {});
          // Classified as soon as it arrives, while the page before it is being written.
          classifyAhead(p, iface.baseCurrency);
          ahead.set(o, p);
        }
        return p;
      };
      let offset = ref.offset;
      const pass = ref.pass ?? 1;
      let pages = 0;
      let carry = false;
      // ANALYZE after a page runs while the next page is written (it does not block writes), one at a time;
      // the batch returns only once the last one is done.
      let analyzing: Promise<unknown> = Promise.resolve();
      const analyze = () => {
        analyzing = analyzing.then(() => analyzeIfStale(deps.sql));
      };
      // The count so far bounds the prefetch; a retry after pages were written goes on from the checkpoint.
      const cp = await loadCheckpoint(deps.sql, ref);
      if (cp && ((cp.stats.pass ?? 1) !== pass || cp.nextOffset > offset || cp.state === 'walked'))
        return { ...fromCheckpoint(cp), pages };
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
          void fetchAt(pass, o);
          o = requestOffsetOf(o) + IMPORT_PAGE_SIZE;
        }
      };
      const walk = async (): Promise<ImportPagesResult> => {
        for (;;) {
          topUp();
          const at = offset;
          const res = await walkPage({ ...ref, offset, pass }, report, {
            ...session,
            analyze,
            fetch: async () => {
              const page = await fetchAt(pass, at);
              // The first page brings the count: the rest of the window is asked for while it is written.
              if (total === null && page.total !== null) {
                total = page.total;
                topUp();
              }
              return page;
            },
          });
          ahead.delete(offset);
          if (res.paused && !ref.dryRun) await recomputeAccountValues(deps.sql, ref.accountId);
          if (!res.paused) pages += 1;
          total = res.total ?? total;
          const expected = requestOffsetOf(offset) + IMPORT_PAGE_SIZE;
          const out = { ...res, pages };
          if (res.finished || res.paused || res.pass !== pass || res.nextOffset !== expected) return out;
          offset = res.nextOffset;
          // Pages or time budget spent: the pages asked for ahead wait for the next batch (on this worker).
          if (pages >= maxPages || Date.now() - started >= (ref.budgetMs ?? IMPORT_BATCH_BUDGET_MS)) {
            carry = true;
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
        if (carry) for (const [o, page] of ahead) carried.set(keyOf(pass, o), { page, at: Date.now() });
        ahead.clear();
      }
    });
  }

  const fromCheckpoint = (cp: Checkpoint): ImportPageResult => ({
    nextOffset: cp.nextOffset,
    done: cp.done,
    total: cp.total,
    finished: cp.state === 'walked',
    paused: false,
    pass: cp.stats.pass ?? 1,
  });

  async function walkPage(
    ref: ImportRef & { offset: number; pass?: number },
    report: (details: { offset: number; stage: string }) => void,
    session: {
      iface: InterfaceRecord;
      client: SevdeskClient;
      fetch?: () => Promise<Page<Invoice>>;
      /** Runs analyzeIfStale alongside the next page (the caller awaits it); absent: awaited here. */
      analyze?: () => void;
    },
  ): Promise<ImportPageResult> {
    const { iface, client } = session;
    const pass = ref.pass ?? 1;
    // A dry run writes nothing and may preview an interface that is not active yet.
    if (!iface.active && !ref.dryRun) {
      return { nextOffset: ref.offset, done: ref.offset, total: null, finished: false, paused: true, pass };
    }
    const cp = await loadCheckpoint(deps.sql, ref);
    if (!cp) {
      throw ApplicationFailure.create({
        type: 'ImportCheckpointMissing',
        message: `import ${ref.importId} of account ${ref.accountId} has no checkpoint (was the interface removed?)`,
        nonRetryable: true,
      });
    }
    // A retry after the page was written and checkpointed, or a walk that started a new pass: go from there.
    if ((cp.stats.pass ?? 1) !== pass || cp.nextOffset > ref.offset || cp.state === 'walked')
      return fromCheckpoint(cp);

    const requestOffset = requestOffsetOf(ref.offset);
    const page = session.fetch
      ? await session.fetch()
      : await client.listInvoices({ offset: requestOffset, limit: IMPORT_PAGE_SIZE, countAll: true });
    report({ offset: ref.offset, stage: 'fetched' });
    const end = requestOffset + page.rawCount;
    let stats: ImportStats = { ...cp.stats, pass };
    let walked = page.rawCount < IMPORT_PAGE_SIZE;
    if (walked && page.total !== null && end < page.total) {
      // Short before the total: a glitch until the same answer comes twice at the same offset.
      const prev = stats.shortPage;
      if (!prev || prev.offset !== requestOffset || prev.rawCount !== page.rawCount) {
        const shortPage = { offset: requestOffset, rawCount: page.rawCount, total: page.total };
        await saveCheckpointStats(deps.sql, ref, { ...stats, shortPage });
        throw ApplicationFailure.create({
          type: ErrorTypes.shortPage,
          message:
            `sevDesk sent ${page.rawCount} invoices at offset ${requestOffset} although it counts ${page.total}: ` +
            'reading the page again',
        });
      }
    }
    stats.shortPage = null;
    await checkCompany(deps.sql, ref.accountId, page.objects, {
      bind: !ref.dryRun,
      bound: iface.sevdeskClientId,
    });

    const ctx = pageContext(deps.sql, client, iface);
    const contacts = ref.dryRun ? contactsFor(await dryRunCache(ref, client), page.objects) : [];
    const ids = page.objects.map((o) => o.id).concat(page.invalid.flatMap((x) => (x.id ? [x.id] : [])));
    // The ids the walk saw go in on a connection of their own while the page is written (a set: a retry
    // records them again harmlessly); both are settled before the checkpoint moves, or before a failure
    // is thrown, so that nothing of this page is still running when the activity ends.
    const [written, seen] = await Promise.allSettled([
      // Overlap rows are written again (harmless) but were counted by the page before.
      processInvoicePage(ctx, page, {
        dryRun: ref.dryRun,
        contacts,
        statsExclude: new Set(stats.tailIds ?? []),
        deferValues: !ref.dryRun,
      }),
      recordSeen(deps.sql, ref, ids),
    ]);
    if (written.status === 'rejected') throw written.reason;
    if (seen.status === 'rejected') throw seen.reason;
    const out = written.value;
    stats = addPage(stats, out, page.objects.slice(-PAGE_OVERLAP));
    let nextOffset = end;
    if (walked) {
      const verdict = await verifyWalk(ref, client, stats, page.total);
      stats = verdict.stats;
      if (verdict.again) {
        nextOffset = 0;
        walked = false;
      }
    }
    await advanceCheckpoint(deps.sql, ref, {
      nextOffset,
      total: page.total,
      stats,
      maxUpdate: out.maxUpdate,
      walked,
    });
    report({ offset: nextOffset, stage: 'written' });
    if (!ref.dryRun) {
      if (session.analyze) session.analyze();
      else await analyzeIfStale(deps.sql);
    }
    return {
      nextOffset,
      done: nextOffset,
      total: page.total,
      finished: walked,
      paused: false,
      pass: stats.pass ?? pass,
    };
  }

  /** The end of a pass: count what the walk saw against a fresh count from sevDesk. */
  async function verifyWalk(
    ref: ImportRef,
    client: SevdeskClient,
    stats: ImportStats,
    pageTotal: number | null,
  ): Promise<{ stats: ImportStats; again: boolean }> {
    const stored = await countSeen(deps.sql, ref);
    const recount = await client.listInvoices({ offset: 0, limit: 1, countAll: true });
    const total = recount.total ?? pageTotal ?? stored;
    const pass = stats.pass ?? 1;
    switch (judgeShortfall(stats, stored, total)) {
      case 'complete':
        return { stats, again: false };
      case 'discrepancy':
        return {
          stats: {
            ...stats,
            discrepancy:
              `sevDesk counts ${total} invoices but served ${stored} distinct ones, twice in a row ` +
              `(pass ${pass}); the walk ended there`,
          },
          again: false,
        };
      case 'again':
        // The next pass reads everything again, so its figures start from zero (`written` adds up).
        return {
          stats: {
            ...emptyStats(),
            written: stats.written,
            pass: pass + 1,
            shortfalls: [...(stats.shortfalls ?? []), `${stored}/${total}`],
            tailIds: [],
          },
          again: true,
        };
      case 'stop': {
        const message =
          `the walk saw ${stored} of the ${total} invoices sevDesk counts, in ${pass} passes; ` +
          'stopped so that nothing is taken for complete (import start resumes it)';
        await saveCheckpointStats(
          deps.sql,
          ref,
          { ...stats, pass: pass + 1, shortfalls: [], tailIds: [], error: message },
          0,
        );
        throw ApplicationFailure.create({ type: 'SevdeskWalkIncomplete', message, nonRetryable: true });
      }
    }
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
        dryRunContacts.delete(ref.importId);
        return stats;
      }
      let confirmed: string[] = [];
      if (!ref.dryRun && ref.kind === 'reconcile') {
        const { client } = await openInterface(deps, ref.accountId);
        confirmed = await sweep(ref, client, stats);
      }
      await deps.sql.begin(async (tx) => {
        const again = await lockCheckpoint(tx, ref);
        if (again?.state === 'done') return;
        if (!ref.dryRun) {
          await recomputeAccountValues(tx, ref.accountId);
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
          error: stats.discrepancy ? { type: 'SevdeskCountMismatch', message: stats.discrepancy } : null,
        });
      });
      dryRunContacts.delete(ref.importId);
      return (await loadCheckpoint(deps.sql, ref))?.stats ?? stats;
    });
  }

  /**
   * What a complete reconcile walk did not see. Never on a hunch: only after a walk that reached sevDesk's
   * count, each candidate confirmed gone by its own GET (404), and a sweep that would remove a large share of
   * the account is held for an operator (`sevsync reconcile --confirm`): another company's token looks the same.
   */
  async function sweep(ref: ImportRef, client: SevdeskClient, stats: ImportStats): Promise<string[]> {
    const { ids, live } = await sweepCandidates(deps.sql, ref);
    const result = {
      candidates: ids.length,
      confirmedDeleted: 0,
      stillThere: 0,
      unconfirmed: 0,
      skipped: null,
    };
    stats.sweep = result;
    if (stats.discrepancy) {
      stats.sweep = { ...result, unconfirmed: ids.length, skipped: 'the walk was not provably complete' };
      return [];
    }
    if (ids.length > HOLD_MIN && ids.length > live * HOLD_SHARE) {
      stats.held = { ids, count: ids.length, total: live, heldAt: new Date().toISOString() };
      stats.sweep = {
        ...result,
        unconfirmed: ids.length,
        skipped: `held: ${ids.length} of ${live} invoices would go; confirm with sevsync reconcile --confirm`,
      };
      return [];
    }
    const gone: string[] = [];
    const found: Invoice[] = [];
    for (const id of ids.slice(0, CONFIRM_BUDGET)) {
      try {
        found.push(await client.getInvoice(id));
      } catch (err) {
        // Only sevDesk's own 404 says gone: an empty 200 or any other answer is a glitch, not a deletion.
        if (err instanceof SevdeskNotFoundError && err.status === 404) gone.push(id);
        else result.unconfirmed += 1;
      }
    }
    result.unconfirmed += Math.max(0, ids.length - CONFIRM_BUDGET);
    result.confirmedDeleted = gone.length;
    result.stillThere = found.length;
    if (found.length > 0) {
      await checkCompany(deps.sql, ref.accountId, found);
      // Still in sevDesk, only missed by the list: written again, so they are current.
      const { iface } = await openInterface(deps, ref.accountId);
      await processInvoicePage(pageContext(deps.sql, client, iface), {
        objects: found,
        invalid: [],
        rawCount: found.length,
        total: null,
      });
    }
    return gone;
  }

  /** The workflow gave up on a page: the checkpoint says so, and `import start` resumes from it. */
  async function failImport(ref: ImportRef & { message: string }): Promise<void> {
    await failCheckpoint(deps.sql, ref, ref.message);
    // The pages written so far count from now on, not only once a resumed walk finishes.
    if (!ref.dryRun) await recomputeAccountValues(deps.sql, ref.accountId);
  }

  return { beginImport, importPage, importPages, finishImport, failImport };
}

function contactsFor(cache: Map<string, ContactRow>, invoices: Invoice[]): ContactRow[] {
  const ids = new Set(invoices.flatMap((i) => (i.contact ? [i.contact.id] : [])));
  return [...ids].flatMap((id) => cache.get(id) ?? []);
}

function addPage(
  prev: ImportStats,
  out: Awaited<ReturnType<typeof processInvoicePage>>,
  tail: Invoice[],
): ImportStats {
  const reasons = { ...prev.unassignedReasons };
  for (const [k, v] of Object.entries(out.unassignedReasons)) reasons[k] = (reasons[k] ?? 0) + v;
  return {
    ...prev,
    invoices: prev.invoices + out.assigned + out.unassigned,
    assigned: prev.assigned + out.assigned,
    unassigned: prev.unassigned + out.unassigned,
    invalid: prev.invalid + out.invalid,
    unassignedReasons: reasons,
    openSum: new Decimal(prev.openSum).plus(out.openSum).toFixed(2),
    paidSum: new Decimal(prev.paidSum).plus(out.paidSum).toFixed(2),
    written: prev.written + out.written,
    tailIds: tail.map((o) => o.id),
  };
}
