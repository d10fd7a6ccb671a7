// sevDesk contacts (source_contacts), the OneCockpit customers they match by e-mail key, and the customer
// values: recomputed from the invoice rows, never incremented (docs/architecture.md, "Invariants").
import type postgres from 'postgres';
import type { ContactRow } from '../domain/contact';
import { cleanText } from '../domain/text';
import { SOURCE_SEVDESK } from '../shared';
import type { Sql, Tx } from './client';
import { lockAccountEvents } from './events';
import { contactIssueId, recordIssues, reportUnreadableContacts, resolveInvalidIssues } from './issues';
import { amountOnBasis, counted } from './rules.sql';

/**
 * The match key of a customer's e-mail in SQL: the same function the unique index is built on (migration
 * 0001), so that "Anna@X.de " typed in OneCockpit and "anna@x.de" from sevDesk are one customer.
 */
export const emailKeySql = (column: string): string => `email_key(${column})`;

/** The nine fields of a customer besides its e-mail, as sevDesk contacts fill them (same names in both tables). */
export const CUSTOMER_FIELDS = [
  'company',
  'title',
  'first_name',
  'last_name',
  'street',
  'zip',
  'city',
  'country',
  'phone',
] as const;

const CONTACT_TEXT = ['email', ...CUSTOMER_FIELDS, 'email_issue', 'read_error'] as const;

/** A contact row as PostgreSQL stores it: text without NUL or lone surrogates, bounded. */
export function storableContactRow(row: ContactRow): ContactRow {
  const out: ContactRow = { ...row };
  for (const f of CONTACT_TEXT) out[f] = cleanText(row[f] ?? null);
  return out;
}

/**
 * Stores fetched contacts. A contact that could not be read (`read_error`) keeps the data stored for it
 * earlier (it is not overwritten with a row lacking, say, its e-mail); only the problem is recorded, and it
 * is reported as an invalid issue until the contact reads fine again.
 */
export async function upsertSourceContacts(tx: Tx, accountId: string, source: string, rows: ContactRow[]) {
  if (rows.length === 0) return;
  const byId = new Map(rows.map((r) => [r.source_id, storableContactRow(r)]));
  const all = [...byId.values()];
  const bad = all.filter((r) => r.read_error);
  const good = all.filter((r) => !r.read_error);
  const insert = (batch: ContactRow[], onConflict: postgres.PendingQuery<postgres.Row[]>) => tx`
    insert into source_contacts as sc (account_id, source, source_id, email, company, title, first_name, last_name,
      street, zip, city, country, phone, source_update, email_issue, read_error, fetched_at)
    select ${accountId}, ${source}, r.source_id, r.email, r.company, r.title, r.first_name, r.last_name,
      r.street, r.zip, r.city, r.country, r.phone, r.source_update, r.email_issue, r.read_error, now()
    from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as r(source_id text, email text, company text, title text,
      first_name text, last_name text, street text, zip text, city text, country text, phone text,
      source_update timestamptz, email_issue text, read_error text)
    on conflict (account_id, source, source_id) do update set ${onConflict}`;
  // Read fine: every field is current again.
  if (good.length > 0)
    await insert(
      good,
      tx`email = excluded.email, company = excluded.company, title = excluded.title,
        first_name = excluded.first_name, last_name = excluded.last_name, street = excluded.street, zip = excluded.zip,
        city = excluded.city, country = excluded.country, phone = excluded.phone, source_update = excluded.source_update,
        email_issue = excluded.email_issue, read_error = null, fetched_at = excluded.fetched_at`,
    );
  // Unreadable: a new contact is stored as far as it was read; a known one keeps its data, only the problem is new.
  if (bad.length > 0) await insert(bad, tx`read_error = excluded.read_error`);
  await resolveInvalidIssues(
    tx,
    accountId,
    source,
    good.map((r) => contactIssueId(r.source_id)),
  );
  await reportUnreadableContacts(tx, accountId, source, bad);
}

/**
 * Contacts whose last read failed (`read_error`), oldest first: to be read again on a later cycle so that
 * their invalid issue resolves and their data is fresh. Budgeted by `limit`.
 */
export async function unreadableContactIds(
  sql: Tx,
  accountId: string,
  source: string,
  limit = 20,
): Promise<string[]> {
  const rows = await sql<{ source_id: string }[]>`
    select source_id from source_contacts
    where account_id = ${accountId} and source = ${source} and read_error is not null
    order by fetched_at, source_id limit ${limit}`;
  return rows.map((r) => r.source_id);
}

/**
 * Customers for the given contacts: created with all ten fields when the e-mail is new to the account,
 * otherwise only their empty fields are filled: what people typed in OneCockpit is never overwritten.
 */
