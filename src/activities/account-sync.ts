import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { reassignContacts, upsertSourceContacts } from '../db/customers';
import { unfinishedImportStart } from '../db/imports';
import { recordSyncRun, setInterfaceState } from '../db/interfaces';
import {
  countUnassigned,
  cycleChores,
  finishSyncCycle,
  staleContacts,
  storedOpenInvoiceIds,
  touchContacts,
  touchInvalidIssues,
} from '../db/sync';
import { countPage } from '../domain/page-stats';
import { walkPages } from '../sevdesk/client';
import {
  isSevdeskError,
  SevdeskInvalidTokenError,
  SevdeskNotFoundError,
  SevdeskSchemaError,
} from '../sevdesk/errors';
import type { Invoice } from '../sevdesk/schema';
import type { ErrorInfo, SyncCounts } from '../shared';
import { emptyCounts, ErrorTypes, SOURCE_SEVDESK } from '../shared';
import { checkCompany } from './company';
import type { ActivityDeps } from './deps';
import { DEFAULT_OVERLAP_SECONDS, openInterface, toFailure } from './deps';
import { withHeartbeat } from './heartbeat';
import type { PageContext } from './pages';
import { pageContext, processInvoicePage } from './pages';
import { changedContactIds, fetchAllContacts, fetchContacts } from './sevdesk-reads';

export const DEFAULT_RECHECK_LIMIT = 5;
export const DEFAULT_RECHECK_AGE_SECONDS = 3600;
/**
 * A requested cycle's contact re-reads: at most 200 contacts (up to three requests each, at most four in flight
 * per token: about 600 requests), none read within the last 10 s (a second click re-reads nothing).
 */
export const REQUESTED_RECHECK_LIMIT = 200;
export const REQUESTED_RECHECK_AGE_SECONDS = 10;
/** Contacts a local (quick) cycle re-reads itself; more go to the regular activity. */
export const QUICK_RECHECK_LIMIT = DEFAULT_RECHECK_LIMIT;

export interface SyncInput {
  accountId: string;
  /** Also re-read every open and partly paid invoice (the workflow asks for it on a slow cadence). */
  recheckOpen?: boolean;
  /**
   * Someone asked for this cycle (sync-now, the API, the page's button): the contacts of unassigned invoices
   * are re-read now, up to REQUESTED_RECHECK_LIMIT of them and each at most once per REQUESTED_RECHECK_AGE_SECONDS.
   */
  requested?: boolean;
}

export interface SyncResult {
  /**
   * inactive: nothing done. needs-activity: a quick (local) cycle found more work than its budget (a first
   * sync, or many pages): nothing was saved as done, and the workflow runs the regular activity.
   */
  skipped: 'inactive' | 'needs-activity' | null;
  counts: SyncCounts;
  invoiceCursor: number | null;
}

export const invalidTokenMessage = (accountId: string): string =>
  `sevDesk rejected the API token (HTTP 401). Set a new one: ` +
  `sevsync interface update --account ${accountId} --token - (the new token on standard input, or --token-file F); ` +
  'the sync resumes by itself';

