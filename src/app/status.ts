import { accountExists } from '../db/interfaces';
import type { CustomerView, IssueView, StatusFacts } from '../db/views';
import { listCustomers, statusFacts } from '../db/views';
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
  const iface = await requireInterface(deps, accountId);
  const [facts, held, live] = await Promise.all([
    statusFacts(deps.db.sql, accountId),
    heldSweepOf(deps, accountId),
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
  return {
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
    live: live !== undefined,
  };
}

/** What OneCockpit shows for an account: customers sorted by e-mail, with values and invoices. */
export async function getCustomers(deps: Pick<AppDeps, 'db'>, accountId: string): Promise<CustomerView[]> {
  if (!(await accountExists(deps.db.sql, accountId)))
    throw new AppError(
      'not_found',
      `account ${accountId} is unknown (it gets created by: sevsync interface add)`,
    );
  return listCustomers(deps.db.sql, accountId);
}
