// The invoice rows of a page: the set-based merge of the staged page, the pairing of a cancellation (SR) with its original,
// and drafts leaving the totals. Each returns the customers whose values the change touches.
import type { Tx } from './client';
import { STAGE } from './page-stage';
import { amountOnBasis, srInForce } from './rules.sql';

/** Whose invoices and which amount counts (the interface's setting). */
export interface InvoiceScope {
  accountId: string;
  source: string;
  amountBasis: 'gross' | 'net';
}

type CustomerRows = { customer_id: number | null }[];

/**
 * Merges the page's staged rows (stageInvoiceRows) into invoices in one statement; returns the number written
 * and the old and new customers of every row that changed. A row is written only when it is new or differs
 * in content, customer or status, or comes back after removal. An invoice is cancelled when an SR in force
 * names it: one staged on this page, or one stored before that this page does not replace. The customer is
 * looked up per row (contact, then the customer its e-mail key matches, both by unique index) rather than
 * joined: a join is planned from statistics, and while an import grows the tables faster than ANALYZE sees
 * them, the planner compared every row with every customer (docs/architecture.md, "Bulk import").
 */
export async function mergeStagedInvoices(
  tx: Tx,
  scope: InvoiceScope,
  deferValues: boolean,
): Promise<{ written: number; customers: CustomerRows }> {
  const { accountId, source } = scope;
  const stage = tx.unsafe(STAGE);
  // The customers the rows belonged to before (their values change too), unless values wait for the walk.
  const old = deferValues
    ? []
    : await tx<CustomerRows>`
    select distinct i.customer_id from ${stage} r
    join invoices i on i.account_id = ${accountId} and i.source = ${source} and i.source_id = r.source_id
    where i.customer_id is not null`;
  const changed = await tx<CustomerRows>`
    insert into invoices as i (account_id, customer_id, source, source_id, contact_source_id, origin_source_id, number,
      type, invoice_date, due_date, source_status, status, amount_gross, amount_net, amount, paid_amount, currency,
      foreign_amount, foreign_currency, source_update, content_hash, removed_at, removed_reason)
    select ${accountId}, (
        select cu.id from customers cu
        where cu.account_id = ${accountId} and email_key(cu.email) = (
          select email_key(sc.email) from source_contacts sc
          where sc.account_id = ${accountId} and sc.source = ${source}
            and sc.source_id = r.contact_source_id)),
      ${source}, r.source_id, r.contact_source_id, r.origin_source_id, r.number,
      r.type, r.invoice_date, r.due_date, r.source_status,
      case when r.type <> 'SR' and (
          exists (select 1 from ${stage} t where t.type = 'SR' and t.origin_source_id = r.source_id)
          or stored_sr.hit) then 'cancelled'
        else r.status end,
      r.amount_gross, r.amount_net,
      ${amountOnBasis(tx, scope.amountBasis, 'r')},
      r.paid_amount, r.currency, r.foreign_amount, r.foreign_currency, r.source_update, r.content_hash, null, null
    from (
      select ord, source_id, contact_source_id, origin_source_id, number, type, invoice_date::date,
        due_date::date, source_status, status, amount_gross::numeric, amount_net::numeric, paid_amount::numeric,
        currency, foreign_amount::numeric, foreign_currency, source_update::timestamptz, content_hash
      from ${stage}) r
    -- Probed by the origin index per row: as a hashed subplan the planner read every SR of the account on every page.
    left join lateral (
      select true as hit from invoices s
      where s.account_id = ${accountId} and s.source = ${source} and ${tx.unsafe(srInForce('s'))}
        and s.origin_source_id = r.source_id
        and not exists (select 1 from ${stage} t where t.source_id = s.source_id)
      limit 1) stored_sr on true
    order by r.ord
    on conflict (account_id, source, source_id) do update set
      customer_id = excluded.customer_id, contact_source_id = excluded.contact_source_id,
      origin_source_id = excluded.origin_source_id, number = excluded.number, type = excluded.type,
      invoice_date = excluded.invoice_date, due_date = excluded.due_date, source_status = excluded.source_status,
      status = excluded.status, amount_gross = excluded.amount_gross, amount_net = excluded.amount_net,
      amount = excluded.amount, paid_amount = excluded.paid_amount, currency = excluded.currency,
      foreign_amount = excluded.foreign_amount, foreign_currency = excluded.foreign_currency,
      source_update = excluded.source_update, content_hash = excluded.content_hash,
      removed_at = null, removed_reason = null, updated_at = now()
    where i.content_hash is distinct from excluded.content_hash
      or i.customer_id is distinct from excluded.customer_id
      or i.status is distinct from excluded.status
      or i.removed_at is not null
    returning i.customer_id`;
  return { written: changed.length, customers: [...old, ...changed] };
}

/**
 * Originals whose SR is among `srIds`. An original on the page whose SR was stored earlier needs nothing
 * here: the upsert already gave it the status 'cancelled'.
 */
export async function markCancelled(tx: Tx, scope: InvoiceScope, srIds: string[]): Promise<CustomerRows> {
  if (srIds.length === 0) return [];
  return tx<CustomerRows>`
    update invoices o set status = 'cancelled', updated_at = now()
    from invoices s
    where s.account_id = ${scope.accountId} and s.source = ${scope.source} and s.source_id = any(${srIds}::text[])
      and ${tx.unsafe(srInForce('s'))}
      and o.account_id = s.account_id and o.source = s.source and o.source_id = s.origin_source_id
      and o.type <> 'SR' and o.status <> 'cancelled'
    returning o.customer_id`;
}

/** Invoices back to draft (or otherwise gone from the totals), with the reason. */
export async function withdraw(
  tx: Tx,
  scope: InvoiceScope,
  ids: string[],
  reason: string,
): Promise<CustomerRows> {
  if (ids.length === 0) return [];
  return tx<CustomerRows>`
    update invoices set removed_at = now(), removed_reason = ${reason}, updated_at = now()
    where account_id = ${scope.accountId} and source = ${scope.source} and source_id = any(${ids}::text[])
      and removed_at is null
    returning customer_id`;
}
