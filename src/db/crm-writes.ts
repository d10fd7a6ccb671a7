import Decimal from 'decimal.js';
import type postgres from 'postgres';
import type { ContactRow } from '../domain/contact';
import { CONTACT_UNREADABLE } from '../domain/contact';
import type { InvoiceRow } from '../domain/invoice';
import { cleanText } from '../domain/text';
import { SOURCE_SEVDESK } from '../shared';
import type { Sql } from './client';

export type Tx = Sql | postgres.TransactionSql;

export interface InvalidInvoice {
  sourceId: string;
  invoiceNumber: string | null;
  reason: string;
}

export interface PageInput {
  accountId: string;
  source: string;
  amountBasis: 'gross' | 'net';
  /** Contacts fetched for this page (upserted into source_contacts first). */
  contacts: ContactRow[];
  invoices: InvoiceRow[];
  stornos: InvoiceRow[];
  /** Source ids seen as drafts: if transferred earlier they leave the totals. */
  withdrawnIds: string[];
  invalid: InvalidInvoice[];
  /** Every object on the page that passed its schema, whatever its type: clears earlier "invalid" issues. */
  validIds?: string[];
}

export interface PageResult {
  written: number;
  /**
   * Rows sevDesk sent that PostgreSQL still refused (found by splitting the page after a data error): they
   * are reported as invalid-payload issues, the rest of the page is written. Absent when there were none.
   */
  invalidIds?: string[];
  assigned: number;
  unassigned: number;
  invalid: number;
  openSum: string;
  paidSum: string;
  unassignedReasons: Record<string, number>;
}

const REASON_NO_EMAIL = 'the sevDesk contact has no e-mail address';
const REASON_NO_CONTACT = 'the invoice has no contact, or its contact was not found in sevDesk';

/**
 * The match key of a customer's e-mail in SQL: the same function the unique index is built on (migration
 * 0001), so that "Anna@X.de " typed in OneCockpit and "anna@x.de" from sevDesk are one customer.
 */
export const emailKeySql = (column: string): string => `email_key(${column})`;

/** Invalid-issue ids for contacts (invoice_issues is keyed by source id; contacts get a prefix). */
export const contactIssueId = (contactId: string): string => `contact:${contactId}`;

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