export async function upsertCustomersForContacts(
  tx: Tx,
  accountId: string,
  source: string,
  contactIds: string[],
): Promise<number[]> {
  if (contactIds.length === 0) return [];
  const FIELDS = CUSTOMER_FIELDS;
  const fill = FIELDS.map((f) => `${f} = coalesce(nullif(c.${f}, ''), excluded.${f})`).join(', ');
  const changed = FIELDS.map((f) => `(nullif(c.${f}, '') is null and excluded.${f} is not null)`).join(
    ' or ',
  );
  const rows = await tx.unsafe<{ id: number }[]>(
    `insert into customers as c (account_id, email, ${FIELDS.join(', ')})
     select distinct on (${emailKeySql('sc.email')}) $1, ${emailKeySql('sc.email')},
       ${FIELDS.map((f) => `sc.${f}`).join(', ')}
     from source_contacts sc
     where sc.account_id = $1 and sc.source = $2 and sc.source_id = any($3::text[]) and sc.email is not null
       and ${emailKeySql('sc.email')} <> ''
     order by ${emailKeySql('sc.email')}, sc.source_id
     on conflict (account_id, ${emailKeySql('email')}) do update set ${fill}, updated_at = now()
     where ${changed}
     returning c.id`,
    [accountId, source, contactIds],
  );
  return rows.map((r) => Number(r.id));
}

/** The customer ids of rows that carry one (rows of invoices without a customer are left out). */
export const customersOf = (rows: readonly { customer_id: number | null }[]): number[] =>
  rows.flatMap((r) => (r.customer_id === null ? [] : [Number(r.customer_id)]));

/**
 * "Invoices" = sum of counted invoices; "Total" = sum of all the customer's values. Never incremental. Each
 * customer whose values change gets a `customer.values_changed` event with the values before and after and
 * its causes: the invoice events naming it that were written in this transaction, or, for a walk that
 * deferred its values (`causesSince`), every one after that seq of the account.
 */
export async function recomputeCustomerValues(
  tx: Tx,
  accountId: string,
  customerIds: number[],
  causesSince?: number,
): Promise<void> {
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return;
  const before = await tx.unsafe<{ id: string; invoices: string; total: string }[]>(
    `select c.id, coalesce(v.amount, 0)::numeric(14,2)::text as invoices, c.total_value::numeric(14,2)::text as total
     from customers c left join customer_values v on v.account_id = c.account_id and v.customer_id = c.id
       and v.kind = 'invoices'
     where c.account_id = $1 and c.id = any($2::bigint[])`,
    [accountId, ids],
  );
  await tx.unsafe(
    `insert into customer_values (account_id, customer_id, kind, amount, currency, updated_at)
     select c.account_id, c.id, 'invoices', coalesce(sum(i.amount) filter (where ${counted('i')}), 0),
       a.base_currency, now()
     from customers c
     join accounts a on a.id = c.account_id
     left join invoices i on i.account_id = c.account_id and i.customer_id = c.id
     where c.account_id = $1 and c.id = any($2::bigint[])
     group by c.account_id, c.id, a.base_currency
     on conflict (customer_id, kind) do update set amount = excluded.amount, currency = excluded.currency,
       updated_at = now()
     where customer_values.amount is distinct from excluded.amount`,
    [accountId, ids],
  );
  await tx.unsafe(
    `update customers c set total_value = v.total, updated_at = now()
     from (select customer_id, sum(amount) as total from customer_values
           where account_id = $1 and customer_id = any($2::bigint[])
           group by customer_id) v
     where c.id = v.customer_id and c.account_id = $1 and c.total_value is distinct from v.total`,
    [accountId, ids],
  );
  await emitValuesChanged(tx, accountId, before, causesSince ?? null);
}

/** At most this many causes are listed per event; `moreCauses` counts the rest. */
const MAX_CAUSES = 100;

