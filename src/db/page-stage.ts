// A page's invoice rows reach PostgreSQL by COPY into a temporary staging table, and the statements of the
// page's write read them from there: no JSON document built, sent and parsed per statement, and the page's ids
// are a table the planner can join (a 1,000-element array compared with every row of a growing table is not).
import type { InvoiceRow } from '../domain/invoice';
import type { Tx } from './client';

/** The staging table: one per connection, emptied when its transaction ends. */
export const STAGE = 'pg_temp.sevsync_page_invoices';

/** The staged columns, in COPY order: the InvoiceRow fields plus the row's place on the page. */
const COLUMNS = [
  'ord',
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
  'paid_amount',
  'currency',
  'foreign_amount',
  'foreign_currency',
  'source_update',
  'content_hash',
] as const;

// `if not exists`: the table lives as long as the connection; `on commit delete rows` empties it after each
// transaction that used it, so a staged page never outlives its write (or its rollback). Every column is text:
// COPY then cannot refuse a value (postgres.js loses an error raised inside COPY), and the merge's casts raise
// PostgreSQL's data errors in a statement, where the page's bisection isolates the row.
const CREATE = `create temp table if not exists sevsync_page_invoices (
  ord integer not null, source_id text not null, contact_source_id text, origin_source_id text, number text,
  type text not null, invoice_date text, due_date text, source_status text, status text, amount_gross text,
  amount_net text, paid_amount text, currency text, foreign_amount text, foreign_currency text,
  source_update text, content_hash text) on commit delete rows`;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

// eslint-disable-next-line no-control-regex -- NUL: PostgreSQL text cannot hold it (the row code strips it)
const SPECIAL = /[\\\t\n\r\u0000]/;
// eslint-disable-next-line no-control-regex -- see SPECIAL
const SPECIALS = /[\\\t\n\r\u0000]/g;

/**
 * One value in COPY's text format: \N for null; backslash, tab, newline and carriage return escaped; a NUL,
 * which no text value can hold, dropped (rows come through cleanText, which already removed it).
 */
export function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  const s = String(v);
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c] ?? '') : s;
}

/** The page's rows as COPY text, in the order given (their `ord`). */
export function copyText(rows: readonly InvoiceRow[]): string {
  let out = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out +=
      `${i}\t${copyField(r.source_id)}\t${copyField(r.contact_source_id)}\t${copyField(r.origin_source_id)}\t` +
      `${copyField(r.number)}\t${copyField(r.type)}\t${copyField(r.invoice_date)}\t${copyField(r.due_date)}\t` +
      `${copyField(r.source_status)}\t${copyField(r.status)}\t${copyField(r.amount_gross)}\t` +
      `${copyField(r.amount_net)}\t${copyField(r.paid_amount)}\t${copyField(r.currency)}\t` +
      `${copyField(r.foreign_amount)}\t${copyField(r.foreign_currency)}\t${copyField(r.source_update)}\t` +
      `${copyField(r.content_hash)}\n`;
  }
  return out;
}

/**
 * Stages the rows (Stornos first, then invoices, each in their order on the page) in the transaction's staging
 * table, which is created on the connection's first page and is empty at every transaction's start.
 */
export async function stageInvoiceRows(tx: Tx, rows: readonly InvoiceRow[]): Promise<void> {
  await tx.unsafe(CREATE);
  if (rows.length === 0) return;
  const writable = await tx.unsafe(`copy ${STAGE} (${COLUMNS.join(', ')}) from stdin`).writable();
  await new Promise<void>((resolve, reject) => {
    writable.once('error', reject);
    writable.once('finish', resolve);
    writable.end(copyText(rows));
  });
  // postgres.js settles a COPY without reporting what the server made of it: count what arrived.
  const [staged] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx.unsafe(STAGE)}`;
  if (staged?.n !== rows.length) {
    throw new Error(`staging the page's invoices copied ${staged?.n ?? 0} of ${rows.length} rows`);
  }
}
