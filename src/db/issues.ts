// invoice_issues as the page writes keep them: `unassigned` (a shown invoice without a customer, with the
// reason) and `invalid` (an object that could not be stored, with its number, id and reason). An issue is
// resolved, never deleted, once its cause is gone; it opens again if the cause comes back.
import type { ContactRow } from '../domain/contact';
import type { InvalidInvoice } from '../domain/page';
import { CONTACT_UNREADABLE, NO_CONTACT, NO_EMAIL } from '../domain/reasons';
import { cleanText } from '../domain/text';
import type { Tx } from './client';
import { shown } from './rules.sql';

/** Invalid-issue ids for contacts (invoice_issues is keyed by source id; contacts get a prefix). */
export const contactIssueId = (contactId: string): string => `contact:${contactId}`;

/** The objects (invoices, or contacts by contactIssueId) read fine again: their invalid issues resolve. */
export async function resolveInvalidIssues(tx: Tx, accountId: string, source: string, ids: string[]) {
  if (ids.length === 0) return;
  // Driven by the ids, each probing the issues' unique key: compared with a growing table row by row, a page's
  // 1,000 ids cost more than its write.
  await tx`
    update invoice_issues x set resolved_at = now()
    from (select distinct unnest(${ids}::text[]) as sid) p
    where x.account_id = ${accountId} and x.source = ${source} and x.source_id = p.sid and x.kind = 'invalid'
      and x.resolved_at is null`;
}

/** Contacts that could not be read: an invalid issue each, until they read fine again. */
export async function reportUnreadableContacts(
  tx: Tx,
  accountId: string,
  source: string,
  rows: ContactRow[],
) {
  if (rows.length === 0) return;
  const issues = rows.map((r) => ({
    source_id: contactIssueId(r.source_id),
    reason: `sevDesk contact ${r.source_id}: ${r.read_error ?? CONTACT_UNREADABLE}`,
  }));
  await tx`
    insert into invoice_issues as x (account_id, source, source_id, invoice_number, kind, reason)
    select ${accountId}, ${source}, r.source_id, null, 'invalid', r.reason
    from jsonb_to_recordset(${JSON.stringify(issues)}::jsonb) as r(source_id text, reason text)
    on conflict (account_id, source, source_id, kind) do update set reason = excluded.reason,
      last_seen_at = now(), resolved_at = null`;
}

export interface IssuesOfPage {
  accountId: string;
  source: string;
  /** Stored invoices whose customer may have changed: their unassigned issues open or resolve. */
  invoiceIds: string[];
  /** Every object that passed its schema, whatever its type: its earlier invalid issue resolves. */
  validIds: string[];
  invalid: InvalidInvoice[];
}

/** The issues of a written page (or of re-pointed invoices), in the transaction of its write. */
export async function recordIssues(tx: Tx, page: IssuesOfPage) {
  const { accountId, source, invoiceIds } = page;
  if (invoiceIds.length > 0) {
    // Unassigned: shown invoices without a customer. Re-checked every cycle; resolved once assigned.
    await tx`
      insert into invoice_issues as x (account_id, source, source_id, invoice_number, kind, reason)
      select i.account_id, i.source, i.source_id, i.number, 'unassigned',
        case when sc.source_id is null then ${NO_CONTACT}
          when sc.read_error is not null and sc.email is null then sc.read_error
          when sc.email is null and sc.email_issue is not null then sc.email_issue
          else ${NO_EMAIL} end
      from invoices i
      left join source_contacts sc on sc.account_id = i.account_id and sc.source = i.source
        and sc.source_id = i.contact_source_id
      where i.account_id = ${accountId} and i.source = ${source}
        and i.source_id = any(${invoiceIds}::text[]) and i.customer_id is null and ${tx.unsafe(shown('i'))}
      on conflict (account_id, source, source_id, kind) do update set reason = excluded.reason,
        invoice_number = excluded.invoice_number, last_seen_at = now(), resolved_at = null
      where x.resolved_at is not null or x.reason <> excluded.reason`;
    // Driven by the page's ids (each probes the issues' unique key); an open issue's invoice is read by its key.
    await tx`
      update invoice_issues x set resolved_at = now()
      from (select distinct unnest(${invoiceIds}::text[]) as sid) p
      where x.account_id = ${accountId} and x.source = ${source} and x.source_id = p.sid
        and x.kind = 'unassigned' and x.resolved_at is null
        and exists (select 1 from invoices i where i.account_id = x.account_id and i.source = x.source
          and i.source_id = x.source_id and (i.customer_id is not null or i.removed_at is not null))`;
  }
  // A transient bad payload (any invoice type) is resolved as soon as the object reads fine again.
  await resolveInvalidIssues(tx, accountId, source, page.validIds);
  if (page.invalid.length > 0) {
    await tx`
      insert into invoice_issues as x (account_id, source, source_id, invoice_number, kind, reason)
      select ${accountId}, ${source}, r.source_id,
        coalesce(r.invoice_number, (select i.number from invoices i where i.account_id = ${accountId}
          and i.source = ${source} and i.source_id = r.source_id)), 'invalid', r.reason
      from jsonb_to_recordset(${JSON.stringify(
        page.invalid.map((x) => ({
          source_id: cleanText(x.sourceId, 100) ?? 'unknown',
          invoice_number: cleanText(x.invoiceNumber, 200),
          reason: cleanText(x.reason) ?? 'invalid payload',
        })),
      )}::jsonb) as r(source_id text, invoice_number text, reason text)
      on conflict (account_id, source, source_id, kind) do update set reason = excluded.reason,
        invoice_number = coalesce(excluded.invoice_number, x.invoice_number), last_seen_at = now(),
        resolved_at = null`;
  }
}
