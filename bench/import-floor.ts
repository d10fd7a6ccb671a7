import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetchAllContacts } from '../src/activities/sevdesk-reads';
import { CUSTOMER_FIELDS } from '../src/db/customers';
import { counted } from '../src/db/rules.sql';
import { createDb } from '../src/db/client';
import { copyField } from '../src/db/page-stage';
import type { Sql } from '../src/db/client';
import { ensureAccount } from '../src/db/interfaces';
import type { ContactRow } from '../src/domain/contact';
import type { InvoiceRow } from '../src/domain/invoice';
import { classifyInvoice, toInvoiceRow } from '../src/domain/invoice';
import { createSevdeskClient, walkPages } from '../src/sevdesk/client';
import { SOURCE_SEVDESK } from '../src/shared';

export const FLOOR_INCLUDES =
  'one transaction into the fresh tables with all their indexes and foreign keys: COPY source_contacts ' +
  '(every contact), COPY customers (one per e-mail of a contact with a shown invoice), COPY invoices ' +
  '(toInvoiceRow rows of shown invoices and Stornos, customer and cancelled status resolved in memory), ' +
  'COPY invoice_issues (unassigned), then customer_values and customers.total_value set-based in SQL. ' +
  'Not included: fetching and transforming (done before the clock starts).';

export interface FloorResult {
  seconds: number;
  invoicesPerSecond: number;
  rows: { sourceContacts: number; customers: number; invoices: number; issues: number };
  /** Time of each step inside the transaction, ms. */
  stepsMs: Record<string, number>;
  prepareSeconds: number;
}

async function copyRows(tx: Sql, table: string, columns: string[], rows: (string | number | null)[][]) {
  const writable = await tx.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable();
  const CHUNK = 2000;
  async function* chunks() {
    for (let i = 0; i < rows.length; i += CHUNK) {
      yield rows
        .slice(i, i + CHUNK)
        .map((r) => `${r.map(copyField).join('\t')}\n`)
        .join('');
    }
  }
  await pipeline(Readable.from(chunks()), writable);
}

