import { hash } from 'node:crypto';
import Decimal from 'decimal.js';
import type { Invoice } from '../sevdesk/schema';
import { dayExists, moneyText } from '../sevdesk/schema';
import { centsText, formatMoney, parseMoney } from '../sevdesk/money';
import {
  amountInRange,
  digitsAt,
  MAX_TIME_TO_PAY_DAYS,
  MAX_YEAR,
  MIN_YEAR,
  RecordError,
  sensibleDate,
  sensibleMs,
} from './limits';
import { dayText, daysFromCivil, isoText } from './calendar';
import { cleanText } from './text';

/** Types shown in OneCockpit (docs/sevdesk.md, "Which invoices count, and the evidence"). */
const SHOWN_TYPES = new Set(['RE', 'AR', 'TR', 'ER']);
const SHOWN_STATUSES = new Set(['200', '750', '1000']);

/**
 * What one sevDesk invoice means for the CRM:
 * - `invoice`: shown and (unless cancelled) counted;
 * - `storno`: an SR that cancels its origin; kept for the pairing, never shown;
 * - `withdrawn`: a draft (or deactivated) state; if it had been transferred it leaves the totals;
 * - `unknown-status`: a shown type in a status sevDesk does not document (`"500"` has been seen): neither
 *   shown nor counted, and reported (a stored copy keeps its last known state) until a known status arrives;
 * - `reminder`: a dunning reminder (MA) whose origin is an invoice: attached to that invoice (its level and
 *   date), never shown or counted itself (its fee is not billed work, its amount the dunned invoice's again);
 * - `ignored`: recurring templates (WKR), reminders without an origin invoice and anything else.
 */
export type InvoiceClass = 'invoice' | 'storno' | 'reminder' | 'withdrawn' | 'unknown-status' | 'ignored';

export function classifyInvoice(inv: Pick<Invoice, 'invoiceType' | 'status' | 'origin'>): InvoiceClass {
  if (inv.status === '100' || inv.status === '50') return inv.invoiceType === 'WKR' ? 'ignored' : 'withdrawn';
  if (inv.invoiceType === 'SR') return cancelledInvoiceId(inv) !== null ? 'storno' : 'ignored';
  // Any status but draft: a reminder sent (200), paid (1000) or in an undocumented one (500) reminds alike.
  if (inv.invoiceType === 'MA') return cancelledInvoiceId(inv) !== null ? 'reminder' : 'ignored';
  if (!SHOWN_TYPES.has(inv.invoiceType)) return 'ignored';
  return SHOWN_STATUSES.has(inv.status) ? 'invoice' : 'unknown-status';
}

/**
 * The invoice an SR cancels (or an MA reminds about): its origin, when that is an invoice (an origin may also
 * point to an Order).
 */
