import { and, eq, inArray, isNotNull, isNull, ne, sql as sql_ } from 'drizzle-orm';
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

export interface InvoiceView {
  number: string | null;
  date: string | null;
  dueDate: string | null;
  status: 'open' | 'paid' | 'cancelled';
  amount: string;
  paidAmount: string;
  currency: string;
  source: string;
  foreignAmount: string | null;
  foreignCurrency: string | null;
}

export async function listCustomers(sql: Sql, accountId: string): Promise<CustomerView[]> {
  const rows = await sql<
    (Omit<CustomerView, 'values' | 'invoices'> & {
      invoicesValue: string;
      total: string;
      invoices: InvoiceView[] | null;
    })[]
  >`
    select c.email, c.company, c.title, c.first_name as "firstName", c.last_name as "lastName", c.street, c.zip,
      c.city, c.country, c.phone, coalesce(v.amount, 0)::numeric(14,2)::text as "invoicesValue",
      c.total_value::numeric(14,2)::text as total, a.base_currency as currency,
      (select json_agg(json_build_object(
          'number', i.number, 'date', i.invoice_date, 'dueDate', i.due_date, 'status', i.status,
          'amount', i.amount::numeric(14,2)::text, 'paidAmount', i.paid_amount::numeric(14,2)::text,
          'currency', i.currency, 'source', i.source, 'foreignAmount', i.foreign_amount::numeric(14,2)::text,
          'foreignCurrency', i.foreign_currency)
          order by i.invoice_date, i.number, i.id)
        from invoices i where i.customer_id = c.id and ${sql.unsafe(shown('i'))}) as invoices
    from customers c
    join accounts a on a.id = c.account_id
    left join customer_values v on v.customer_id = c.id and v.kind = 'invoices'
    where c.account_id = ${accountId}
    order by c.email`;
  return rows.map(({ invoicesValue, total, invoices, ...c }) => ({
    ...c,
    values: { invoices: invoicesValue, total },
    invoices: invoices ?? [],
  }));
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

export async function statusFacts(sql: Sql, accountId: string): Promise<StatusFacts> {
  const db = orm(sql);
  const shown = and(eq(invoices.accountId, accountId), isNull(invoices.removedAt), ne(invoices.type, 'SR'));
  const [customerCount, invoiceCount, issues, conflicts] = await Promise.all([
    db.$count(customers, eq(customers.accountId, accountId)),
    db.$count(invoices, shown),
    db
      .select({
        kind: invoiceIssues.kind,
        invoiceNumber: invoiceIssues.invoiceNumber,
        sourceId: invoiceIssues.sourceId,
        reason: invoiceIssues.reason,
      })
      .from(invoiceIssues)
      .where(
        and(
          eq(invoiceIssues.accountId, accountId),
          inArray(invoiceIssues.kind, ['unassigned', 'invalid']),
          isNull(invoiceIssues.resolvedAt),
        ),
      )
      .orderBy(sql_`${invoiceIssues.invoiceNumber} nulls last`, invoiceIssues.sourceId),
    // The same number from two invoicing programs: both are kept (keyed by source) and listed here.
    db
      .select({
        invoiceNumber: sql_<string>`${invoices.number}`,
        sources: sql_<string[]>`array_agg(distinct ${invoices.source} order by ${invoices.source})`,
      })
      .from(invoices)
      .where(and(shown, isNotNull(invoices.number)))
      .groupBy(invoices.number)
      .having(sql_`count(distinct ${invoices.source}) > 1`)
      .orderBy(invoices.number),
  ]);
  const pick = (kind: string): IssueView[] =>
    issues
      .filter((i) => i.kind === kind)
      .map(({ invoiceNumber, sourceId, reason }) => ({ invoiceNumber, sourceId, reason }));
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
