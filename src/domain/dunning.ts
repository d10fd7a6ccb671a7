// What a coach sees per invoice besides its amount: whether it is overdue (derived from the stored due date
// and today's Berlin date at read time), the dunning reminders (MA) sevDesk wrote for it, and a link into
// sevDesk (docs/sevdesk.md, "Due dates, overdue and reminders"). Pure: the view and the event fold share it.
import type { Invoice } from '../sevdesk/schema';
import { RecordError, sensibleDate, sensibleInstant } from './limits';
import { localDate } from './invoice';

/** A dunning reminder as stored: one per MA, keyed by its own id, naming the invoice it reminds about. */
export interface ReminderRow {
  source_id: string;
  /** The reminded invoice's source id (its `origin`). */
  origin_source_id: string;
  /** `dunningLevel` 1..99, or null when sevDesk sent none (or nothing readable). */
  dunning_level: number | null;
  /** The reminder's own invoice date (Berlin calendar date). */
  reminder_date: string;
  source_update: string;
}

/** One reminder of an invoice as the JSON shows it. */
export interface Dunning {
  level: number | null;
  date: string;
}

/** `dunningLevel` as a level: "1", 1, " 2 " -> 1, 2; anything else (null, "", "abc", "0", "-1", "1.5") -> null. */
export function dunningLevelOf(value: unknown): number | null {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,2}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 ? n : null;
}

/** The invoice an MA reminds about: its origin, when that is an Invoice; null otherwise. */
export function remindedInvoiceId(inv: Pick<Invoice, 'origin'>): string | null {
  return inv.origin && inv.origin.objectName === 'Invoice' ? inv.origin.id : null;
}

/**
 * The stored row of one reminder (an MA whose origin is an invoice). Its sums are not read: a reminder
 * neither shows nor counts. An invoice date that cannot be read throws a RecordError (reported as invalid).
 */
export function toReminderRow(inv: Invoice): ReminderRow {
  const origin = remindedInvoiceId(inv);
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

/** An invoice's reminders in the JSON's order (by date, then level) and its highest level. */
export function dunningsOf(reminders: readonly Dunning[]): {
  dunningLevel: number | null;
  dunnings: Dunning[];
} {
  const dunnings = [...reminders]
    .map((r) => ({ level: r.level, date: r.date }))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : (a.level ?? 0) - (b.level ?? 0)));
  const levels = dunnings.flatMap((d) => (d.level === null ? [] : [d.level]));
  return { dunningLevel: levels.length ? Math.max(...levels) : null, dunnings };
}

const BERLIN_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Berlin',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Today's calendar date in Berlin (YYYY-MM-DD): the "today" every overdue is measured against. */
export function berlinToday(now: Date = new Date()): string {
  return BERLIN_DAY.format(now);
}

const dayNumber = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

/**
 * Overdue: open (sevDesk 200, or 750 partly paid, both stored as `open`) and its due date before today in
 * Berlin; due today is not overdue yet. Paid, cancelled and invoices without a due date never are.
 */
export function overdueOf(
  inv: { status: string; dueDate: string | null },
  today: string,
): { overdue: boolean; daysOverdue: number | null } {
  if (inv.status !== 'open' || !inv.dueDate || !/^\d{4}-\d{2}-\d{2}$/.test(inv.dueDate)) {
    return { overdue: false, daysOverdue: null };
  }
  const days = dayNumber(today) - dayNumber(inv.dueDate);
  return Number.isFinite(days) && days > 0
    ? { overdue: true, daysOverdue: days }
    : { overdue: false, daysOverdue: null };
}

export const DEFAULT_INVOICE_URL = 'https://my.sevdesk.de/fi/detail/type/{invoiceType}/id/{id}';

/**
 * The link template (SEVSYNC_SEVDESK_INVOICE_URL): an https URL with the placeholders `{invoiceType}` and
 * `{id}`; anything else is refused with the reason.
 */
export function parseInvoiceUrlTemplate(
  raw: string,
): { ok: true; template: string } | { ok: false; reason: string } {
  const template = raw.trim();
  let url: URL;
  try {
    url = new URL(template.replace(/\{invoiceType\}/g, 'RE').replace(/\{id\}/g, '1'));
  } catch {
    return { ok: false, reason: 'must be an https:// URL' };
  }
  if (url.protocol !== 'https:' || !/^https:\/\//i.test(template))
    return { ok: false, reason: 'must be an https:// URL' };
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  if (!template.includes('{id}')) return { ok: false, reason: 'must contain the placeholder {id}' };
  const unknown = /\{(?!invoiceType\}|id\})[^}]*\}/.exec(template);
  if (unknown)
    return { ok: false, reason: `unknown placeholder ${unknown[0]} (only {invoiceType} and {id})` };
  return { ok: true, template };
}

/** The invoice's page in sevDesk: the template with its type and id, each URL-encoded. */
export function invoiceUrl(template: string, invoiceType: string, id: string): string {
  return template
    .replace(/\{invoiceType\}/g, encodeURIComponent(invoiceType))
    .replace(/\{id\}/g, encodeURIComponent(id));
}

/**
 * The template in force for reads: SEVSYNC_SEVDESK_INVOICE_URL when it is valid (loadConfig refuses an
 * invalid one at start), else the default. Read from the environment because the customer views are built
 * below the layer that holds the parsed config.
 */
export function invoiceUrlTemplate(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env['SEVSYNC_SEVDESK_INVOICE_URL'];
  if (!raw) return DEFAULT_INVOICE_URL;
  const parsed = parseInvoiceUrlTemplate(raw);
  return parsed.ok ? parsed.template : DEFAULT_INVOICE_URL;
}

/** What the read side needs to finish an invoice: today's Berlin date and the link template. */
export interface ReadContext {
  today: string;
  invoiceUrl: string;
}

export const readContext = (now: Date = new Date()): ReadContext => ({
  today: berlinToday(now),
  invoiceUrl: invoiceUrlTemplate(),
});

/** An invoice as stored (the view's row and the events' data carry these). */
export interface StoredInvoiceFields {
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
  dunningLevel: number | null;
  dunnings: Dunning[];
  /** sevDesk's invoiceType and id: for the link only, not shown. */
  type: string | null;
  sourceId: string;
}

/** The invoice as `customers --json` shows it: the stored fields without the link's inputs, and what is derived. */
export type ShownInvoice = Omit<StoredInvoiceFields, 'type' | 'sourceId'> & {
  overdue: boolean;
  daysOverdue: number | null;
  sevdeskUrl: string | null;
};

/** The invoice of `customers --json`, in its key order: the stored fields plus what is derived at read time. */
export function shownInvoice(s: StoredInvoiceFields, ctx: ReadContext): ShownInvoice {
  const { overdue, daysOverdue } = overdueOf(s, ctx.today);
  return {
    number: s.number,
    date: s.date,
    dueDate: s.dueDate,
    status: s.status,
    amount: s.amount,
    paidAmount: s.paidAmount,
    currency: s.currency,
    source: s.source,
    foreignAmount: s.foreignAmount,
    foreignCurrency: s.foreignCurrency,
    overdue,
    daysOverdue,
    dunningLevel: s.dunningLevel ?? null,
    dunnings: (s.dunnings ?? []).map((d) => ({ level: d.level ?? null, date: d.date })),
    sevdeskUrl: s.source === 'sevdesk' && s.type ? invoiceUrl(ctx.invoiceUrl, s.type, s.sourceId) : null,
  };
}