async function emitValuesChanged(
  tx: Tx,
  accountId: string,
  before: readonly { id: string; invoices: string; total: string }[],
  causesSince: number | null,
): Promise<void> {
  await tx.unsafe(
    `with b as (
       select * from jsonb_to_recordset($2::jsonb) as r(id bigint, invoices numeric, total numeric)),
     now_ as (
       select c.id, c.email, coalesce(v.amount, 0)::numeric(14,2) as invoices, c.total_value::numeric(14,2) as total,
         b.invoices as prev_invoices, b.total as prev_total, a.base_currency
       from b join customers c on c.account_id = $1 and c.id = b.id
       join accounts a on a.id = c.account_id
       left join customer_values v on v.account_id = c.account_id and v.customer_id = c.id and v.kind = 'invoices'
       where (coalesce(v.amount, 0), c.total_value) is distinct from (b.invoices, b.total)),
     ev as (
       select e.seq, e.type, e.data, e.data->>'customer' as customer,
         e.data->'changes'->'customer'->>0 as previous
       from events e
       where $3::bigint is null and e.xid = pg_current_xact_id() and e.account_id = $1
         and e.type like 'invoice.%'),
     cause as (
       -- This transaction's own invoice events (a page, a re-link): few, matched by the e-mail they name,
       -- now or before (an invoice moved from one customer to another is a cause for both).
       select n.id, ev.seq, ev.type, ev.data from ev join now_ n on n.email in (ev.customer, ev.previous)
       union all
       -- A walk's deferred values: the account's invoice events since, in one range scan, by customer.
       select e.customer_id, e.seq, e.type, e.data from events e
       where $3::bigint is not null and e.account_id = $1 and e.seq > $3::bigint and e.type like 'invoice.%'
         and e.customer_id is not null),
     causes as (
       select id, jsonb_agg(jsonb_build_object('sourceId', data->>'sourceId', 'number', data->>'number',
           'change', split_part(type, '.', 2), 'status', data->>'status', 'amount', data->>'amount')
           order by seq) filter (where rn <= ${MAX_CAUSES}) as list,
         count(*) filter (where rn > ${MAX_CAUSES}) as more
       from (select *, row_number() over (partition by id order by seq) as rn from cause) c
       group by id)
     select sevsync_emit($1, (
       select jsonb_agg(jsonb_build_object('type', 'customer.values_changed', 'customer_id', n.id,
           'data', jsonb_build_object('customer', n.email, 'currency', n.base_currency,
             'values', jsonb_build_object('invoices', n.invoices::text, 'total', n.total::text),
             'previous', jsonb_build_object('invoices', n.prev_invoices::numeric(14,2)::text,
               'total', n.prev_total::numeric(14,2)::text),
             'causes', coalesce(k.list, '[]'::jsonb))
             || case when coalesce(k.more, 0) > 0 then jsonb_build_object('moreCauses', k.more) else '{}' end)
         order by n.id)
       from now_ n left join causes k on k.id = n.id))`,
    [accountId, JSON.stringify(before), causesSince],
  );
}

/** Every customer value of the account, recomputed: the end (or a stop) of a walk that deferred them. */
export async function recomputeAccountValues(tx: Tx, accountId: string, causesSince: number): Promise<void> {
  const rows = await tx<{ id: number }[]>`select id from customers where account_id = ${accountId}`;
  await recomputeCustomerValues(
    tx,
    accountId,
    rows.map((r) => Number(r.id)),
    causesSince,
  );
}

/**
 * Re-points invoices of the given contacts to the customer their (possibly new) e-mail matches, creating
 * customers as needed; used when a contact changed or an unassigned invoice's contact got an e-mail.
 */
export async function reassignContacts(sql: Sql, accountId: string, source: string, contactIds: string[]) {
  if (contactIds.length === 0) return { moved: 0 };
  return sql.begin(async (tx) => {
    await lockAccountEvents(tx, accountId);
    const created = await upsertCustomersForContacts(tx, accountId, source, contactIds);
    const moved = await tx<{ old_id: number | null; new_id: number | null; source_id: string }[]>`
      with target as (
        select i.id, i.customer_id as old_id, cu.id as new_id, i.source_id
        from invoices i
        left join source_contacts sc on sc.account_id = i.account_id and sc.source = i.source
          and sc.source_id = i.contact_source_id
        left join customers cu on cu.account_id = i.account_id
          and email_key(cu.email) = email_key(sc.email)
        where i.account_id = ${accountId} and i.source = ${source}
          and i.contact_source_id = any(${contactIds}::text[])
      )
      update invoices i set customer_id = t.new_id, updated_at = now()
      from target t
      where i.account_id = ${accountId} and i.id = t.id and i.customer_id is distinct from t.new_id
      returning t.old_id, t.new_id, t.source_id`;
    const affected = [...created];
    for (const m of moved) {
      if (m.old_id !== null) affected.push(Number(m.old_id));
      if (m.new_id !== null) affected.push(Number(m.new_id));
    }
    await recomputeCustomerValues(tx, accountId, affected);
    const ids = moved.map((m) => m.source_id);
    if (ids.length > 0)
      await recordIssues(tx, { accountId, source, invoiceIds: ids, validIds: [], invalid: [] });
    return { moved: moved.length };
  });
}

/**
 * Switches what counts (gross or net) for the invoices of one interface (source) and recomputes the values of
 * their customers. Invoices of other sources keep their amounts.
 */
export async function applyAmountBasis(
  sql: Sql,
  accountId: string,
  basis: 'gross' | 'net',
  source: string = SOURCE_SEVDESK,
): Promise<void> {
  await sql.begin(async (tx) => {
    await lockAccountEvents(tx, accountId);
    const rows = await tx<{ customer_id: number }[]>`
      update invoices set amount = ${amountOnBasis(tx, basis, '')}, updated_at = now()
      where account_id = ${accountId} and source = ${source}
        and amount <> ${amountOnBasis(tx, basis, '')}
      returning customer_id`;
    await recomputeCustomerValues(tx, accountId, customersOf(rows));
  });
}
