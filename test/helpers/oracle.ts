import Decimal from 'decimal.js';
import type { Sql } from '../../src/db/client';

/**
 * The test oracle for "Kundenwert (Rechnungen)", stated independently of production's SQL: read every sevDesk
 * invoice row of the account and add up, in decimal, those that count (docs/architecture.md, "Invariants"):
 * still in the source (not removed), not a Storno row (SR), and open or paid. Every customer appears, with
 * "0.00" when nothing counts. Returns e-mail -> amount with two decimals.
 */
export async function recomputedInvoiceValues(sql: Sql, accountId: string): Promise<Map<string, string>> {
  const customers = await sql<{ id: string; email: string }[]>`
    select id::text as id, email from customers where account_id = ${accountId}`;
  const rows = await sql<
    { customerId: string | null; amount: string; type: string; status: string; removed: boolean }[]
  >`
    select customer_id::text as "customerId", amount::text as amount, type, status, removed_at is not null as removed
    from invoices where account_id = ${accountId} and source = 'sevdesk'`;
  const sums = new Map<string, Decimal>(customers.map((c) => [c.id, new Decimal(0)]));
  for (const r of rows) {
    if (r.customerId === null || r.removed || r.type === 'SR') continue;
    if (r.status !== 'open' && r.status !== 'paid') continue;
    const sum = sums.get(r.customerId);
    if (sum) sums.set(r.customerId, sum.plus(r.amount));
  }
  return new Map(
    customers
      .map((c) => [c.email, sums.get(c.id)!.toFixed(2)] as [string, string])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
