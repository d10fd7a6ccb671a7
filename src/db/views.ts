import type { Sql } from './client';

// What OneCockpit shows (the CLI's `customers` and `status`), one named function per query.

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
        from invoices i where i.customer_id = c.id and i.removed_at is null and i.type <> 'SR') as invoices
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
  const [counts] = await sql<{ customers: number; invoices: number }[]>`
    select (select count(*)::int from customers where account_id = ${accountId}) as customers,
      (select count(*)::int from invoices i where i.account_id = ${accountId} and i.removed_at is null
        and i.type <> 'SR') as invoices`;
  const unassigned = await sql<IssueView[]>`
    select invoice_number as "invoiceNumber", source_id as "sourceId", reason from invoice_issues
    where account_id = ${accountId} and kind = 'unassigned' and resolved_at is null
    order by invoice_number nulls last, source_id`;
  const invalid = await sql<IssueView[]>`
    select invoice_number as "invoiceNumber", source_id as "sourceId", reason from invoice_issues
    where account_id = ${accountId} and kind = 'invalid' and resolved_at is null
    order by invoice_number nulls last, source_id`;
  // The same number from two invoicing programs: both are kept (keyed by source) and listed here.
  const conflicts = await sql<{ invoiceNumber: string; sources: string[] }[]>`
    select number as "invoiceNumber", array_agg(distinct source order by source) as sources from invoices
    where account_id = ${accountId} and number is not null and removed_at is null and type <> 'SR'
    group by number having count(distinct source) > 1 order by number`;
  return {
    counts: {
      customers: counts?.customers ?? 0,
      invoices: counts?.invoices ?? 0,
      unassigned: unassigned.length,
      invalid: invalid.length,
    },
    unassigned: [...unassigned],
    conflicts: [...conflicts],
    invalid: [...invalid],
  };
}
