// Dunning reminders (MA): stored apart from the invoices, keyed by their own id, and folded into the invoice
// they remind about (its `dunning_level` and `dunnings`), whichever of the two arrives first
// (docs/sevdesk.md, "Due dates, overdue and reminders").
import type { ReminderRow } from '../domain/dunning';
import type { Tx } from './client';
import type { InvoiceScope } from './invoices';

/**
 * Upserts the page's reminders, drops those that went back to draft (`withdrawnIds`), and refreshes the
 * reminders of every invoice they named before or name now, and of the page's own invoices (a reminder may
 * have waited for its invoice). Returns how many invoices changed; each change is an invoice.updated event.
 */
export async function writeReminders(
  tx: Tx,
  scope: Pick<InvoiceScope, 'accountId' | 'source'>,
  rows: ReminderRow[],
  withdrawnIds: string[],
  invoiceIds: string[],
): Promise<number> {
  const { accountId, source } = scope;
  const touched = [...rows.map((r) => r.source_id), ...withdrawnIds];
  if (touched.length === 0 && invoiceIds.length === 0) return 0;
  const before =
    touched.length === 0
      ? []
      : await tx<{ origin: string }[]>`
    select distinct origin_source_id as origin from invoice_reminders
    where account_id = ${accountId} and source = ${source} and source_id = any(${touched}::text[])`;
  if (rows.length > 0) {
    await tx`
      insert into invoice_reminders as m (account_id, source, source_id, origin_source_id, dunning_level,
        reminder_date, source_update)
      select ${accountId}, ${source}, r.source_id, r.origin_source_id, r.dunning_level, r.reminder_date,
        r.source_update
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(source_id text, origin_source_id text,
        dunning_level integer, reminder_date date, source_update timestamptz)
      on conflict (account_id, source, source_id) do update set
        origin_source_id = excluded.origin_source_id, dunning_level = excluded.dunning_level,
        reminder_date = excluded.reminder_date, source_update = excluded.source_update, updated_at = now()
      where (m.origin_source_id, m.dunning_level, m.reminder_date)
        is distinct from (excluded.origin_source_id, excluded.dunning_level, excluded.reminder_date)`;
  }
  if (withdrawnIds.length > 0) {
    await tx`
      delete from invoice_reminders
      where account_id = ${accountId} and source = ${source} and source_id = any(${withdrawnIds}::text[])`;
  }
  // Of the page's own invoices only those that reminders name: every other one has nothing to fold in (the
  // upsert leaves an invoice's reminders as they were), and a page has 1,000 of them.
  const waiting =
    invoiceIds.length === 0
      ? []
      : await tx<{ origin: string }[]>`
    select distinct origin_source_id as origin from invoice_reminders
    where account_id = ${accountId} and source = ${source} and origin_source_id = any(${invoiceIds}::text[])`;
  const origins = [
    ...new Set([
      ...before.map((b) => b.origin),
      ...rows.map((r) => r.origin_source_id),
      ...waiting.map((w) => w.origin),
    ]),
  ];
  return refreshDunnings(tx, scope, origins);
}

/** Sets each named invoice's reminders from invoice_reminders; only rows that change are written. */
export async function refreshDunnings(
  tx: Tx,
  scope: Pick<InvoiceScope, 'accountId' | 'source'>,
  invoiceIds: string[],
): Promise<number> {
  if (invoiceIds.length === 0) return 0;
  const { accountId, source } = scope;
  const changed = await tx`
    update invoices i set dunning_level = d.level, dunnings = d.list, updated_at = now()
    from (
      select o.sid,
        (select max(r.dunning_level) from invoice_reminders r
          where r.account_id = ${accountId} and r.source = ${source} and r.origin_source_id = o.sid) as level,
        coalesce((select jsonb_agg(jsonb_build_object('level', r.dunning_level, 'date', r.reminder_date)
            order by r.reminder_date, coalesce(r.dunning_level, 0), r.source_id)
          from invoice_reminders r
          where r.account_id = ${accountId} and r.source = ${source} and r.origin_source_id = o.sid),
          '[]'::jsonb) as list
      from unnest(${invoiceIds}::text[]) as o(sid)) d
    where i.account_id = ${accountId} and i.source = ${source} and i.source_id = d.sid
      and (i.dunning_level is distinct from d.level or i.dunnings is distinct from d.list)`;
  return changed.count;
}