export function createSyncActivities(deps: ActivityDeps) {
  const overlap = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;

  async function fail(accountId: string, kind: string, err: unknown): Promise<never> {
    const otherCompany = err instanceof ApplicationFailure && err.type === ErrorTypes.otherCompany;
    const info: ErrorInfo =
      err instanceof SevdeskInvalidTokenError
        ? { type: ErrorTypes.invalidToken, message: invalidTokenMessage(accountId) }
        : err instanceof ApplicationFailure
          ? { type: err.type ?? 'Error', message: err.message }
          : {
              type: isSevdeskError(err) ? err.type : ((err as Error).name ?? 'Error'),
              message: (err as Error).message,
            };
    const fatal = err instanceof SevdeskInvalidTokenError || otherCompany;
    await setInterfaceState(deps.sql, accountId, fatal ? 'error' : 'idle', info);
    await recordSyncRun(deps.sql, { accountId, kind, counts: emptyCounts(), error: info });
    if (fatal)
      throw ApplicationFailure.create({ type: info.type, message: info.message, nonRetryable: true });
    throw toFailure(err);
  }

  /**
   * One incremental cycle: contacts changed since the contact cursor, invoices changed since the invoice cursor
   * (minus the overlap; everything on the first run), then a re-check of unassigned invoices.
   */
  async function syncAccount(input: SyncInput): Promise<SyncResult> {
    return withHeartbeat((report) => syncOnce(input, report));
  }

  /**
   * The same cycle as a local activity (no round trip through the server, no heartbeat): an unchanged
   * account costs one workflow task. Gives up with `needs-activity` before its budget runs out, on a first
   * sync, or when the open invoices are due for their re-read; its pages are idempotent, so the regular
   * activity that follows simply does them again.
   */
  async function syncAccountQuick(input: SyncInput & { budgetMs?: number }): Promise<SyncResult> {
    const deadline = Date.now() + (input.budgetMs ?? QUICK_SYNC_BUDGET_MS);
    const { accountId, requested } = input;
    return syncOnce(requested ? { accountId, requested } : { accountId }, () => {}, deadline);
  }

  async function syncOnce(
    { accountId, recheckOpen, requested }: SyncInput,
    report: (details: { offset: number }) => void,
    deadline?: number,
  ): Promise<SyncResult> {
    const startedAt = new Date();
    const { iface, client } = await openInterface(deps, accountId);
    if (!iface.active)
      return { skipped: 'inactive', counts: emptyCounts(), invoiceCursor: iface.invoiceCursor };
    const needsActivity = (): SyncResult => ({
      skipped: 'needs-activity',
      counts: emptyCounts(),
      invoiceCursor: iface.invoiceCursor,
    });
    const overBudget = () => deadline !== undefined && Date.now() > deadline;
    if (deadline !== undefined && (iface.invoiceCursor === null || iface.contactCursor === null))
      return needsActivity();
    const ctx = pageContext(deps.sql, client, iface);
    const counts = emptyCounts();
    // A quick cycle is over in a moment (or hands over to the regular one, which says so): no "syncing" write.
    if (deadline === undefined) await setInterfaceState(deps.sql, accountId, 'syncing', null);
    try {
      let contactCursor = iface.contactCursor;
      const firstLoad =
        iface.invoiceCursor === null ? await unfinishedImportStart(deps.sql, accountId) : null;
      if (iface.invoiceCursor === null && firstLoad === null) {
        // First run without an import: every contact in pages of 1,000 instead of a few requests per contact.
        const all = await fetchAllContacts(client);
        await upsertSourceContacts(deps.sql, accountId, SOURCE_SEVDESK, all.rows);
        contactCursor = all.maxUpdate ?? contactCursor;
      } else if (contactCursor !== null) {
        const changed = await changedContactIds(client, Math.max(0, contactCursor - overlap));
        // The overlap lists the same contacts every cycle: only those newer than what is stored are read.
        const stale = await staleContacts(deps.sql, accountId, changed.listed);
        if (stale.length > 0) {
          await upsertSourceContacts(deps.sql, accountId, SOURCE_SEVDESK, await fetchContacts(client, stale));
          await reassignContacts(deps.sql, accountId, SOURCE_SEVDESK, stale);
        }
        contactCursor = Math.max(contactCursor, changed.maxUpdate ?? contactCursor);
      }

      // While the account's first import has not finished (or stopped in error), the import covers what is
      // older than its start: the sync reads what changed since then, and keeps the account current meanwhile.
      const since = iface.invoiceCursor ?? (firstLoad ? Math.floor(firstLoad.getTime() / 1000) : null);
      const updateAfter = since === null ? undefined : Math.max(0, since - overlap);
      const resumeFrom =
        (Context.current().info.heartbeatDetails as { offset?: number } | undefined)?.offset ?? 0;
      let cursor = iface.invoiceCursor;
      for await (const { page, offset } of walkPages(
        (o, limit) => client.listInvoices({ offset: o, limit, updateAfter, countAll: true }),
        {
          startOffset: resumeFrom,
          checkTotal: true,
          confirmDelayMs: 1000,
          onShortfall: (e) =>
            Context.current().log.warn('sevDesk count and rows disagree', { accountId, message: e.message }),
        },
      )) {
        await checkCompany(deps.sql, accountId, page.objects, { bound: iface.sevdeskClientId });
        const out = await processInvoicePage(ctx, page);
        countPage(counts, out);
        if (out.maxUpdate !== null) cursor = Math.max(cursor ?? 0, out.maxUpdate);
        report({ offset: offset + page.rawCount });
        if (overBudget()) return needsActivity();
      }
      if (cursor === null && since !== null) cursor = since;
      if (recheckOpen) await recheckOpenInvoices(ctx, counts);
      // Records reported invalid, and unassigned invoices' contacts (a few per cycle and each at most once per
      // re-check age: an e-mail added in sevDesk is found within (unassigned contacts / limit) cycles or the
      // age, whichever is longer): one read says what is due, and an account with nothing due is done.
      // A requested cycle re-reads them all (bounded), since the coach who asked may just have added the e-mail.
      const chores = await cycleChores(deps.sql, accountId, {
        invalidLimit: INVALID_REREAD_BUDGET,
        recheckLimit: requested ? REQUESTED_RECHECK_LIMIT : (deps.recheckLimit ?? DEFAULT_RECHECK_LIMIT),
        recheckAgeSeconds: requested
          ? REQUESTED_RECHECK_AGE_SECONDS
          : (deps.recheckAgeSeconds ?? DEFAULT_RECHECK_AGE_SECONDS),
      });
      const { recheck } = chores;
      // A local cycle keeps to its budget: many contacts to read go to the regular activity (with heartbeats).
      if (deadline !== undefined && recheck.length > QUICK_RECHECK_LIMIT) return needsActivity();
      await rereadInvalidInvoices(ctx, counts, chores.invalidDue);
      if (recheck.length > 0) {
        await upsertSourceContacts(deps.sql, accountId, SOURCE_SEVDESK, await fetchContacts(client, recheck));
        await touchContacts(deps.sql, accountId, recheck);
        await reassignContacts(deps.sql, accountId, SOURCE_SEVDESK, recheck);
      }
      counts.unassigned =
        chores.invalidDue.length > 0 || recheck.length > 0
          ? await countUnassigned(deps.sql, accountId)
          : chores.unassigned;
      await finishSyncCycle(
        deps.sql,
        accountId,
        { invoice: cursor, contact: contactCursor },
        counts,
        startedAt,
      );
      Context.current().log.info('sevDesk sync done', { accountId, ...counts, invoiceCursor: cursor });
      return { skipped: null, counts, invoiceCursor: cursor };
    } catch (err) {
      return fail(accountId, 'incremental', err);
    }
  }

  /**
   * A payment booked without an `update` bump is invisible to `updateAfter`: what sevDesk lists as open or
   * partly paid is read again, and what we store as open but sevDesk no longer lists so is read by id
   * (paid, cancelled or back to draft meanwhile). Unchanged rows are skipped by their content hash.
   */
  async function recheckOpenInvoices(ctx: PageContext, counts: SyncCounts): Promise<void> {
    const seen = new Set<string>();
    for (const status of ['200', '750']) {
      for await (const { page } of walkPages(
        (o, limit) => ctx.client.listInvoices({ offset: o, limit, status, countAll: true }),
        { checkTotal: true, confirmDelayMs: 1000 },
      )) {
        for (const inv of page.objects) seen.add(inv.id);
        await checkCompany(deps.sql, ctx.accountId, page.objects);
        countPage(counts, await processInvoicePage(ctx, page));
      }
    }
    const moved = (await storedOpenInvoiceIds(deps.sql, ctx.accountId)).filter((id) => !seen.has(id));
    const found: Invoice[] = [];
    for (const id of moved.slice(0, OPEN_RECHECK_BY_ID_BUDGET)) {
      try {
        found.push(await ctx.client.getInvoice(id));
      } catch (err) {
        // Gone is the reconcile's question (it confirms deletions); anything else is retried next time.
        if (!(err instanceof SevdeskNotFoundError)) throw err;
      }
    }
    if (found.length > 0) await checkCompany(deps.sql, ctx.accountId, found);
    if (found.length > 0)
      countPage(
        counts,
        await processInvoicePage(ctx, { objects: found, invalid: [], rawCount: found.length, total: null }),
      );
  }

  /**
   * Records reported invalid are read again by id, a few a cycle on a growing interval: an unchanged invoice
   * that came malformed once is not re-listed by `updateAfter`, and its issue must resolve when it reads fine.
   */
  async function rereadInvalidInvoices(ctx: PageContext, counts: SyncCounts, due: string[]): Promise<void> {
    if (due.length === 0) return;
    const found: Invoice[] = [];
    const still: string[] = [];
    for (const id of due) {
      try {
        found.push(await ctx.client.getInvoice(id));
      } catch (err) {
        // Still malformed, or gone (the reconcile decides that): the issue stays, seen now.
        if (err instanceof SevdeskSchemaError || err instanceof SevdeskNotFoundError) still.push(id);
        else throw err;
      }
    }
    await touchInvalidIssues(deps.sql, ctx.accountId, still);
    if (found.length === 0) return;
    await checkCompany(deps.sql, ctx.accountId, found);
    const out = await processInvoicePage(ctx, {
      objects: found,
      invalid: [],
      rawCount: found.length,
      total: null,
    });
    // Read by id, not listed: no page of the list.
    countPage(counts, out, 0);
  }

  return { syncAccount, syncAccountQuick };
}

/** What a quick (local-activity) cycle may spend before it hands over to the regular activity. */
export const QUICK_SYNC_BUDGET_MS = 8_000;

/** GET /Invoice/{id} requests a cycle may spend re-reading records reported invalid. */
export const INVALID_REREAD_BUDGET = 10;

/** GET /Invoice/{id} requests one open-invoice re-check may spend on invoices that left the open lists. */
export const OPEN_RECHECK_BY_ID_BUDGET = 100;