interface Prepared {
  contacts: ContactRow[];
  customers: { id: number; contact: ContactRow }[];
  invoices: (InvoiceRow & { customer_id: number | null; final_status: string })[];
  unassigned: InvoiceRow[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The rows the import would end with, built in memory from the same sandbox data with the product's code. */
async function prepare(baseUrl: string, token: string): Promise<Prepared> {
  const client = createSevdeskClient({ baseUrl, token });
  const { rows: contacts } = await fetchAllContacts(client);
  const rows: InvoiceRow[] = [];
  const shown = new Set<string>();
  for await (const { page } of walkPages((offset, limit) => client.listInvoices({ offset, limit }))) {
    for (const inv of page.objects) {
      const cls = classifyInvoice(inv);
      if (cls !== 'invoice' && cls !== 'storno') continue;
      const row = toInvoiceRow(inv, 'EUR');
      rows.push(row);
      if (cls === 'invoice') shown.add(row.source_id);
    }
  }
  const contactById = new Map(contacts.map((c) => [c.source_id, c]));
  // Customers exist for contacts of shown invoices only; the first contact (by source id) per e-mail wins.
  const byEmail = new Map<string, ContactRow>();
  const candidates = rows
    .filter((r) => shown.has(r.source_id) && r.contact_source_id)
    .flatMap((r) => contactById.get(r.contact_source_id ?? '') ?? [])
    .filter((c) => c.email)
    .sort((a, b) => cmp(a.email ?? '', b.email ?? '') || cmp(a.source_id, b.source_id));
  for (const c of candidates) if (!byEmail.has(c.email ?? '')) byEmail.set(c.email ?? '', c);
  const customers = [...byEmail.values()].map((contact, i) => ({ id: i + 1, contact }));
  const customerOfEmail = new Map(customers.map((c) => [c.contact.email, c.id]));
  const cancelled = new Set(
    rows.filter((r) => r.type === 'SR' && r.origin_source_id).map((r) => r.origin_source_id),
  );
  const invoices = rows.map((r) => {
    const email = contactById.get(r.contact_source_id ?? '')?.email ?? null;
    return {
      ...r,
      customer_id: email === null ? null : (customerOfEmail.get(email) ?? null),
      final_status: r.type !== 'SR' && cancelled.has(r.source_id) ? 'cancelled' : r.status,
    };
  });
  const unassigned = invoices.filter((r) => r.type !== 'SR' && r.customer_id === null);
  return { contacts, customers, invoices, unassigned };
}

export async function runFloor(opts: {
  databaseUrl: string;
  baseUrl: string;
  token: string;
  accountId: string;
  invoices: number;
}): Promise<FloorResult> {
  const prepStarted = performance.now();
  const p = await prepare(opts.baseUrl, opts.token);
  const prepareSeconds = (performance.now() - prepStarted) / 1000;
  const db = createDb(opts.databaseUrl, { max: 2 });
  const account = opts.accountId;
  try {
    await ensureAccount(db.sql, account);
    const stepsMs: Record<string, number> = {};
    const step = async (name: string, fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      stepsMs[name] = performance.now() - t;
    };
    const started = performance.now();
    await db.sql.begin(async (tx) => {
      const t = tx as unknown as Sql;
      await step('copy source_contacts', () =>
        copyRows(
          t,
          'source_contacts',
          ['account_id', 'source', 'source_id', 'email', ...CUSTOMER_FIELDS, 'source_update'],
          p.contacts.map((c) => [
            account,
            SOURCE_SEVDESK,
            c.source_id,
            c.email,
            ...CUSTOMER_FIELDS.map((f) => c[f]),
            c.source_update,
          ]),
        ),
      );
      await step('copy customers', () =>
        copyRows(
          t,
          'customers',
          ['id', 'account_id', 'email', ...CUSTOMER_FIELDS],
          p.customers.map(({ id, contact: c }) => [
            id,
            account,
            c.email,
            ...CUSTOMER_FIELDS.map((f) => c[f]),
          ]),
        ),
      );
      await step('copy invoices', () =>
        copyRows(
          t,
          'invoices',
          [
            'account_id',
            'customer_id',
            'source',
            'source_id',
            'contact_source_id',
            'origin_source_id',
            'number',
            'type',
            'invoice_date',
            'due_date',
            'source_status',
            'status',
            'amount_gross',
            'amount_net',
            'amount',
            'paid_amount',
            'currency',
            'foreign_amount',
            'foreign_currency',
            'source_update',
            'content_hash',
          ],
          p.invoices.map((r) => [
            account,
            r.customer_id,
            SOURCE_SEVDESK,
            r.source_id,
            r.contact_source_id,
            r.origin_source_id,
            r.number,
            r.type,
            r.invoice_date,
            r.due_date,
            r.source_status,
            r.final_status,
            r.amount_gross,
            r.amount_net,
            r.amount_gross,
            r.paid_amount,
            r.currency,
            r.foreign_amount,
            r.foreign_currency,
            r.source_update,
            r.content_hash,
          ]),
        ),
      );
      await step('copy invoice_issues', () =>
        copyRows(
          t,
          'invoice_issues',
          ['account_id', 'source', 'source_id', 'invoice_number', 'kind', 'reason'],
          p.unassigned.map((r) => [
            account,
            SOURCE_SEVDESK,
            r.source_id,
            r.number,
            'unassigned',
            'no customer',
          ]),
        ),
      );
      await step('customer values', async () => {
        await t.unsafe(
          `insert into customer_values (customer_id, kind, amount, currency)
           select c.id, 'invoices', coalesce(sum(i.amount) filter (where ${counted('i')}), 0), 'EUR'
           from customers c left join invoices i on i.customer_id = c.id
           where c.account_id = $1 group by c.id`,
          [account],
        );
        await t.unsafe(
          `update customers c set total_value = v.amount from customer_values v
           where v.customer_id = c.id and c.account_id = $1`,
          [account],
        );
      });
    });
    const seconds = (performance.now() - started) / 1000;
    // Explicit ids went in: the sequence must move past them for later inserts.
    await db.sql`select setval('customers_id_seq', (select coalesce(max(id), 1) from customers))`;
    return {
      seconds,
      invoicesPerSecond: opts.invoices / seconds,
      rows: {
        sourceContacts: p.contacts.length,
        customers: p.customers.length,
        invoices: p.invoices.length,
        issues: p.unassigned.length,
      },
      stepsMs,
      prepareSeconds,
    };
  } finally {
    await db.close();
  }
}
