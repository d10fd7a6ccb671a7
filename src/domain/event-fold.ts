// Folding an account's change feed from its first event gives what `customers --json` shows: the
// reference of what a subscriber (OneCockpit) does with the events, and the feed's correctness test.
// `overdue`/`daysOverdue` are not in the events (they change with the day, not with the data): the fold
// derives them from the due date and today's Berlin date as the view does; `sevdeskUrl` likewise from the
// invoice's type and id.
import type { ReadContext, ShownInvoice, StoredInvoiceFields } from './dunning';
import { readContext, shownInvoice } from './dunning';

/** The shape of an event as the fold needs it (the feed's envelope carries more). */
export interface FoldEvent {
  type: string;
  data: Record<string, unknown>;
}

const CUSTOMER_FIELDS = [
  'email',
  'company',
  'title',
  'firstName',
  'lastName',
  'street',
  'zip',
  'city',
  'country',
  'phone',
] as const;

const INVOICE_FIELDS = [
  'number',
  'date',
  'dueDate',
  'status',
  'amount',
  'paidAmount',
  'currency',
  'source',
  'foreignAmount',
  'foreignCurrency',
  'dunningLevel',
  'dunnings',
  'sourceId',
] as const;

export type FoldedInvoice = ShownInvoice;
export type FoldedCustomer = Record<(typeof CUSTOMER_FIELDS)[number], unknown> & {
  values: { invoices: string; total: string };
  currency: string;
  invoices: FoldedInvoice[];
};

const pick = <K extends string>(data: Record<string, unknown>, keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, data[k] ?? null])) as Record<K, unknown>;

/** The account's customers with their invoices, as the events say, in the order `customers --json` uses. */
export function foldEvents(events: Iterable<FoldEvent>, ctx: ReadContext = readContext()): FoldedCustomer[] {
  const customers = new Map<string, Omit<FoldedCustomer, 'invoices'>>();
  const invoices = new Map<string, { customer: string | null; invoice: StoredInvoiceFields }>();
  for (const { type, data } of events) {
    switch (type) {
      case 'customer.created':
        customers.set(String(data['email']), {
          ...pick(data, CUSTOMER_FIELDS),
          values: data['values'] as FoldedCustomer['values'],
          currency: String(data['currency']),
        });
        break;
      case 'customer.updated': {
        const before = (data['changes'] as Record<string, [unknown, unknown]>)['email']?.[0];
        const key = String(before ?? data['email']);
        const c = customers.get(key);
        if (!c) throw new Error(`customer.updated of ${key} before its customer.created`);
        customers.delete(key);
        customers.set(String(data['email']), { ...c, ...pick(data, CUSTOMER_FIELDS) });
        break;
      }
      case 'customer.values_changed': {
        const c = customers.get(String(data['customer']));
        if (!c)
          throw new Error(
            `customer.values_changed of ${String(data['customer'])} before its customer.created`,
          );
        c.values = data['values'] as FoldedCustomer['values'];
        break;
      }
      case 'invoice.created':
      case 'invoice.updated':
        invoices.set(invoiceKey(data), {
          customer: (data['customer'] as string | null) ?? null,
          invoice: {
            ...(pick(data, INVOICE_FIELDS) as unknown as StoredInvoiceFields),
            type: (data['invoiceType'] as string | null | undefined) ?? null,
            dunnings: (data['dunnings'] as StoredInvoiceFields['dunnings'] | null | undefined) ?? [],
          },
        });
        break;
      case 'invoice.removed':
        invoices.delete(invoiceKey(data));
        break;
      default:
        break;
    }
  }
  const byCustomer = new Map<string, FoldedInvoice[]>();
  for (const { customer, invoice } of invoices.values()) {
    if (customer === null) continue;
    byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), shownInvoice(invoice, ctx)]);
  }
  return [...customers.values()]
    .sort((a, b) => compareText(String(a.email), String(b.email)))
    .map((c) => ({ ...c, invoices: (byCustomer.get(String(c.email)) ?? []).sort(byDateAndNumber) }));
}

const invoiceKey = (data: Record<string, unknown>): string =>
  `${String(data['source'])}:${String(data['sourceId'])}`;

/** PostgreSQL's default collation here is C-like for e-mail keys; plain code-unit order. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function byDateAndNumber(a: FoldedInvoice, b: FoldedInvoice): number {
  return (
    compareText(String(a.date ?? '\uffff'), String(b.date ?? '\uffff')) ||
    compareText(String(a.number ?? '\uffff'), String(b.number ?? '\uffff'))
  );
}
