import { and, count, eq, gt, inArray, isNotNull, isNull, ne, sql as sql_ } from 'drizzle-orm';
import type { ReadContext, ShownInvoice, StoredInvoiceFields } from '../domain/dunning';
import { readContext, shownInvoice } from '../domain/dunning';
import type { Sql } from './client';
import { orm } from './orm';
import { shown } from './rules.sql';
import { customers, invoiceIssues, invoices } from './schema';

// What OneCockpit shows (the CLI's `customers` and `status`), one named function per query. The status
// facts use drizzle's typed builder; the customer list stays one raw query because it nests each
// customer's invoices with json_agg (one round trip for the whole page).

export interface CustomerView {
  email: string;
  company: string | null;
  title: string | null;
  firstName: string | null;
  lastName: string | null;
  street: string | null;
  zip: string | null;
  city: string | null;
  country: string | null;
  phone: string | null;
  values: { invoices: string; total: string };
  currency: string;
  invoices: InvoiceView[];
}

/**
 * An invoice as OneCockpit shows it: the stored fields, plus `overdue`/`daysOverdue` (derived when read, from
 * the due date and today's Berlin date) and `sevdeskUrl` (from SEVSYNC_SEVDESK_INVOICE_URL); `dunningLevel`
 * and `dunnings` are its reminders (MA), which are never shown as invoices of their own.
 */
export type InvoiceView = ShownInvoice;
export type { Dunning } from '../domain/dunning';

/** Where a page of customers goes on: after this customer (by e-mail; its id breaks a tie). */
export interface CustomerKey {
  email: string;
  id: string;
}

export interface CustomersPage {
  customers: CustomerView[];
  /** The last customer of this page, or null when it was the last page. */
  next: CustomerKey | null;
}

type CustomerRow = Omit<CustomerView, 'values' | 'invoices'> & {
  id: string;
  invoicesValue: string;
  total: string;
  invoices: StoredInvoiceFields[] | null;
};

/**
 * The account's customers in e-mail order, each with its values and shown invoices: after `after` and at
 * most `limit` of them (keyset: the page is cut in SQL before the invoices are gathered), or the one whose
 * e-mail matches `email` by its key (any case).
 */
async function customerRows(
  sql: Sql,
  accountId: string,
  only: { after?: CustomerKey | undefined; limit?: number | undefined; email?: string | undefined } = {},
): Promise<CustomerRow[]> {
  const none = sql``;
  return sql<CustomerRow[]>`
    with page as (
      select * from customers
      where account_id = ${accountId}
        ${only.after ? sql`and (email, id) > (${only.after.email}::text, ${only.after.id}::bigint)` : none}
        ${only.email !== undefined ? sql`and email_key(email) = email_key(${only.email})` : none}
      order by email, id
      ${only.limit !== undefined ? sql`limit ${only.limit}` : none})
    select c.id::text as id, c.email, c.company, c.title, c.first_name as "firstName", c.last_name as "lastName",
      c.street, c.zip, c.city, c.country, c.phone, coalesce(v.amount, 0)::numeric(14,2)::text as "invoicesValue",
      c.total_value::numeric(14,2)::text as total, a.base_currency as currency,
      (select json_agg(json_build_object(
          'number', i.number, 'date', i.invoice_date, 'dueDate', i.due_date, 'status', i.status,
          'amount', i.amount::numeric(14,2)::text, 'paidAmount', i.paid_amount::numeric(14,2)::text,
          'currency', i.currency, 'source', i.source, 'foreignAmount', i.foreign_amount::numeric(14,2)::text,
          'foreignCurrency', i.foreign_currency, 'dunningLevel', i.dunning_level, 'dunnings', i.dunnings,
          'type', i.type, 'sourceId', i.source_id)
          order by i.invoice_date, i.number, i.id)
        from invoices i
        where i.account_id = c.account_id and i.customer_id = c.id and ${sql.unsafe(shown('i'))}) as invoices
    from page c
    join accounts a on a.id = c.account_id
    left join customer_values v on v.account_id = c.account_id and v.customer_id = c.id and v.kind = 'invoices'
    order by c.email, c.id`;
}

