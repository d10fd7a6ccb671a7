import Decimal from 'decimal.js';
import type { SandboxStore } from '../../sandbox';

// The expected CRM view computed straight from the sandbox's data with the rules of docs/architecture.md
// ("Invariants": what counts), written independently of src/domain so that a bug there cannot hide in both
// places.

export interface ExpectedCustomer {
  invoices: string;
  list: string[];
}

export interface Truth {
  customers: Record<string, ExpectedCustomer>;
  unassigned: string[];
}

function emailOf(store: SandboxStore, contactId: string): string | null {
  const emails = store
    .communicationWays(contactId)
    .filter((w) => w.type === 'EMAIL' && (w.value ?? '').trim() !== '')
    .sort((a, b) => Number(a.id) - Number(b.id));
  const chosen = emails.find((w) => w.main === '1') ?? emails.find((w) => w.key?.id === '8') ?? emails[0];
  return chosen ? (chosen.value ?? '').trim().toLowerCase() : null;
}

export function truthOf(store: SandboxStore): Truth {
  const all = [...store.invoices()];
  const cancelled = new Set(all.filter((i) => i.invoiceType === 'SR' && i.origin).map((i) => i.origin!.id));
  const customers: Record<string, { sum: Decimal; list: string[] }> = {};
  const unassigned: string[] = [];
  for (const inv of all) {
    if (!['RE', 'AR', 'TR', 'ER'].includes(inv.invoiceType) || !['200', '750', '1000'].includes(inv.status))
      continue;
    const email = emailOf(store, inv.contact.id);
    if (!email) {
      unassigned.push(inv.id);
      continue;
    }
    const status = cancelled.has(inv.id) ? 'cancelled' : inv.status === '1000' ? 'paid' : 'open';
    const c = (customers[email] ??= { sum: new Decimal(0), list: [] });
    if (status !== 'cancelled') c.sum = c.sum.plus(inv.sumGross);
    c.list.push(
      `${inv.invoiceNumber}:${status}:${new Decimal(inv.sumGross).toFixed(2)}:${new Decimal(String(inv.paidAmount)).toFixed(2)}`,
    );
  }
  return {
    customers: Object.fromEntries(
      Object.entries(customers).map(([email, c]) => [
        email,
        { invoices: c.sum.toFixed(2), list: c.list.sort() },
      ]),
    ),
    unassigned: unassigned.sort(),
  };
}

/** The same shape from what sevsync shows (customers without invoices are left out, as in the truth). */
export function viewOf(
  customers: {
    email: string;
    values: { invoices: string };
    invoices: { number: string | null; status: string; amount: string; paidAmount: string }[];
  }[],
  unassigned: { sourceId: string }[],
): Truth {
  return {
    customers: Object.fromEntries(
      customers
        .filter((c) => c.invoices.length > 0)
        .map((c) => [
          c.email,
          {
            invoices: c.values.invoices,
            list: c.invoices.map((i) => `${i.number}:${i.status}:${i.amount}:${i.paidAmount}`).sort(),
          },
        ]),
    ),
    unassigned: unassigned.map((u) => u.sourceId).sort(),
  };
}
