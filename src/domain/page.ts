// One sevDesk invoice page sorted into what the page write needs: pure work on the page's objects, no I/O.
import type { Page } from '../sevdesk/client';
import type { Invoice } from '../sevdesk/schema';
import type { ReminderRow } from './dunning';
import { toReminderRow } from './dunning';
import type { InvoiceRow } from './invoice';
import { classifyInvoice, invoiceRow } from './invoice';
import { reasonText } from './reasons';
import { sensibleMs } from './limits';

/** An object that cannot be stored: reported as an `invalid` issue with its number, id and reason. */
export interface InvalidInvoice {
  sourceId: string;
  invoiceNumber: string | null;
  reason: string;
}

export interface ClassifiedPage {
  invoices: InvoiceRow[];
  stornos: InvoiceRow[];
  /** Dunning reminders (MA) naming their invoice: attached to it, never shown themselves. */
  reminders: ReminderRow[];
  withdrawnIds: string[];
  invalid: InvalidInvoice[];
  /** Ids of the objects that read fine (after newestPerId), in page order. */
  objectIds: string[];
  maxUpdate: number | null;
}

/**
 * One object per id: a page that repeats an id (rows shifting while sevDesk data changes) keeps the version
 * with the newest `update` (the first of equals).
 */
export function newestPerId<T extends { id: string; update: string }>(objects: readonly T[]): T[] {
  const best = new Map<string, T>();
  for (const o of objects) {
    const seen = best.get(o.id);
    if (!seen || Date.parse(o.update) > Date.parse(seen.update)) best.set(o.id, o);
  }
  return [...best.values()];
}

/**
 * Schema-checked objects to rows, drafts to withdrawn ids, and every object that cannot be stored to an
 * invalid entry with its reason (docs/sevdesk.md, "Which invoices count, and the evidence").
 */
export function classifyPage(page: Page<Invoice>, baseCurrency: string): ClassifiedPage {
  const invoices: InvoiceRow[] = [];
  const stornos: InvoiceRow[] = [];
  const reminders: ReminderRow[] = [];
  const withdrawnIds: string[] = [];
  const objects = newestPerId(page.objects);
  // An id that arrived both well-formed and malformed on one page: the well-formed copy wins.
  const readable = page.invalid.length > 0 ? new Set(objects.map((o) => o.id)) : null;
  const invalid = dedupeInvalid(
    page.invalid
      .map((x) => ({ sourceId: x.id ?? 'unknown', invoiceNumber: null, reason: x.error.message }))
      .filter((x) => !readable?.has(x.sourceId)),
  );
  let maxUpdate: number | null = null;
  for (const inv of objects) {
    // Parsed once, for the cursor and for the row.
    const updateMs = Date.parse(inv.update);
    // A stamp outside 1900..2200 must not move the cursor (the invoice itself is reported below).
    if (sensibleMs(updateMs)) {
      const t = Math.floor(updateMs / 1000);
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
      (cls === 'invoice' ? invoices : stornos).push(invoiceRow(inv, baseCurrency, updateMs));
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