const toView =
  (ctx: ReadContext) =>
  ({ id: _id, invoicesValue, total, invoices, ...c }: CustomerRow): CustomerView => ({
    ...c,
    values: { invoices: invoicesValue, total },
    invoices: (invoices ?? []).map((i) => shownInvoice(i, ctx)),
  });

/** `ctx`: today's Berlin date and the sevDesk link template; by default now and the environment's. */
export async function listCustomers(
  sql: Sql,
  accountId: string,
  ctx: ReadContext = readContext(),
): Promise<CustomerView[]> {
  return (await customerRows(sql, accountId)).map(toView(ctx));
}

/** A page of `listCustomers`: at most `limit` customers after `after` (absent: from the first). */
export async function pageCustomers(
  sql: Sql,
  accountId: string,
  page: { limit: number; after?: CustomerKey | undefined },
  ctx: ReadContext = readContext(),
): Promise<CustomersPage> {
  const rows = await customerRows(sql, accountId, { after: page.after, limit: page.limit + 1 });
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  const last = kept.at(-1);
  return {
    customers: kept.map(toView(ctx)),
    next: more && last ? { email: last.email, id: last.id } : null,
  };
}

/** One customer of the account by its e-mail (any case, as the match key compares), or null. */
export async function findCustomer(
  sql: Sql,
  accountId: string,
  email: string,
  ctx: ReadContext = readContext(),
): Promise<CustomerView | null> {
  const [row] = await customerRows(sql, accountId, { email });
  return row ? toView(ctx)(row) : null;
}

export interface StatusFacts {
  counts: { customers: number; invoices: number; unassigned: number; invalid: number };
  unassigned: IssueView[];
  conflicts: { invoiceNumber: string; sources: string[] }[];
  /** sevDesk records that could not be stored, with the reason (they resolve when they read fine later). */
  invalid: IssueView[];
}

export interface IssueView {
  invoiceNumber: string | null;
  sourceId: string;
  reason: string;
}

/** An account's invoice issues and conflicts (not resolved): the status's lists, unpaged or one page. */
const openIssues = (accountId: string, kinds: string[]) =>
  and(
    eq(invoiceIssues.accountId, accountId),
    inArray(invoiceIssues.kind, kinds),
    isNull(invoiceIssues.resolvedAt),
  );
const shownInvoices = (accountId: string) =>
  and(eq(invoices.accountId, accountId), isNull(invoices.removedAt), ne(invoices.type, 'SR'));
/** The issues' order: by invoice number (none last), sevDesk id, then the row's id (two sources, one id). */
const issueOrder = [
  sql_`${invoiceIssues.invoiceNumber} nulls last`,
  invoiceIssues.sourceId,
  invoiceIssues.id,
] as const;
const issueColumns = {
  kind: invoiceIssues.kind,
  invoiceNumber: invoiceIssues.invoiceNumber,
  sourceId: invoiceIssues.sourceId,
  reason: invoiceIssues.reason,
  id: invoiceIssues.id,
};

/** The same number from two invoicing programs: both are kept (keyed by source) and listed here. */
const conflictQuery = (sql: Sql, accountId: string, after?: string, limit?: number) => {
  const q = orm(sql)
    .select({
      invoiceNumber: sql_<string>`${invoices.number}`,
      sources: sql_<string[]>`array_agg(distinct ${invoices.source} order by ${invoices.source})`,
    })
    .from(invoices)
    .where(
      and(
        shownInvoices(accountId),
        isNotNull(invoices.number),
        after === undefined ? undefined : gt(invoices.number, after),
      ),
    )
    .groupBy(invoices.number)
    .having(sql_`count(distinct ${invoices.source}) > 1`)
    .orderBy(invoices.number);
  return limit === undefined ? q : q.limit(limit);
};

const issueView = ({ invoiceNumber, sourceId, reason }: IssueView): IssueView => ({
  invoiceNumber,
  sourceId,
  reason,
});

