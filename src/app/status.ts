import { lastWalkReceipt } from '../db/imports';
import { accountExists } from '../db/interfaces';
import type { RunRow } from '../db/sync';
import { recentRuns } from '../db/sync';
import type { UnassignedContact } from '../db/unassigned';
import { unassignedByContact } from '../db/unassigned';
import type { CustomerKey, CustomerView, IssueKey, IssueView, StatusFacts, StatusKeys } from '../db/views';
import { findCustomer, listCustomers, pageCustomers, statusFacts, statusFactsPage } from '../db/views';
import type { AccountStatus, ErrorInfo, ImportProgress, InterfaceState } from '../shared';
import { importProgressQuery, statusQuery } from '../workflows';
import type { AppDeps } from './deps';
import { AppError } from './errors';
import type { HeldSweep } from './reconcile';
import { heldSweepOf } from './reconcile';
import { accountHandle, requireInterface } from './workflow';

export interface ImportView {
  importId: string;
  /** `error`: stopped after bounded retries; `import start` resumes it from its checkpoint. */
  state: ImportProgress['state'];
  done: number;
  total: number | null;
  dryRun: boolean;
  kind: 'import' | 'reconcile';
  /** Why it stopped (state `error`), else null. */
  error: string | null;
}

/**
 * After an import or reconcile walk: sevDesk's count then, and what OneCockpit holds now (shown invoices with a
 * customer, without one, open invalid records). `stornos`: cancellations sevDesk counts but OneCockpit does
 * not show. The difference to `sevdesk` is explained on the settings page.
 */
export interface Receipt {
  sevdesk: number | null;
  assigned: number;
  unassigned: number;
  invalid: number;
  stornos: number;
  /** When the walk ended. */
  at: string;
}

/** `status --json` (docs/cli.md), plus `live` for the text view (not part of the JSON contract). */
export interface StatusView {
  account: string;
  active: boolean;
  state: InterfaceState;
  error: ErrorInfo | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  counts: StatusFacts['counts'];
  unassigned: IssueView[];
  conflicts: StatusFacts['conflicts'];
  invalid: IssueView[];
  import: ImportView | null;
  /** A reconcile sweep too large to apply unasked: `reconcile --confirm` applies it. */
  heldSweep: HeldSweep | null;
  /** The completeness receipt of the last walk that ended; null before the first. */
  receipt: Receipt | null;
  /** False when the worker did not answer: state and timing then come from the database. */
  live: boolean;
}

const QUERY_TIMEOUT_MS = 3000;

/**
 * A query with a deadline on the call itself: a worker that does not answer in time gives no live view, and
 * the call is cancelled (a query merely raced against a timer kept retrying after the connection closed).
 */
const withTimeout = <T>(deps: AppDeps, query: () => Promise<T>): Promise<T | undefined> =>
  deps.temporal.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, query).catch(() => undefined);

export async function getStatus(deps: AppDeps, accountId: string): Promise<StatusView> {
  return (await statusWith(deps, accountId, () => statusFacts(deps.db.sql, accountId))).status;
}

/**
 * The status with its lists (unassigned, invalid, conflicts) paged: at most `limit` entries of each, after
 * the opaque `cursor` of the previous page; `next` is the cursor of the following page, null after the last.
 */
export async function getStatusPage(
  deps: AppDeps,
  accountId: string,
  page: PageRequest,
): Promise<StatusView & { next: string | null }> {
  const limit = pageLimit(page.limit);
  const after = page.cursor === undefined ? undefined : decodeStatusCursor(page.cursor);
  const { status, facts } = await statusWith(deps, accountId, () =>
    statusFactsPage(deps.db.sql, accountId, { limit, after }),
  );
  return { ...status, next: facts.next === null ? null : encodeStatusCursor(facts.next) };
}

/** The status around the lists `factsOf` reads (all of them, or a page), and those facts. */
async function statusWith<F extends StatusFacts>(
  deps: AppDeps,
  accountId: string,
  factsOf: () => Promise<F>,
): Promise<{ status: StatusView; facts: F }> {
  const iface = await requireInterface(deps, accountId);
  const [facts, held, receipt, live] = await Promise.all([
    factsOf(),
    heldSweepOf(deps, accountId),
    lastWalkReceipt(deps.db.sql, accountId),
    withTimeout<AccountStatus>(deps, () => accountHandle(deps, accountId).query(statusQuery)),
  ]);
  // A running import reports its own progress; the parent only learns the end.
  const parentView = live?.import ?? null;
  const imp =
    parentView && (parentView.state === 'running' || parentView.state === 'paused')
      ? {
          ...parentView,
          ...(await withTimeout(deps, () =>
            deps.temporal.workflow.getHandle(parentView.workflowId).query(importProgressQuery),
          )),
        }
      : parentView;
  const status: StatusView = {
    account: accountId,
    active: iface.active,
    // The row is the truth for `active`; the workflow's (or, without a worker, the activities') view for the state.
    state: !iface.active ? 'paused' : (live?.state ?? iface.state),
    error: live ? live.error : iface.lastError,
    lastSyncAt: iface.lastSyncedAt?.toISOString() ?? live?.lastSyncAt ?? null,
    nextSyncAt: live?.nextSyncAt ?? null,
    counts: facts.counts,
    unassigned: facts.unassigned,
    conflicts: facts.conflicts,
    invalid: facts.invalid,
    import: imp
      ? {
          importId: imp.importId,
          state: imp.state,
          done: imp.done,
          total: imp.total,
          dryRun: imp.dryRun,
          kind: imp.kind ?? (imp.importId.startsWith('rec-') ? 'reconcile' : 'import'),
          error: imp.error ?? null,
        }
      : null,
    heldSweep: held,
    receipt: receipt
      ? {
          sevdesk: receipt.total,
          assigned: receipt.assigned,
          unassigned: receipt.unassigned,
          invalid: receipt.invalid,
          stornos: receipt.stornos,
          at: receipt.finishedAt.toISOString(),
        }
      : null,
    live: live !== undefined,
  };
  return { status, facts };
}

