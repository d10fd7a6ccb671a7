// Reading an account's change feed whole, and comparing its fold with `customers --json` in one order.
import type { Tx } from '../../src/db/client';
import type { ChangeEvent } from '../../src/db/events';
import { accountEvents } from '../../src/db/events';

/** Every event of the account from the first, `pageSize` at a time (small pages exercise the paging). */
export async function allAccountEvents(sql: Tx, accountId: string, pageSize = 1000): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  let after = 0;
  for (;;) {
    const { events, next } = await accountEvents(sql, accountId, after, pageSize);
    if (events.length === 0) return out;
    out.push(...events);
    after = next;
  }
}

/** JSON with every object's keys sorted: the fold and the HTTP serializer may order keys differently. */
const sortedJson = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : x,
  );

/** Customers by e-mail, each one's invoices by their JSON: the fold and the view in the same order. */
export const canonicalCustomers = (customers: { email: unknown; invoices: unknown[] }[]) =>
  customers
    .map((c) => ({ ...c, invoices: c.invoices.map(sortedJson).sort() }))
    .sort((a, b) => String(a.email).localeCompare(String(b.email)));
