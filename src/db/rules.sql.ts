// The SQL of the rules that several statements share, each written once. What is shown and what counts:
// docs/architecture.md, "Invariants" (Counted); how a cancellation names its original: docs/sevdesk.md,
// "Invoices". `alias` names the invoices row in the statement ('' for bare column names).
import type { Fragment, Tx } from './client';

const column = (alias: string, name: string): string => (alias ? `${alias}.${name}` : name);

/** Shown in OneCockpit: not removed (back to draft, or deleted in sevDesk) and not an SR. */
export const shown = (alias: string): string =>
  `${column(alias, 'removed_at')} is null and ${column(alias, 'type')} <> 'SR'`;

/** Counted in a customer's value: shown, and open or paid (not cancelled). */
export const counted = (alias: string): string =>
  `${shown(alias)} and ${column(alias, 'status')} in ('open', 'paid')`;

/** An SR in force (stored, not removed): the invoice its origin_source_id names is cancelled. */
export const srInForce = (alias: string): string =>
  `${column(alias, 'type')} = 'SR' and ${column(alias, 'removed_at')} is null`;

/** The invoice `alias` (a stored row) is cancelled: an SR in force of its account and source names it. */
export function cancelledBySr(sql: Tx, alias: string): Fragment {
  return sql`exists (
          select 1 from invoices s where s.account_id = ${sql.unsafe(column(alias, 'account_id'))}
            and s.source = ${sql.unsafe(column(alias, 'source'))}
            and ${sql.unsafe(srInForce('s'))} and s.origin_source_id = ${sql.unsafe(column(alias, 'source_id'))})`;
}

/** The amount that counts for an interface: net or gross as its setting says (`basis` goes as a parameter). */
export const amountOnBasis = (sql: Tx, basis: 'gross' | 'net', alias: string): Fragment =>
  sql`case when ${basis} = 'net' then ${sql.unsafe(column(alias, 'amount_net'))} else ${sql.unsafe(
    column(alias, 'amount_gross'),
  )} end`;
