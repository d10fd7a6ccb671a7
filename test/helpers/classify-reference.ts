// The page classification as it was before its hot path was made cheaper (domain/page.ts, invoice.ts,
// dunning.ts, limits.ts and text.ts of that time), kept verbatim so that the equivalence tests and
// bench/parse-profile.ts can run the old and the new side by side. Not product code: never import it from src.
import { createHash } from 'node:crypto';
import type Decimal from 'decimal.js';
import type { InvoiceRow } from '../../src/domain/invoice';
import { classifyInvoice } from '../../src/domain/invoice';
import type { ClassifiedPage, InvalidInvoice } from '../../src/domain/page';
import type { ReminderRow } from '../../src/domain/dunning';
import { dunningLevelOf } from '../../src/domain/dunning';
import { RecordError } from '../../src/domain/limits';
import { reasonText } from '../../src/domain/reasons';
import type { Page } from '../../src/sevdesk/client';
import { formatMoney, parseMoney } from '../../src/sevdesk/money';
import type { Invoice } from '../../src/sevdesk/schema';
import { moneyText } from '../../src/sevdesk/schema';

const MAX_ABS_AMOUNT_EXCLUSIVE = 1e12;
const MIN_YEAR = 1900;
const MAX_YEAR = 2200;
const MAX_TIME_TO_PAY_DAYS = 3650;
const MAX_TEXT_LENGTH = 1000;

const amountInRange = (d: Decimal): boolean => d.abs().lessThan(MAX_ABS_AMOUNT_EXCLUSIVE);

export function sensibleInstant(d: Date): boolean {
  if (!Number.isFinite(d.getTime())) return false;
  const y = d.getUTCFullYear();
  return y >= MIN_YEAR && y <= MAX_YEAR;
}

export function sensibleDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return sensibleInstant(d) && d.toISOString().slice(0, 10) === date;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function storableText(value: string, max = MAX_TEXT_LENGTH): string {
  let v = value.replace(UNSTORABLE, '');
  if (v.length > max) {
    v = v.slice(0, max);
    if (/[\uD800-\uDBFF]$/.test(v)) v = v.slice(0, -1);
  }
  return v;
}

export function cleanText(value: string | null | undefined, max = MAX_TEXT_LENGTH): string | null {
  if (value === null || value === undefined) return null;
  const v = storableText(storableText(value, Infinity).trim(), max).trimEnd();
  return v ? v : null;
}

export function isCalendarDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(
    v,
  );
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export function localDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(iso);
  if (!m?.[1]) throw new RecordError(`not an ISO date: ${iso.slice(0, 40)}`);
  return m[1];
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function dueDate(invoiceDate: string, timeToPay: string | null | undefined): string | null {
  if (timeToPay === null || timeToPay === undefined || !/^\s*\d+\s*$/.test(timeToPay)) return null;
  const days = Number(timeToPay);
  if (!Number.isSafeInteger(days) || days > MAX_TIME_TO_PAY_DAYS) return null;
  const due = addDays(invoiceDate, days);
  return sensibleDate(due) ? due : null;
}

function money(value: string | number, field: string): string {
  const d = parseMoney(value, field).toDecimalPlaces(2);
  if (!amountInRange(d)) {
    throw new RecordError(
      `${field} out of range: ${String(value).slice(0, 40)} (at most 12 digits before the decimal point)`,
    );
  }
  return formatMoney(d);
}

function instant(value: string, field: string): string {
  const d = new Date(value);
  if (!sensibleInstant(d)) {
    throw new RecordError(`${field} out of range: ${value.slice(0, 40)} (years ${MIN_YEAR} to ${MAX_YEAR})`);
  }
  return d.toISOString();
}

function cancelledInvoiceId(inv: Pick<Invoice, 'origin'>): string | null {
  const origin = inv.origin;
  return origin && origin.objectName === 'Invoice' ? origin.id : null;
}

