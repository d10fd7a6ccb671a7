// One page of an import or reconcile walk, and the checks that say when a walk is done: a short page is
// read again before it counts, and a walk ends only once it has seen as many invoices as sevDesk counts
// (docs/architecture.md, "Invariants").
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/client';
import type { Checkpoint, WalkRef } from '../db/imports';
import { advanceCheckpoint, countSeen, loadCheckpoint, recordSeen, saveCheckpointStats } from '../db/imports';
import type { InterfaceRecord } from '../db/interfaces';
import { analyzeIfStale } from '../db/statistics';
import type { ClassifiedPage } from '../domain/page';
import { addPageStats } from '../domain/page-stats';
import type { Page, SevdeskClient } from '../sevdesk/client';
import type { Invoice } from '../sevdesk/schema';
import type { ImportStats } from '../shared';
import { ErrorTypes } from '../shared';
import { checkCompany } from './company';
import type { DryRunContacts } from './dry-run-contacts';
import type { PageOutcome } from './pages';
import { pageContext, processInvoicePage } from './pages';

export const IMPORT_PAGE_SIZE = 1000;
/** Each page re-reads a few rows of the previous one: a row deleted meanwhile cannot make the walk skip one. */
export const PAGE_OVERLAP = 20;
/** Each page request starts PAGE_OVERLAP rows before the page's offset (offset 0 starts at 0). */
export const requestOffsetOf = (offset: number): number => Math.max(0, offset - PAGE_OVERLAP);
/** A walk that saw fewer invoices than sevDesk counts walks again, this many times in all before it stops. */
export const MAX_WALK_PASSES = 3;

export type ImportRef = WalkRef;

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

/** What one page of a walk needs besides the walk itself. */
export interface WalkSession {
  iface: InterfaceRecord;
  client: SevdeskClient;
  /** The page from the batch's window; absent: asked for here. */
  fetch?: () => Promise<Page<Invoice>>;
  /** The page's classification as the batch's window made it ahead; absent: made by the write. */
  classify?: (page: Page<Invoice>, baseCurrency: string) => ClassifiedPage;
  /** Runs analyzeIfStale alongside the next page (the caller awaits it); absent: awaited here. */
  analyze?: () => void;
}

export const emptyStats = (): ImportStats => ({
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

/** Where a walk stands by its checkpoint (a retry of a page written and checkpointed goes on from there). */
export const fromCheckpoint = (cp: Checkpoint): ImportPageResult => ({
  nextOffset: cp.nextOffset,
  done: cp.done,
  total: cp.total,
  finished: cp.state === 'walked',
  paused: false,
  pass: cp.stats.pass ?? 1,
});

/** The walk's checkpoint is past `offset` of `pass`: the page is done, or a new pass started. */
export const checkpointAhead = (cp: Checkpoint, offset: number, pass: number): boolean =>
  (cp.stats.pass ?? 1) !== pass || cp.nextOffset > offset || cp.state === 'walked';

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

/** The figures of a written page added to the walk's; the page's last rows are the next page's overlap. */
function addPage(prev: ImportStats, out: PageOutcome, tail: Invoice[]): ImportStats {
  return {
    ...addPageStats(prev, out),
    invoices: prev.invoices + out.assigned + out.unassigned,
    tailIds: tail.map((o) => o.id),
  };
}

/** One page: fetched, checked, written with the ids the walk saw, then the checkpoint moves on. */
export async function walkPage(
  deps: { sql: Sql; dryRunContacts: DryRunContacts },
  ref: ImportRef & { offset: number; pass?: number },
  report: (details: { offset: number; stage: string }) => void,
  session: WalkSession,
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
      type: ErrorTypes.checkpointMissing,
      message: `import ${ref.importId} of account ${ref.accountId} has no checkpoint (was the interface removed?)`,
      nonRetryable: true,
    });
  }
  // A retry after the page was written and checkpointed, or a walk that started a new pass: go from there.
  if (checkpointAhead(cp, ref.offset, pass)) return fromCheckpoint(cp);

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
  const contacts = ref.dryRun ? await deps.dryRunContacts.of(ref.importId, client, page.objects) : [];
  const ids = page.objects.map((o) => o.id).concat(page.invalid.flatMap((x) => (x.id ? [x.id] : [])));
  const write = async () =>
    processInvoicePage(ctx, page, {
      dryRun: ref.dryRun,
      contacts,
      // Overlap rows are written again (harmless) but were counted by the page before.
      statsExclude: new Set(stats.tailIds ?? []),
      deferValues: !ref.dryRun,
      classified: session.classify?.(page, ctx.baseCurrency),
    });
  // The ids the walk saw go in on a connection of their own while the page is written (a set: a retry
  // records them again harmlessly); both are settled before the checkpoint moves, or before a failure
  // is thrown, so that nothing of this page is still running when the activity ends.
  const [written, seen] = await Promise.allSettled([write(), recordSeen(deps.sql, ref, ids)]);
  if (written.status === 'rejected') throw written.reason;
  if (seen.status === 'rejected') throw seen.reason;
  const out = written.value;
  stats = addPage(stats, out, page.objects.slice(-PAGE_OVERLAP));
  let nextOffset = end;
  if (walked) {
    const verdict = await verifyWalk(deps.sql, ref, client, stats, page.total);
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
  sql: Sql,
  ref: ImportRef,
  client: SevdeskClient,
  stats: ImportStats,
  pageTotal: number | null,
): Promise<{ stats: ImportStats; again: boolean }> {
  const stored = await countSeen(sql, ref);
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
      // Resumable from the start: the next pass begins at offset 0.
      await saveCheckpointStats(
        sql,
        ref,
        { ...stats, pass: pass + 1, shortfalls: [], tailIds: [], error: message },
        0,
      );
      throw ApplicationFailure.create({ type: ErrorTypes.walkIncomplete, message, nonRetryable: true });
    }
  }
}
