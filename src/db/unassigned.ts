// The unassigned invoices grouped by their sevDesk contact: who the coach has to fix in sevDesk, the biggest
// sums first. An unassigned invoice is shown (rules.sql `shown`) with `customer_id` null and an open issue of
// kind `unassigned`; its contact is `contact_source_id`, the contact's name comes from `source_contacts`.
import { SOURCE_SEVDESK } from '../shared';
import type { Sql } from './client';
import { shown } from './rules.sql';

export interface UnassignedContact {
  /** The sevDesk contact id; null for invoices without a contact. */
  contactId: string | null;
  /** Company, or first and last name; null when the contact was never read. */
  name: string | null;
  /** The issue reason (English text of domain/reasons) of the contact's invoices; the most common one. */
  reason: string;
  invoices: number;
  /** Decimal string: the amounts that count (gross or net per the interface), in `currency`. */
  sum: string;
  currency: string;
  /** Invoice numbers (sevDesk id when a number is missing), by number. */
  numbers: { invoiceNumber: string | null; sourceId: string }[];
}

interface Row {
  contact_id: string | null;
  name: string | null;
  reason: string;
  invoices: number;
  sum: string;
  currency: string;
  numbers: { invoiceNumber: string | null; sourceId: string }[];
}

/** The account's open unassigned invoices, one entry per contact and currency, the biggest sum first. */
export async function unassignedByContact(sql: Sql, accountId: string): Promise<UnassignedContact[]> {
  const rows = await sql<Row[]>`
    select i.contact_source_id as contact_id,
      nullif(coalesce(nullif(max(sc.company), ''), trim(concat_ws(' ', max(sc.first_name), max(sc.last_name)))), '')
        as name,
      mode() within group (order by ii.reason) as reason,
      count(*)::int as invoices,
      sum(i.amount)::text as sum,
      i.currency,
      json_agg(json_build_object('invoiceNumber', i.number, 'sourceId', i.source_id)
        order by i.number nulls last, i.source_id) as numbers
    from invoice_issues ii
    join invoices i on i.account_id = ii.account_id and i.source = ii.source and i.source_id = ii.source_id
    left join source_contacts sc on sc.account_id = i.account_id and sc.source = i.source
      and sc.source_id = i.contact_source_id
    where ii.account_id = ${accountId} and ii.source = ${SOURCE_SEVDESK} and ii.kind = 'unassigned'
      and ii.resolved_at is null and i.customer_id is null and ${sql.unsafe(shown('i'))}
    group by i.contact_source_id, i.currency
    order by sum(i.amount) desc, count(*) desc, i.contact_source_id nulls last`;
  return rows.map((r) => ({
    contactId: r.contact_id,
    name: r.name,
    reason: r.reason,
    invoices: r.invoices,
    sum: r.sum,
    currency: r.currency,
    numbers: r.numbers,
  }));
}