/** Counted invoices: shown, not cancelled, not withdrawn (the SQL twin of DESIGN's rule). */
export const counted = (alias: string): string =>
  `${alias}.removed_at is null and ${alias}.type <> 'SR' and ${alias}.status in ('open', 'paid')`;

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
  const resolved = good.map((r) => contactIssueId(r.source_id));
  if (resolved.length > 0) {
    await tx`
      update invoice_issues set resolved_at = now()
      where account_id = ${accountId} and source = ${source} and kind = 'invalid' and resolved_at is null
        and source_id = any(${resolved}::text[])`;
  }
  if (bad.length > 0) {
    const issues = bad.map((r) => ({
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

const FIELDS = CUSTOMER_FIELDS;

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

/**
 * Upserts invoice rows; returns old and new customer ids of every row that changed. The customer is looked
 * up per row (contact, then the customer its e-mail key matches, both by unique index) rather than joined:
 * a join is planned from statistics, and while an import grows the tables faster than ANALYZE sees it, the
 * planner took a few hundred customers for two and compared every row with every customer (1.2 s a page).
 */
async function upsertInvoices(
  tx: Tx,
  input: PageInput,
  rows: InvoiceRow[],
  deferValues: boolean,
): Promise<{ written: number; customers: number[] }> {
  if (rows.length === 0) return { written: 0, customers: [] };
  const ids = rows.map((r) => r.source_id);
  // The customers the rows belonged to before (their values change too), unless values wait for the walk.
  const old = deferValues
    ? []
    : await tx<{ customer_id: number | null }[]>`
    select distinct customer_id from invoices
    where account_id = ${input.accountId} and source = ${input.source} and source_id = any(${ids}::text[])
      and customer_id is not null`;
  const changed = await tx<{ customer_id: number | null }[]>`
    insert into invoices as i (account_id, customer_id, source, source_id, contact_source_id, origin_source_id, number,
      type, invoice_date, due_date, source_status, status, amount_gross, amount_net, amount, paid_amount, currency,
      foreign_amount, foreign_currency, source_update, content_hash, removed_at, removed_reason)
    select ${input.accountId}, (
        select cu.id from customers cu
        where cu.account_id = ${input.accountId} and email_key(cu.email) = (
          select email_key(sc.email) from source_contacts sc
          where sc.account_id = ${input.accountId} and sc.source = ${input.source}
            and sc.source_id = r.contact_source_id)),
      ${input.source}, r.source_id, r.contact_source_id, r.origin_source_id, r.number,
      r.type, r.invoice_date, r.due_date, r.source_status,
      case when r.type <> 'SR' and exists (
        select 1 from invoices s where s.account_id = ${input.accountId} and s.source = ${input.source}
          and s.type = 'SR' and s.removed_at is null and s.origin_source_id = r.source_id) then 'cancelled'
        else r.status end,
      r.amount_gross, r.amount_net,
      case when ${input.amountBasis} = 'net' then r.amount_net else r.amount_gross end,
      r.paid_amount, r.currency, r.foreign_amount, r.foreign_currency, r.source_update, r.content_hash, null, null
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(source_id text, contact_source_id text,
      origin_source_id text, number text, type text, invoice_date date, due_date date, source_status text,
      status text, amount_gross numeric, amount_net numeric, paid_amount numeric, currency text,
      foreign_amount numeric, foreign_currency text, source_update timestamptz, content_hash text)
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
  return {
    written: changed.length,
    customers: [...old, ...changed].flatMap((r) => (r.customer_id === null ? [] : [Number(r.customer_id)])),
  };
}

/**
 * Originals whose SR is on this page. An original on this page whose SR was stored earlier needs nothing
 * here: the upsert already gave it the status 'cancelled' (its case on a stored SR).
 */
async function markCancelled(tx: Tx, input: PageInput) {
  const srIds = input.stornos.map((r) => r.source_id);
  if (srIds.length === 0) return [];
  return tx<{ customer_id: number | null }[]>`
    update invoices o set status = 'cancelled', updated_at = now()
    from invoices s
    where s.account_id = ${input.accountId} and s.source = ${input.source} and s.source_id = any(${srIds}::text[])
      and s.type = 'SR' and s.removed_at is null
      and o.account_id = s.account_id and o.source = s.source and o.source_id = s.origin_source_id
      and o.type <> 'SR' and o.status <> 'cancelled'
    returning o.customer_id`;
}

async function withdraw(tx: Tx, input: PageInput, ids: string[], reason: string) {
  if (ids.length === 0) return [];
  return tx<{ customer_id: number | null }[]>`
    update invoices set removed_at = now(), removed_reason = ${reason}, updated_at = now()
    where account_id = ${input.accountId} and source = ${input.source} and source_id = any(${ids}::text[])
      and removed_at is null
    returning customer_id`;
}

/** "Invoices" = sum of counted invoices; "Total" = sum of all the customer's values. Never incremental. */
export async function recomputeCustomerValues(
  tx: Tx,
  accountId: string,
  customerIds: number[],
): Promise<void> {
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return;
  await tx.unsafe(
    `insert into customer_values (customer_id, kind, amount, currency, updated_at)
     select c.id, 'invoices', coalesce(sum(i.amount) filter (where ${counted('i')}), 0),
       a.base_currency, now()
     from customers c
     join accounts a on a.id = c.account_id
     left join invoices i on i.customer_id = c.id
     where c.account_id = $1 and c.id = any($2::bigint[])
     group by c.id, a.base_currency
     on conflict (customer_id, kind) do update set amount = excluded.amount, currency = excluded.currency,
       updated_at = now()
     where customer_values.amount is distinct from excluded.amount`,
    [accountId, ids],
  );
  await tx.unsafe(
    `update customers c set total_value = v.total, updated_at = now()
     from (select customer_id, sum(amount) as total from customer_values where customer_id = any($2::bigint[])
           group by customer_id) v
     where c.id = v.customer_id and c.account_id = $1 and c.total_value is distinct from v.total`,
    [accountId, ids],
  );
}

/** Every customer value of the account, recomputed: the end (or a stop) of a walk that deferred them. */
export async function recomputeAccountValues(tx: Tx, accountId: string): Promise<void> {
  const rows = await tx<{ id: number }[]>`select id from customers where account_id = ${accountId}`;
  await recomputeCustomerValues(
    tx,
    accountId,
    rows.map((r) => Number(r.id)),
  );
}

async function recordIssues(tx: Tx, input: PageInput, invoiceIds: string[]) {
  if (invoiceIds.length > 0) {
    // Unassigned: shown invoices without a customer. Re-checked every cycle; resolved once assigned.
    await tx`
      insert into invoice_issues as x (account_id, source, source_id, invoice_number, kind, reason)
      select i.account_id, i.source, i.source_id, i.number, 'unassigned',
        case when sc.source_id is null then ${REASON_NO_CONTACT}
          when sc.read_error is not null and sc.email is null then sc.read_error
          when sc.email is null and sc.email_issue is not null then sc.email_issue
          else ${REASON_NO_EMAIL} end
      from invoices i
      left join source_contacts sc on sc.account_id = i.account_id and sc.source = i.source
        and sc.source_id = i.contact_source_id
      where i.account_id = ${input.accountId} and i.source = ${input.source}
        and i.source_id = any(${invoiceIds}::text[]) and i.customer_id is null and i.type <> 'SR'
        and i.removed_at is null
      on conflict (account_id, source, source_id, kind) do update set reason = excluded.reason,
        invoice_number = excluded.invoice_number, last_seen_at = now(), resolved_at = null
      where x.resolved_at is not null or x.reason <> excluded.reason`;
    // Driven by the open issues of the page's ids (few): each one's invoice is then read by its key.
    await tx`
      update invoice_issues x set resolved_at = now()
      where x.account_id = ${input.accountId} and x.source = ${input.source} and x.kind = 'unassigned'
        and x.resolved_at is null and x.source_id = any(${invoiceIds}::text[])
        and exists (select 1 from invoices i where i.account_id = x.account_id and i.source = x.source
          and i.source_id = x.source_id and (i.customer_id is not null or i.removed_at is not null))`;
  }
  const valid = input.validIds ?? [];
  if (valid.length > 0) {
    // A transient bad payload (any invoice type) is resolved as soon as the object reads fine again.
    await tx`
      update invoice_issues set resolved_at = now()
      where account_id = ${input.accountId} and source = ${input.source} and kind = 'invalid'
        and resolved_at is null and source_id = any(${valid}::text[])`;
  }
  if (input.invalid.length > 0) {
    await tx`
      insert into invoice_issues as x (account_id, source, source_id, invoice_number, kind, reason)
      select ${input.accountId}, ${input.source}, r.source_id,
        coalesce(r.invoice_number, (select i.number from invoices i where i.account_id = ${input.accountId}
          and i.source = ${input.source} and i.source_id = r.source_id)), 'invalid', r.reason
      from jsonb_to_recordset(${JSON.stringify(
        input.invalid.map((x) => ({
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

type WriteOpts = {
  dryRun?: boolean;
  statsExclude?: ReadonlySet<string> | undefined;
  /**
   * A whole-account walk: customer values are recomputed once for the account when the walk finishes,
   * stops or pauses (`recomputeAccountValues`), not on every page.
   */
  deferValues?: boolean;
};

/**
 * PostgreSQL refused the data itself (class 22 data exception, 23 integrity violation, 54 program limit such
 * as an oversized index row): the same rows fail on every retry. Anything else (connection loss, timeouts,
 * serialization failures) is transient and is thrown for Temporal to retry.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/**
 * One page of invoices in one transaction: contacts, customers, invoices, Storno pairs, issues, values.
 * If PostgreSQL refuses some row's data, the page is split (bisected) until the refused rows are found:
 * they become invalid-payload issues with their number, id and the database's reason, and everything else
 * is written. Transient errors are thrown unchanged.
 */
export async function writeInvoicePage(
  sql: Sql,
  input: PageInput,
  opts: WriteOpts = {},
): Promise<PageResult> {
  // The check is only a shortcut: whatever it cannot read (a data error) goes through the write below,
  // which isolates the rows PostgreSQL refuses.
  const same = await unchangedPage(sql, input, opts.statsExclude).catch((err: unknown) => {
    if (isDataError(err)) return null;
    throw err;
  });
  if (same) return same;
  try {
    return await writePageOnce(sql, input, opts);
  } catch (err) {
    if (!isDataError(err)) throw err;
  }
  return writeIsolated(sql, input, opts);
}

/**
 * A page that only repeats what is stored (the sync's overlap re-lists the last minutes' invoices every
 * cycle): one read instead of a transaction of a dozen statements. Only a page of plain invoices, every one
 * stored with the same content hash, not removed, assigned to the customer its contact's e-mail matches,
 * with the status and amount the upsert would give it, and without an open issue; anything else (a new or
 * changed row, stornos, drafts, invalid rows, contacts to store) goes through the write. The stats are
 * pageStats' over the stored rows. Null: write the page.
 */
async function unchangedPage(
  sql: Sql,
  input: PageInput,
  statsExclude: ReadonlySet<string> | undefined,
): Promise<PageResult | null> {
  const rows = input.invoices;
  if (
    rows.length === 0 ||
    input.stornos.length > 0 ||
    input.withdrawnIds.length > 0 ||
    input.invalid.length > 0 ||
    input.contacts.length > 0
  )
    return null;
  const statIds = rows.map((r) => r.source_id).filter((id) => !statsExclude?.has(id));
  const [row] = await sql<{ n: number; same: number; open_sum: string | null; paid_sum: string | null }[]>`
    select count(*)::int as n,
      count(*) filter (where i.source_id is not null and i.content_hash = r.content_hash
        and i.removed_at is null and i.type <> 'SR' and i.customer_id is not null
        and i.status = case when exists (
          select 1 from invoices s where s.account_id = i.account_id and s.source = i.source
            and s.type = 'SR' and s.removed_at is null and s.origin_source_id = i.source_id) then 'cancelled'
          else r.status end
        and i.amount = case when ${input.amountBasis} = 'net' then i.amount_net else i.amount_gross end
        and exists (
          select 1 from source_contacts sc join customers cu on cu.account_id = sc.account_id
            and email_key(cu.email) = email_key(sc.email)
          where sc.account_id = i.account_id and sc.source = i.source and sc.source_id = i.contact_source_id
            and cu.id = i.customer_id)
        and not exists (
          select 1 from invoice_issues x where x.account_id = i.account_id and x.source = i.source
            and x.source_id = i.source_id and x.resolved_at is null))::int as same,
      sum(i.amount) filter (where i.status = 'open' and r.source_id = any(${statIds}::text[])) as open_sum,
      sum(i.amount) filter (where i.status = 'paid' and r.source_id = any(${statIds}::text[])) as paid_sum
    from unnest(${rows.map((r) => r.source_id)}::text[], ${rows.map((r) => r.content_hash)}::text[],
      ${rows.map((r) => r.status)}::text[]) as r(source_id, content_hash, status)
    left join invoices i on i.account_id = ${input.accountId} and i.source = ${input.source}
      and i.source_id = r.source_id`;
  if (!row || row.same !== rows.length || row.n !== rows.length) return null;
  return {
    written: 0,
    assigned: statIds.length,
    unassigned: 0,
    invalid: 0,
    openSum: new Decimal(row.open_sum ?? 0).toFixed(2),
    paidSum: new Decimal(row.paid_sum ?? 0).toFixed(2),
    unassignedReasons: {},
  };
}

interface Unit {
  kind: 'invoice' | 'storno' | 'contact';
  row: InvoiceRow | ContactRow;
}

/** The rows of a page as separately writable units; an invoice carries the contact it points at. */
function unitsOf(input: PageInput): Unit[] {
  const referenced = new Set(
    [...input.invoices, ...input.stornos].flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : [])),
  );
  return [
    ...input.stornos.map((row): Unit => ({ kind: 'storno', row })),
    ...input.invoices.map((row): Unit => ({ kind: 'invoice', row })),
    ...input.contacts
      .filter((c) => !referenced.has(c.source_id))
      .map((row): Unit => ({ kind: 'contact', row })),
  ];
}

function chunkInput(input: PageInput, units: Unit[]): PageInput {
  const invoices = units.filter((u) => u.kind === 'invoice').map((u) => u.row as InvoiceRow);
  const stornos = units.filter((u) => u.kind === 'storno').map((u) => u.row as InvoiceRow);
  const wanted = new Set([
    ...units.filter((u) => u.kind === 'contact').map((u) => u.row.source_id),
    ...[...invoices, ...stornos].flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : [])),
  ]);
  return {
    ...input,
    contacts: input.contacts.filter((c) => wanted.has(c.source_id)),
    invoices,
    stornos,
    withdrawnIds: [],
    invalid: [],
    validIds: [],
  };
}

function addResults(a: PageResult, b: PageResult): PageResult {
  const reasons = { ...a.unassignedReasons };
  for (const [k, n] of Object.entries(b.unassignedReasons)) reasons[k] = (reasons[k] ?? 0) + n;
  return {
    written: a.written + b.written,
    assigned: a.assigned + b.assigned,
    unassigned: a.unassigned + b.unassigned,
    invalid: a.invalid + b.invalid,
    openSum: new Decimal(a.openSum).plus(b.openSum).toFixed(2),
    paidSum: new Decimal(a.paidSum).plus(b.paidSum).toFixed(2),
    unassignedReasons: reasons,
  };
}

const EMPTY_RESULT: PageResult = {
  written: 0,
  assigned: 0,
  unassigned: 0,
  invalid: 0,
  openSum: '0.00',
  paidSum: '0.00',
  unassignedReasons: {},
};

async function writeIsolated(sql: Sql, input: PageInput, opts: WriteOpts): Promise<PageResult> {
  const refused: { unit: Unit; reason: string }[] = [];
  let total = EMPTY_RESULT;
  const attempt = async (units: Unit[]): Promise<void> => {
    if (units.length === 0) return;
    try {
      total = addResults(total, await writePageOnce(sql, chunkInput(input, units), opts));
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (units.length === 1) {
        refused.push({ unit: units[0]!, reason: (err as Error).message });
        return;
      }
      const half = Math.ceil(units.length / 2);
      await attempt(units.slice(0, half));
      await attempt(units.slice(half));
    }
  };
  // The whole page just failed: start with its halves.
  const units = unitsOf(input);
  const half = Math.ceil(units.length / 2);
  if (units.length > 1) {
    await attempt(units.slice(0, half));
    await attempt(units.slice(half));
  } else await attempt(units);
  const refusedInvoices = refused.filter((r) => r.unit.kind !== 'contact');
  const refusedIds = new Set(refusedInvoices.map((r) => r.unit.row.source_id));
  const invalid: InvalidInvoice[] = [
    ...input.invalid,
    ...refused.map(({ unit, reason }) =>
      unit.kind === 'contact'
        ? {
            sourceId: contactIssueId(unit.row.source_id),
            invoiceNumber: null,
            reason: `sevDesk contact ${unit.row.source_id} could not be stored: ${reason}`,
          }
        : {
            sourceId: unit.row.source_id,
            invoiceNumber: (unit.row as InvoiceRow).number,
            reason: `could not be stored: ${reason}`,
          },
    ),
  ];
  // Drafts, the page's invalid issues and the resolutions of issues of objects that read fine.
  const rest = await writePageOnce(
    sql,
    {
      ...input,
      contacts: [],
      invoices: [],
      stornos: [],
      invalid,
      validIds: (input.validIds ?? []).filter((id) => !refusedIds.has(id)),
    },
    opts,
  );
  return { ...addResults(total, rest), invalidIds: refused.map((r) => r.unit.row.source_id) };
}

async function writePageOnce(sql: Sql, input: PageInput, opts: WriteOpts = {}): Promise<PageResult> {
  const run = async (tx: Tx): Promise<PageResult> => {
    await upsertSourceContacts(tx, input.accountId, input.source, input.contacts);
    const contactIds = [
      ...new Set(input.invoices.flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : []))),
    ];
    const created = await upsertCustomersForContacts(tx, input.accountId, input.source, contactIds);
    const affected: number[] = [...created];
    let written = 0;
    for (const rows of [input.stornos, input.invoices]) {
      const res = await upsertInvoices(tx, input, rows, opts.deferValues ?? false);
      written += res.written;
      affected.push(...res.customers);
    }
    const cancelled = await markCancelled(tx, input);
    const withdrawn = await withdraw(tx, input, input.withdrawnIds, 'draft');
    written += cancelled.length + withdrawn.length;
    for (const r of [...cancelled, ...withdrawn])
      if (r.customer_id !== null) affected.push(Number(r.customer_id));
    if (!opts.deferValues) await recomputeCustomerValues(tx, input.accountId, affected);
    const invoiceIds = input.invoices.map((r) => r.source_id);
    await recordIssues(tx, input, [...invoiceIds, ...input.withdrawnIds]);
    const skip = opts.statsExclude ?? new Set<string>();
    const statIds = invoiceIds.filter((id) => !skip.has(id));
    const invalid = input.invalid.filter((x) => !skip.has(x.sourceId)).length;
    return { ...(await pageStats(tx, input, statIds)), written, invalid };
  };
  if (!opts.dryRun) return sql.begin((tx) => run(tx)) as Promise<PageResult>;
  // A dry run does exactly the same work and rolls it back, so its numbers cannot drift from a real run's.
  let result: PageResult | undefined;
  await sql
    .begin(async (tx) => {
      result = await run(tx);
      throw new DryRunRollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof DryRunRollback)) throw err;
    });
  return result as PageResult;
}

class DryRunRollback extends Error {}

async function pageStats(tx: Tx, input: PageInput, ids: string[]) {
  if (ids.length === 0) {
    return { assigned: 0, unassigned: 0, openSum: '0.00', paidSum: '0.00', unassignedReasons: {} };
  }
  const [row] = await tx<
    { assigned: number; unassigned: number; open_sum: string | null; paid_sum: string | null }[]
  >`
    select count(*) filter (where customer_id is not null)::int as assigned,
      count(*) filter (where customer_id is null)::int as unassigned,
      sum(amount) filter (where status = 'open') as open_sum,
      sum(amount) filter (where status = 'paid') as paid_sum
    from invoices
    where account_id = ${input.accountId} and source = ${input.source} and source_id = any(${ids}::text[])
      and removed_at is null and type <> 'SR'`;
  const reasons = await tx<{ reason: string; n: number }[]>`
    select reason, count(*)::int as n from invoice_issues
    where account_id = ${input.accountId} and source = ${input.source} and kind = 'unassigned'
      and resolved_at is null and source_id = any(${ids}::text[])
    group by reason`;
  return {
    assigned: row?.assigned ?? 0,
    unassigned: row?.unassigned ?? 0,
    openSum: new Decimal(row?.open_sum ?? 0).toFixed(2),
    paidSum: new Decimal(row?.paid_sum ?? 0).toFixed(2),
    unassignedReasons: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
  };
}

/**
 * Re-points invoices of the given contacts to the customer their (possibly new) e-mail matches, creating
 * customers as needed; used when a contact changed or an unassigned invoice's contact got an e-mail.
 */
export async function reassignContacts(sql: Sql, accountId: string, source: string, contactIds: string[]) {
  if (contactIds.length === 0) return { moved: 0 };
  return sql.begin(async (tx) => {
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
      where i.id = t.id and i.customer_id is distinct from t.new_id
      returning t.old_id, t.new_id, t.source_id`;
    const affected = [...created];
    for (const m of moved) {
      if (m.old_id !== null) affected.push(Number(m.old_id));
      if (m.new_id !== null) affected.push(Number(m.new_id));
    }
    await recomputeCustomerValues(tx, accountId, affected);
    const ids = moved.map((m) => m.source_id);
    if (ids.length > 0) {
      const input = {
        accountId,
        source,
        amountBasis: 'gross',
        contacts: [],
        invoices: [],
        stornos: [],
        withdrawnIds: [],
        invalid: [],
      } as PageInput;
      await recordIssues(tx, input, ids);
    }
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
    const rows = await tx<{ customer_id: number }[]>`
      update invoices set amount = case when ${basis} = 'net' then amount_net else amount_gross end, updated_at = now()
      where account_id = ${accountId} and source = ${source}
        and amount <> case when ${basis} = 'net' then amount_net else amount_gross end
      returning customer_id`;
    await recomputeCustomerValues(
      tx,
      accountId,
      rows.flatMap((r) => (r.customer_id === null ? [] : [Number(r.customer_id)])),
    );
  });
}

/**
 * Refreshes planner statistics while an import grows the tables: with statistics from when an account had
 * no rows, PostgreSQL plans the per-page lookups as scans over the whole account and each page gets slower.
 */
export async function analyzeSyncTables(sql: Sql): Promise<void> {
  await sql`analyze invoices, invoice_issues, source_contacts, customers, customer_values`;
}

/**
 * ANALYZE only when the statistics are stale, and only the tables that are: a table that changed by as many
 * rows since its last analyze as it had then (at least 200), so that a growing import re-plans at each
 * doubling (pages 1, 2, 4, 8, ...) rather than every few pages, and the tables a walk does not grow (its
 * contacts, loaded at its start; the values, recomputed at its end) are not analyzed again each time.
 * The floor is low because a table grows by a few hundred rows a page at the start (customers: 450 on the
 * first page, so with a floor of 1,000 pages 2 to 13 were planned from "2 customers"); with it, ANALYZE took
 * 12 to 18 ms a page on average in the import bench. Autovacuum's own ANALYZE counts too. The check itself
 * reads pg_stat_user_tables (well under a millisecond).
 */
export async function analyzeIfStale(sql: Sql): Promise<boolean> {
  const rows = await sql<{ relname: string }[]>`
    select relname from pg_stat_user_tables
    where schemaname = current_schema()
      and relname in ('invoices', 'invoice_issues', 'source_contacts', 'customers', 'customer_values')
      and n_mod_since_analyze >= greatest(200, n_live_tup - n_mod_since_analyze)
    order by relname`;
  if (rows.length === 0) return false;
  // Names from the fixed list above, never from input.
  await sql.unsafe(`analyze ${rows.map((r) => r.relname).join(', ')}`);
  return true;
}
