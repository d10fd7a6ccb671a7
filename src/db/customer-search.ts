import type { Sql } from './client';
import { counted, shown } from './rules.sql';

// The customers page for a coach with thousands of customers: a search by name or e-mail, sorted by value
// or by name, one page at a time (keyset: where the page goes on is the sort key of its last, or for the way
// back its first, customer). Only what the list shows is read: no invoices, their numbers only.

export type CustomerSort = 'value' | 'name';

export interface CustomerListItem {
  email: string;
  company: string | null;
  title: string | null;
  firstName: string | null;
  lastName: string | null;
  values: { invoices: string; total: string };
  currency: string;
  /** Shown invoices (cancelled ones included). */
  invoiceCount: number;
  /** Open and paid invoices, the ones in the value. */
  countedCount: number;
}

/** Where a page starts or ends: the sort key of a customer (`value` a decimal string, or the name key). */
export interface CustomerSearchKey {
  sortKey: string;
  email: string;
  id: string;
}

export interface CustomerSearchInput {
  /** Part of an e-mail, first or last name, "first last" or company name (any case); empty: all. */
  q: string;
  sort: CustomerSort;
  limit: number;
  /** After this customer (forwards), or before it (`direction: 'back'`); absent: the first page. */
  from?: { key: CustomerSearchKey; direction: 'forward' | 'back' } | undefined;
}

export interface CustomerSearchPage {
  customers: CustomerListItem[];
  /** How many customers match the search (all pages). */
  total: number;
  /** The last customer of the page when another page follows, else null. */
  next: CustomerSearchKey | null;
  /** The first customer of the page when a page comes before it, else null. */
  prev: CustomerSearchKey | null;
}

type Row = Omit<CustomerListItem, 'values'> & {
  id: string;
  sortKey: string;
  invoicesValue: string;
  total: string;
};

/**
 * `q` as an ILIKE pattern that matches it anywhere, its own `%`, `_` and `\` taken literally (backslash is
 * PostgreSQL's default LIKE escape).
 */
export const containsPattern = (q: string): string => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function searchCustomers(
  sql: Sql,
  accountId: string,
  input: CustomerSearchInput,
): Promise<CustomerSearchPage> {
  const none = sql``;
  const q = input.q.trim();
  const pattern = containsPattern(q);
  const filter = q
    ? sql`and (c.email ilike ${pattern} or c.first_name ilike ${pattern}
          or c.last_name ilike ${pattern} or c.company ilike ${pattern}
          or concat_ws(' ', c.first_name, c.last_name) ilike ${pattern})`
    : none;
  const back = input.from?.direction === 'back';
  const key = input.from?.key;
  // Value: highest first, then e-mail. Name: last name, first name, else the company, else the e-mail.
  const byValue = input.sort === 'value';
  const orderBy = (p: string) =>
    sql.unsafe(
      byValue
        ? back
          ? `order by ${p}value asc, ${p}email desc, ${p}id desc`
          : `order by ${p}value desc, ${p}email asc, ${p}id asc`
        : back
          ? `order by ${p}sort_key desc, ${p}email desc, ${p}id desc`
          : `order by ${p}sort_key asc, ${p}email asc, ${p}id asc`,
    );
  const past = !key
    ? none
    : byValue
      ? back
        ? sql`where (-value, email, id) < (-(${key.sortKey}::numeric), ${key.email}::text, ${key.id}::bigint)`
        : sql`where (-value, email, id) > (-(${key.sortKey}::numeric), ${key.email}::text, ${key.id}::bigint)`
      : back
        ? sql`where (sort_key, email, id) < (${key.sortKey}::text, ${key.email}::text, ${key.id}::bigint)`
        : sql`where (sort_key, email, id) > (${key.sortKey}::text, ${key.email}::text, ${key.id}::bigint)`;
  const [rows, [counts]] = await Promise.all([
    sql<Row[]>`
      with found as (
        select c.id, c.account_id, c.email, c.company, c.title, c.first_name, c.last_name, c.total_value,
          coalesce(v.amount, 0)::numeric(14,2) as value,
          lower(coalesce(nullif(btrim(concat_ws(' ', c.last_name, c.first_name)), ''), nullif(btrim(c.company), ''),
            c.email)) collate "C" as sort_key
        from customers c
        left join customer_values v on v.account_id = c.account_id and v.customer_id = c.id and v.kind = 'invoices'
        where c.account_id = ${accountId} ${filter}),
      page as (select * from found ${past} ${orderBy('')} limit ${input.limit + 1})
      select p.id::text as id, p.email, p.company, p.title, p.first_name as "firstName", p.last_name as "lastName",
        p.value::text as "invoicesValue", p.total_value::numeric(14,2)::text as total, a.base_currency as currency,
        case when ${byValue} then p.value::text else p.sort_key end as "sortKey",
        (select count(*) from invoices i
          where i.account_id = p.account_id and i.customer_id = p.id and ${sql.unsafe(shown('i'))})::int
          as "invoiceCount",
        (select count(*) from invoices i
          where i.account_id = p.account_id and i.customer_id = p.id and ${sql.unsafe(counted('i'))})::int
          as "countedCount"
      from page p
      join accounts a on a.id = p.account_id
      ${orderBy('p.')}`,
    sql<{ n: number }[]>`
      select count(*)::int as n from customers c where c.account_id = ${accountId} ${filter}`,
  ]);
  const more = rows.length > input.limit;
  const kept = more ? rows.slice(0, input.limit) : rows;
  if (back) kept.reverse();
  const keyOf = (r: Row | undefined): CustomerSearchKey | null =>
    r ? { sortKey: r.sortKey, email: r.email, id: r.id } : null;
  const first = kept[0];
  const last = kept.at(-1);
  return {
    customers: kept.map(({ id: _id, sortKey: _k, invoicesValue, total, ...c }) => ({
      ...c,
      values: { invoices: invoicesValue, total },
    })),
    total: counts?.n ?? 0,
    // Forwards: another page follows when there was one more row; one came before when we started after one.
    // Backwards the same, mirrored.
    next: back ? (key ? keyOf(last) : null) : more ? keyOf(last) : null,
    prev: back ? (more ? keyOf(first) : null) : key ? keyOf(first) : null,
  };
}