export function toInvoiceRow(inv: Invoice, baseCurrency: string): InvoiceRow {
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
  const row: Omit<InvoiceRow, 'content_hash'> = {
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
    currency: baseCurrency,
    foreign_amount:
      foreign && inv.sumGrossForeignCurrency !== undefined
        ? money(inv.sumGrossForeignCurrency, 'sumGrossForeignCurrency')
        : null,
    foreign_currency: foreign ? inv.currency : null,
    source_update: instant(inv.update, 'update'),
  };
  return { ...row, content_hash: createHash('sha1').update(JSON.stringify(row)).digest('hex') };
}

const accountingSum = (inv: Invoice, field: 'sumGrossAccounting' | 'sumNetAccounting'): string | null => {
  const v = inv[field];
  return typeof v === 'string' || typeof v === 'number' ? moneyText(v) : null;
};

function baseAmounts(inv: Invoice, foreign: boolean) {
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
  return Math.floor(new Date(iso).getTime() / 1000);
}

export function toReminderRow(inv: Invoice): ReminderRow {
  const origin = inv.origin && inv.origin.objectName === 'Invoice' ? inv.origin.id : null;
  if (origin === null) throw new RecordError('a reminder without an origin invoice');
  const date = localDate(inv.invoiceDate);
  if (!sensibleDate(date)) throw new RecordError(`invoiceDate out of range: ${inv.invoiceDate.slice(0, 40)}`);
  const update = new Date(inv.update);
  if (!sensibleInstant(update)) throw new RecordError(`update out of range: ${inv.update.slice(0, 40)}`);
  return {
    source_id: inv.id,
    origin_source_id: origin,
    dunning_level: dunningLevelOf(inv.dunningLevel),
    reminder_date: date,
    source_update: update.toISOString(),
  };
}

export function newestPerId<T extends { id: string; update: string }>(objects: readonly T[]): T[] {
  const best = new Map<string, T>();
  for (const o of objects) {
    const seen = best.get(o.id);
    if (!seen || Date.parse(o.update) > Date.parse(seen.update)) best.set(o.id, o);
  }
  return [...best.values()];
}

export function classifyPage(page: Page<Invoice>, baseCurrency: string): ClassifiedPage {
  const invoices: InvoiceRow[] = [];
  const stornos: InvoiceRow[] = [];
  const reminders: ReminderRow[] = [];
  const withdrawnIds: string[] = [];
  const objects = newestPerId(page.objects);
  const readable = new Set(objects.map((o) => o.id));
  const invalid = dedupeInvalid(
    page.invalid
      .map((x) => ({ sourceId: x.id ?? 'unknown', invoiceNumber: null, reason: x.error.message }))
      .filter((x) => !readable.has(x.sourceId)),
  );
  let maxUpdate: number | null = null;
  for (const inv of objects) {
    if (sensibleInstant(new Date(inv.update))) {
      const t = unixSeconds(inv.update);
      if (maxUpdate === null || t > maxUpdate) maxUpdate = t;
    }
    const cls = classifyInvoice(inv);
    if (cls === 'withdrawn') withdrawnIds.push(inv.id);
    if (cls === 'unknown-status') {
      invalid.push({
        sourceId: inv.id,
        invoiceNumber: inv.invoiceNumber,
        reason: reasonText({ code: 'unknown-status', status: inv.status }),
      });
      continue;
    }
    if (cls === 'reminder') {
      try {
        reminders.push(toReminderRow(inv));
      } catch (err) {
        invalid.push({ sourceId: inv.id, invoiceNumber: inv.invoiceNumber, reason: (err as Error).message });
      }
      continue;
    }
    if (cls !== 'invoice' && cls !== 'storno') continue;
    try {
      (cls === 'invoice' ? invoices : stornos).push(toInvoiceRow(inv, baseCurrency));
    } catch (err) {
      invalid.push({ sourceId: inv.id, invoiceNumber: inv.invoiceNumber, reason: (err as Error).message });
    }
  }
  return {
    invoices,
    stornos,
    reminders,
    withdrawnIds,
    invalid,
    objectIds: objects.map((o) => o.id),
    maxUpdate,
  };
}

function dedupeInvalid(items: InvalidInvoice[]): InvalidInvoice[] {
  const byId = new Map<string, InvalidInvoice>();
  for (const x of items) if (!byId.has(x.sourceId)) byId.set(x.sourceId, x);
  return [...byId.values()];
}