function cancelledInvoiceId(inv: Pick<Invoice, 'origin'>): string | null {
  const origin = inv.origin;
  return origin && origin.objectName === 'Invoice' ? origin.id : null;
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
  if (!DATE_PREFIX.test(iso)) throw new RecordError(`not an ISO date: ${iso.slice(0, 40)}`);
  return iso.slice(0, 10);
}
const DATE_PREFIX = /^\d{4}-\d{2}-\d{2}/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function addDays(date: string, days: number): string {
  // A date that exists (a row's always does) by numbers; anything else the way Date reads it.
  if (DATE.test(date) && Number.isSafeInteger(days)) {
    const y = digitsAt(date, 0, 4);
    const m = digitsAt(date, 5, 2);
    const d = digitsAt(date, 8, 2);
    const text = dayExists(y, m, d) ? dayText(daysFromCivil(y, m, d) + days) : null;
    if (text !== null) return text;
  }
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * invoiceDate + timeToPay, or null when there is no term ("", null) or the term is not a sane number of days
 * (a word, negative, more than 10 years): the invoice is kept either way, only without a due date (and so
 * never overdue). "0" is due on the invoice date (docs/sevdesk.md, "Due dates, overdue and reminders").
 */
export function dueDate(invoiceDate: string, timeToPay: string | null | undefined): string | null {
  if (timeToPay === null || timeToPay === undefined || !/^\s*\d+\s*$/.test(timeToPay)) return null;
  const days = Number(timeToPay);
  if (!Number.isSafeInteger(days) || days > MAX_TIME_TO_PAY_DAYS) return null;
  const due = addDays(invoiceDate, days);
  return sensibleDate(due) ? due : null;
}

/** A money field as stored: two decimals, within numeric(14,2). */
function money(value: string | number, field: string): string {
  // A plain amount (nearly all) without a Decimal; the rest, and every refusal, through Decimal.
  const cents = typeof value === 'string' ? centsText(value) : null;
  if (cents !== null) return cents;
  const d = parseMoney(value, field).toDecimalPlaces(2);
  if (!amountInRange(d)) {
    throw new RecordError(
      `${field} out of range: ${String(value).slice(0, 40)} (at most 12 digits before the decimal point)`,
    );
  }
  return formatMoney(d);
}

/** `value` as an ISO instant in UTC; `ms` is Date.parse(value). */
function instant(ms: number, value: string, field: string): string {
  if (!sensibleMs(ms)) {
    throw new RecordError(`${field} out of range: ${value.slice(0, 40)} (years ${MIN_YEAR} to ${MAX_YEAR})`);
  }
  return isoText(ms) ?? new Date(ms).toISOString();
}

/**
 * The stored row of one invoice. Text is made storable (no NUL, no lone surrogates, bounded), a due date that
 * cannot be computed is left empty; what cannot be stored at all (an amount beyond numeric(14,2), a date
 * outside 1900..2200, a foreign invoice without its foreign amount) throws a RecordError with the reason.
 */
export function toInvoiceRow(inv: Invoice, baseCurrency: string): InvoiceRow {
  return invoiceRow(inv, baseCurrency, Date.parse(inv.update));
}

/** toInvoiceRow with `inv.update` parsed by the caller (classifyPage reads it for the cursor too). */
export function invoiceRow(inv: Invoice, baseCurrency: string, updateMs: number): InvoiceRow {
  const invoiceDate = localDate(inv.invoiceDate);
  if (!sensibleDate(invoiceDate)) {
    throw new RecordError(
      `invoiceDate out of range: ${inv.invoiceDate.slice(0, 40)} (years ${MIN_YEAR} to ${MAX_YEAR})`,
    );
  }
  const foreign = inv.currency !== baseCurrency;
  if (foreign && inv.sumGrossForeignCurrency === undefined) {
    throw new RecordError(`sumGrossForeignCurrency missing on a ${inv.currency} invoice`);
  }
  const base = baseAmounts(inv, foreign);
  // Built once: the hash is of the row's JSON without it, and is added to the same object.
  const row = {
    source_id: inv.id,
    contact_source_id: inv.contact?.id ?? null,
    origin_source_id: inv.invoiceType === 'SR' ? cancelledInvoiceId(inv) : null,
    number: cleanText(inv.invoiceNumber, 200),
    type: cleanText(inv.invoiceType, 20) ?? '?',
    invoice_date: invoiceDate,
    due_date: dueDate(invoiceDate, inv.timeToPay),
    source_status: inv.status,
    status: inv.status === '1000' ? 'paid' : 'open',
    amount_gross: money(base.gross, base.grossField),
    amount_net: money(base.net, base.netField),
    paid_amount: money(inv.paidAmount, 'paidAmount'),
    // The amounts are in the account's base currency; a foreign invoice keeps its own amount for display.
    currency: baseCurrency,
    foreign_amount:
      foreign && inv.sumGrossForeignCurrency !== undefined
        ? money(inv.sumGrossForeignCurrency, 'sumGrossForeignCurrency')
        : null,
    foreign_currency: foreign ? inv.currency : null,
    source_update: instant(updateMs, inv.update, 'update'),
  } as InvoiceRow;
  row.content_hash = hash('sha1', JSON.stringify(row));
  return row;
}

/** A bookkeeping sum in any form sevDesk sends money in, or null when it is absent or has no safe meaning. */
const accountingSum = (inv: Invoice, field: 'sumGrossAccounting' | 'sumNetAccounting'): string | null => {
  const v = inv[field];
  return typeof v === 'string' || typeof v === 'number' ? moneyText(v) : null;
};

/**
 * Which sums are in the base currency. sevDesk does not say whether sumGross of a foreign-currency invoice
 * is in EUR or in the invoice's own currency; the *Accounting sums are the bookkeeping (base) figures, so they
 * win for a foreign invoice when present. Without them, a foreign invoice whose sumGross equals its own-currency sum cannot be
 * told apart: it is reported instead of adding, say, USD to a EUR value.
 */
function baseAmounts(inv: Invoice, foreign: boolean) {
  // An invoice in the base currency has its sums in it, whatever else it carries.
  if (!foreign) return { gross: inv.sumGross, net: inv.sumNet, grossField: 'sumGross', netField: 'sumNet' };
  const gross = accountingSum(inv, 'sumGrossAccounting');
  const net = accountingSum(inv, 'sumNetAccounting');
  if (gross !== null && net !== null) {
    return { gross, net, grossField: 'sumGrossAccounting', netField: 'sumNetAccounting' };
  }
  if (
    inv.sumGrossForeignCurrency !== undefined &&
    inv.sumGross === inv.sumGrossForeignCurrency &&
    !parseMoney(inv.sumGross, 'sumGross').isZero()
  ) {
    throw new RecordError(
      `which amount is in the base currency is unclear: sumGross equals the ${inv.currency} sum and there is no sumGrossAccounting`,
    );
  }
  return { gross: inv.sumGross, net: inv.sumNet, grossField: 'sumGross', netField: 'sumNet' };
}

export function unixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export { Decimal };
