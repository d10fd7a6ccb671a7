import { confirmHeldSweep, heldSweep } from '../db/reconcile';
import type { AppDeps } from './deps';
import { AppError } from './errors';
import { requireInterface } from './workflow';

/** A reconcile sweep held back because it would remove > 5 % and > 20 invoices (e.g. a token of another company). */
export interface HeldSweep {
  importId: string;
  /** Invoices the sweep would mark as deleted in sevDesk. */
  count: number;
  /** The account's invoices when it was held. */
  total: number;
  heldAt: string;
}

export const heldSweepOf = (deps: Pick<AppDeps, 'db'>, accountId: string): Promise<HeldSweep | null> =>
  heldSweep(deps.db.sql, accountId);

/** Applies the held sweep after an operator looked at it (`reconcile --confirm`). */
export async function confirmReconcile(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
): Promise<{ deleted: number }> {
  await requireInterface(deps, accountId);
  const res = await confirmHeldSweep(deps.db.sql, accountId);
  if (!res)
    throw new AppError(
      'not_found',
      `nothing is held for confirmation on account ${accountId} (status shows a held sweep as heldSweep)`,
    );
  return res;
}
