import { createHash } from 'node:crypto';
import Decimal from 'decimal.js';
import type { Invoice } from '../sevdesk/schema';
import { formatMoney, parseMoney } from '../sevdesk/money';

/** Types shown in OneCockpit (DESIGN: which invoices). */
const SHOWN_TYPES = new Set(['RE', 'AR', 'TR', 'ER']);
const SHOWN_STATUSES = new Set(['200', '750', '1000']);

/**
 * What one sevDesk invoice means for the CRM:
 * - `invoice`: shown and (unless cancelled) counted;
 * - `storno`: an SR that cancels its origin; kept for the pairing, never shown;
 * - `withdrawn`: a draft (or deactivated) state; if it had been transferred it leaves the totals;
 * - `ignored`: recurring templates (WKR), reminders (MA) and anything else.
 */
export type InvoiceClass = 'invoice' | 'storno' | 'withdrawn' | 'ignored';

export function classifyInvoice(inv: Pick<Invoice, 'invoiceType' | 'status' | 'origin'>): InvoiceClass {
  if (inv.status === '100' || inv.status === '50') return inv.invoiceType === 'WKR' ? 'ignored' : 'withdrawn';
  if (inv.invoiceType === 'SR') return inv.origin ? 'storno' : 'ignored';
  if (SHOWN_TYPES.has(inv.invoiceType) && SHOWN_STATUSES.has(inv.status)) return 'invoice';
  return 'ignored';
}

/** A row for the set-based invoice upsert: plain JSON, money as two-decimal strings. */
export interface InvoiceRow {
  source_id: string;
  contact_source_id: string | null;
  origin_source_id: string | null;
  number: string | null;
  type: string;
  invoice_date: string;
  due_date: string | null;
  source_status: string;
  status: 'open' | 'paid';
  amount_gross: string;
  amount_net: string;
  paid_amount: string;
  currency: string;
  foreign_amount: string | null;
  foreign_currency: string | null;
  source_update: string;
  content_hash: string;
}

/** The calendar date in the invoice's own offset (sevDesk sends Berlin time): "2026-03-02T00:00:00+01:00" -> 2026-03-02. */
export function localDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(iso);
  if (!m?.[1]) throw new Error(`not an ISO date: ${iso}`);
  return m[1];
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function toInvoiceRow(inv: Invoice, baseCurrency: string): InvoiceRow {
  const invoiceDate = localDate(inv.invoiceDate);
  const days = inv.timeToPay === null ? null : Number(inv.timeToPay);
  const foreign = inv.currency !== baseCurrency;
  const row: Omit<InvoiceRow, 'content_hash'> = {
    source_id: inv.id,
    contact_source_id: inv.contact?.id ?? null,
    origin_source_id: inv.invoiceType === 'SR' ? (inv.origin?.id ?? null) : null,
    number: inv.invoiceNumber,
    type: inv.invoiceType,
    invoice_date: invoiceDate,
    due_date: days === null ? null : addDays(invoiceDate, days),
    source_status: inv.status,
    status: inv.status === '1000' ? 'paid' : 'open',
    amount_gross: formatMoney(parseMoney(inv.sumGross, 'sumGross')),
    amount_net: formatMoney(parseMoney(inv.sumNet, 'sumNet')),
    paid_amount: formatMoney(parseMoney(inv.paidAmount, 'paidAmount')),
    // sumGross is in the account's base currency; a foreign invoice keeps its own amount for display.
    currency: baseCurrency,
    foreign_amount: foreign
      ? formatMoney(parseMoney(inv.sumGrossForeignCurrency, 'sumGrossForeignCurrency'))
      : null,
    foreign_currency: foreign ? inv.currency : null,
    source_update: new Date(inv.update).toISOString(),
  };
  return { ...row, content_hash: createHash('sha1').update(JSON.stringify(row)).digest('hex') };
}

export function unixSeconds(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}

export { Decimal };