export async function statusFacts(sql: Sql, accountId: string): Promise<StatusFacts> {
  const db = orm(sql);
  const [customerCount, invoiceCount, issues, conflicts] = await Promise.all([
    db.$count(customers, eq(customers.accountId, accountId)),
    db.$count(invoices, shownInvoices(accountId)),
    db
      .select(issueColumns)
      .from(invoiceIssues)
      .where(openIssues(accountId, ['unassigned', 'invalid']))
      .orderBy(...issueOrder),
    conflictQuery(sql, accountId),
  ]);
  const pick = (kind: string): IssueView[] => issues.filter((i) => i.kind === kind).map(issueView);
  const unassigned = pick('unassigned');
  const invalid = pick('invalid');
  return {
    counts: {
      customers: customerCount,
      invoices: invoiceCount,
      unassigned: unassigned.length,
      invalid: invalid.length,
    },
    unassigned,
    conflicts,
    invalid,
  };
}

/** Where a page of issues goes on: after this issue in the issues' order. */
export interface IssueKey {
  invoiceNumber: string | null;
  sourceId: string;
  id: number;
}

/** Where each list of the status goes on; null: that list has ended. */
export interface StatusKeys {
  unassigned: IssueKey | null;
  invalid: IssueKey | null;
  conflicts: string | null;
}

export interface StatusFactsPage extends StatusFacts {
  /** Where the next page goes on, or null when every list has ended. */
  next: StatusKeys | null;
}

/**
 * One page of the status's lists: at most `limit` entries of each list (unassigned, invalid, conflicts),
 * each after its key in `after` (absent: from the start; a list whose key is null has ended and is empty).
 * The counts stay the account's totals.
 */
export async function statusFactsPage(
  sql: Sql,
  accountId: string,
  page: { limit: number; after?: StatusKeys | undefined },
): Promise<StatusFactsPage> {
  const db = orm(sql);
  const { limit, after } = page;
  const issuesOf = async (kind: 'unassigned' | 'invalid', key: IssueKey | null | undefined) => {
    if (key === null) return { rows: [], next: null };
    // (number is null, number, source id, id) sorts as the issues' order: number nulls last.
    const past =
      key === undefined
        ? undefined
        : sql_`(${invoiceIssues.invoiceNumber} is null, coalesce(${invoiceIssues.invoiceNumber}, ''),
            ${invoiceIssues.sourceId}, ${invoiceIssues.id})
          > (${key.invoiceNumber === null}::boolean, ${key.invoiceNumber ?? ''}::text, ${key.sourceId}::text,
            ${key.id}::bigint)`;
    const rows = await db
      .select(issueColumns)
      .from(invoiceIssues)
      .where(and(openIssues(accountId, [kind]), past))
      .orderBy(...issueOrder)
      .limit(limit + 1);
    const kept = rows.slice(0, limit);
    const last = kept.at(-1);
    const next: IssueKey | null =
      rows.length > limit && last
        ? { invoiceNumber: last.invoiceNumber, sourceId: last.sourceId, id: last.id }
        : null;
    return { rows: kept.map(issueView), next };
  };
  const conflictsAfter = async (key: string | null | undefined) => {
    if (key === null) return { rows: [], next: null };
    const rows = await conflictQuery(sql, accountId, key, limit + 1);
    const kept = rows.slice(0, limit);
    return { rows: kept, next: rows.length > limit ? (kept.at(-1)?.invoiceNumber ?? null) : null };
  };
  const [customerCount, invoiceCount, issueCounts, unassigned, invalid, conflicts] = await Promise.all([
    db.$count(customers, eq(customers.accountId, accountId)),
    db.$count(invoices, shownInvoices(accountId)),
    db
      .select({ kind: invoiceIssues.kind, n: count() })
      .from(invoiceIssues)
      .where(openIssues(accountId, ['unassigned', 'invalid']))
      .groupBy(invoiceIssues.kind),
    issuesOf('unassigned', after?.unassigned),
    issuesOf('invalid', after?.invalid),
    conflictsAfter(after?.conflicts),
  ]);
  const counted = (kind: string) => issueCounts.find((c) => c.kind === kind)?.n ?? 0;
  const next = { unassigned: unassigned.next, invalid: invalid.next, conflicts: conflicts.next };
  return {
    counts: {
      customers: customerCount,
      invoices: invoiceCount,
      unassigned: counted('unassigned'),
      invalid: counted('invalid'),
    },
    unassigned: unassigned.rows,
    conflicts: conflicts.rows,
    invalid: invalid.rows,
    next: next.unassigned || next.invalid || next.conflicts !== null ? next : null,
  };
}