/** A run of the "Verlauf" as the history route answers it. */
export type RunView = {
  kind: RunRow['kind'];
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  fetched: number;
  written: number;
  /** Walks: invoices taken out because sevDesk deleted them; null for a sync cycle (not recorded). */
  removed: number | null;
  unassigned: number;
  invalid: number;
  sevdeskTotal: number | null;
  error: ErrorInfo | null;
};

export const MAX_HISTORY_LIMIT = 100;

/** The account's last syncs and walks, newest first (at most `limit`, 1..100, default 20). */
export async function getHistory(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
  limit = 20,
): Promise<{ runs: RunView[] }> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
  await requireAccount(deps, accountId);
  const runs = await recentRuns(deps.db.sql, accountId, limit);
  return {
    runs: runs.map((r) => ({
      kind: r.kind,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      durationMs: r.durationMs,
      fetched: r.fetched,
      written: r.written,
      removed: r.removed,
      unassigned: r.unassigned,
      invalid: r.invalid,
      sevdeskTotal: r.sevdeskTotal,
      error: r.error,
    })),
  };
}

/** The unassigned invoices grouped by sevDesk contact, the biggest sum first. */
export async function getUnassignedByContact(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
): Promise<UnassignedContact[]> {
  await requireAccount(deps, accountId);
  return unassignedByContact(deps.db.sql, accountId);
}

async function requireAccount(deps: Pick<AppDeps, 'db'>, accountId: string): Promise<void> {
  if (!(await accountExists(deps.db.sql, accountId)))
    throw new AppError(
      'not_found',
      `account ${accountId} is unknown (it gets created by: sevsync interface add)`,
    );
}

/** What OneCockpit shows for an account: customers sorted by e-mail, with values and invoices. */
export async function getCustomers(deps: Pick<AppDeps, 'db'>, accountId: string): Promise<CustomerView[]> {
  await requireAccount(deps, accountId);
  return listCustomers(deps.db.sql, accountId);
}

/** `getCustomers` a page at a time: at most `limit` customers after the opaque `cursor`. */
export async function getCustomersPage(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
  page: PageRequest,
): Promise<{ customers: CustomerView[]; next: string | null }> {
  const limit = pageLimit(page.limit);
  const after = page.cursor === undefined ? undefined : decodeCustomerCursor(page.cursor);
  await requireAccount(deps, accountId);
  const { customers, next } = await pageCustomers(deps.db.sql, accountId, { limit, after });
  return { customers, next: next === null ? null : encodeCursor(['c', next.email, next.id]) };
}

/** One customer of the account, by e-mail (any case), with its values and invoices. */
export async function getCustomer(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
  email: string,
): Promise<CustomerView> {
  await requireAccount(deps, accountId);
  const customer = await findCustomer(deps.db.sql, accountId, email);
  if (!customer) throw new AppError('not_found', `account ${accountId} has no customer ${email}`);
  return customer;
}

// Paging: `limit` entries after an opaque cursor (base64url of the last sort key the previous page gave).

export interface PageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  return limit;
}

const encodeCursor = (key: unknown[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

const badCursor = () =>
  new AppError('invalid_input', 'cursor: not a cursor this route gave (use `next` of the previous page)');

function decodeCursor(cursor: string, tag: string): unknown[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(key) || key[0] !== tag) throw badCursor();
  return key.slice(1);
}

const isText = (v: unknown): v is string => typeof v === 'string';

function decodeCustomerCursor(cursor: string): CustomerKey {
  const [email, id] = decodeCursor(cursor, 'c');
  if (!isText(email) || !isText(id) || !/^\d{1,19}$/.test(id)) throw badCursor();
  return { email, id };
}

/** A status page's key per list: [number, sevDesk id, row id] of its last issue, or null when it ended. */
type IssueKeyJson = [string | null, string, number] | null;

const issueKeyJson = (k: IssueKey | null): IssueKeyJson => (k ? [k.invoiceNumber, k.sourceId, k.id] : null);

function issueKeyOf(v: unknown): IssueKey | null {
  if (v === null) return null;
  if (!Array.isArray(v) || v.length !== 3) throw badCursor();
  const [invoiceNumber, sourceId, id] = v as unknown[];
  if (!(invoiceNumber === null || isText(invoiceNumber)) || !isText(sourceId) || !Number.isSafeInteger(id))
    throw badCursor();
  return { invoiceNumber, sourceId, id: id as number };
}

const encodeStatusCursor = (k: StatusKeys): string =>
  encodeCursor(['s', issueKeyJson(k.unassigned), issueKeyJson(k.invalid), k.conflicts]);

function decodeStatusCursor(cursor: string): StatusKeys {
  const [unassigned, invalid, conflicts] = decodeCursor(cursor, 's');
  if (!(conflicts === null || isText(conflicts))) throw badCursor();
  return { unassigned: issueKeyOf(unassigned), invalid: issueKeyOf(invalid), conflicts };
}
