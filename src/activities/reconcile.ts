// The reconcile's sweep: what a complete walk did not see leaves the totals only when sevDesk confirms it
// is gone, and a sweep that would remove a large share waits for an operator (docs/architecture.md,
// "Invariants": deletions need proof).
import type { Sql } from '../db/client';
import type { WalkRef } from '../db/imports';
import { sweepCandidates } from '../db/imports';
import type { SevdeskClient } from '../sevdesk/client';
import { SevdeskNotFoundError } from '../sevdesk/errors';
import type { Invoice } from '../sevdesk/schema';
import type { ImportStats } from '../shared';
import { checkCompany } from './company';
import type { PageContext } from './pages';
import { processInvoicePage } from './pages';

/** GET /Invoice/{id} requests a reconcile may spend confirming that candidates are really gone. */
export const CONFIRM_BUDGET = 200;
/** A sweep removing more than this share (and more than HOLD_MIN invoices) waits for an operator. */
export const HOLD_SHARE = 0.05;
export const HOLD_MIN = 20;

/**
 * What a complete reconcile walk did not see, confirmed gone: the ids to mark deleted. Never on a hunch:
 * only after a walk that reached sevDesk's count, each candidate confirmed gone by its own GET (404), and a
 * sweep that would remove a large share of the account is held (`sevsync reconcile --confirm`): another
 * company's token looks the same. What the sweep did goes into `stats.sweep` (and `stats.held`).
 */
export async function sweep(
  sql: Sql,
  ref: WalkRef,
  client: SevdeskClient,
  stats: ImportStats,
  /** The context to write invoices that are still there, only missed by the list. */
  context: () => Promise<PageContext>,
): Promise<string[]> {
  const { ids, live } = await sweepCandidates(sql, ref);
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
    await checkCompany(sql, ref.accountId, found);
    // Still in sevDesk, only missed by the list: written again, so they are current.
    await processInvoicePage(await context(), {
      objects: found,
      invalid: [],
      rawCount: found.length,
      total: null,
    });
  }
  return gone;
}
