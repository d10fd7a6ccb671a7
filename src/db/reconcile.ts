// A reconcile sweep that would remove a large share of an account's invoices is held for an operator:
// a token pointing at another sevDesk company looks exactly like mass deletion. These read and apply it.
import type { HeldSweep } from '../shared';
import type { Sql, Tx } from './client';
import { markDeleted } from './imports';
import { jsonb } from './interfaces';

interface Row {
  import_id: string;
  stats: { held?: HeldSweep & { confirmedAt?: string } };
}

/** The newest reconcile's held sweep, unless a later reconcile finished without one or it was confirmed. */
async function latestReconcile(sql: Tx, accountId: string, lock: boolean): Promise<Row | undefined> {
  const rows = lock
    ? await sql<Row[]>`
        select import_id, stats from import_checkpoints
        where account_id = ${accountId} and kind = 'reconcile' and not dry_run and state = 'done'
        order by finished_at desc nulls last limit 1 for update`
    : await sql<Row[]>`
        select import_id, stats from import_checkpoints
        where account_id = ${accountId} and kind = 'reconcile' and not dry_run and state = 'done'
        order by finished_at desc nulls last limit 1`;
  return rows[0];
}

export async function heldSweep(
  sql: Sql,
  accountId: string,
): Promise<{ importId: string; count: number; total: number; heldAt: string } | null> {
  const row = await latestReconcile(sql, accountId, false);
  const held = row?.stats.held;
  if (!row || !held || held.confirmedAt) return null;
  return { importId: row.import_id, count: held.count, total: held.total, heldAt: held.heldAt };
}

/** Applies the held sweep (the operator confirmed it); null when nothing is held. */
export async function confirmHeldSweep(sql: Sql, accountId: string): Promise<{ deleted: number } | null> {
  return sql.begin(async (tx) => {
    const row = await latestReconcile(tx, accountId, true);
    const held = row?.stats.held;
    if (!row || !held || held.confirmedAt) return null;
    const deleted = await markDeleted(tx, accountId, held.ids);
    const stats = { ...row.stats, held: { ...held, confirmedAt: new Date().toISOString() } };
    await tx`
      update import_checkpoints set stats = ${jsonb(stats)}::jsonb, updated_at = now()
      where account_id = ${accountId} and import_id = ${row.import_id}`;
    return { deleted };
  }) as Promise<{ deleted: number } | null>;
}
