import type { InvalidInvoice, PageResult } from '../db/crm-writes';
import { writeInvoicePage } from '../db/crm-writes';
import { storedContacts } from '../db/sync';
import type { Sql } from '../db/client';
import { SOURCE_SEVDESK } from '../shared';
import type { ContactRow } from '../domain/contact';
import type { InvoiceRow } from '../domain/invoice';
import { classifyInvoice, toInvoiceRow, unixSeconds, unknownStatusReason } from '../domain/invoice';
import { sensibleInstant } from '../domain/limits';
import type { Page, SevdeskClient } from '../sevdesk/client';
import type { Invoice } from '../sevdesk/schema';
import { BULK_CONTACT_THRESHOLD, fetchAllContacts, fetchContacts } from './sevdesk-reads';

export interface PageContext {
  sql: Sql;
  client: SevdeskClient;
  accountId: string;
  source: string;
  amountBasis: 'gross' | 'net';
  baseCurrency: string;
}

/** The context for an interface's pages: who, where from, and which amount counts. */
export const pageContext = (
  sql: Sql,
  client: SevdeskClient,
  iface: { accountId: string; baseCurrency: string; settings: { amountBasis: 'gross' | 'net' } },
): PageContext => ({
  sql,
  client,
  accountId: iface.accountId,
  source: SOURCE_SEVDESK,
  amountBasis: iface.settings.amountBasis,
  baseCurrency: iface.baseCurrency,
});

export interface PageOutcome extends PageResult {
  fetched: number;
  /** Newest `update` on the page (unix s): cursors come from the data, not the local clock. */
  maxUpdate: number | null;
}

/** Contacts stored as unreadable that one page reads again (one by one), at most. */
export const UNREADABLE_REREAD_PER_PAGE = 10;

/**
 * Contacts not stored yet, and (budgeted) contacts stored as unreadable last time: read again, since the
 * fault is usually gone.
 */
async function missingContacts(
  ctx: PageContext,
  ids: string[],
): Promise<{ missing: string[]; unreadable: string[] }> {
  if (ids.length === 0) return { missing: [], unreadable: [] };
  const known = await storedContacts(ctx.sql, ctx.accountId, ctx.source, ids);
  const have = new Set(known.map((r) => r.source_id));
  return {
    missing: ids.filter((id) => !have.has(id)),
    unreadable: known
      .filter((r) => r.unreadable)
      .map((r) => r.source_id)
      .slice(0, UNREADABLE_REREAD_PER_PAGE),
  };
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

/** A page sorted into what the write needs: pure work on the page's objects, no I/O. */
export interface ClassifiedPage {
  invoices: InvoiceRow[];
  stornos: InvoiceRow[];
  withdrawnIds: string[];
  invalid: InvalidInvoice[];
  /** Ids of the objects that read fine (after newestPerId), in page order. */
  objectIds: string[];
  maxUpdate: number | null;
}

/** Pages classified ahead of their write (classifyAhead), per base currency; dropped with the page. */
const classified = new WeakMap<Page<Invoice>, { baseCurrency: string; result: ClassifiedPage }>();

/**
 * Classifies a page (schema-checked objects to rows, drafts, invalid objects with their reasons) and keeps
 * the result with the page: an import classifies the pages it fetched ahead while the page before them is
 * being written, so that this CPU work overlaps the database's instead of adding to it.
 */
export function classifyPage(page: Page<Invoice>, baseCurrency: string): ClassifiedPage {
  const known = classified.get(page);
  if (known && known.baseCurrency === baseCurrency) return known.result;
  const invoices: InvoiceRow[] = [];
  const stornos: InvoiceRow[] = [];
  const withdrawnIds: string[] = [];
  const invalid: InvalidInvoice[] = page.invalid.map((x) => ({
    sourceId: x.id ?? 'unknown',
    invoiceNumber: null,
    reason: x.error.message,
  }));
  const objects = newestPerId(page.objects);
  const readable = new Set(objects.map((o) => o.id));
  // An id that arrived both well-formed and malformed on one page: the well-formed copy wins.
  invalid.splice(0, invalid.length, ...dedupeInvalid(invalid.filter((x) => !readable.has(x.sourceId))));
  let maxUpdate: number | null = null;
  for (const inv of objects) {
    // A stamp outside 1900..2200 must not move the cursor (the invoice itself is reported below).
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
        reason: unknownStatusReason(inv.status),
      });
      continue;
    }
    if (cls !== 'invoice' && cls !== 'storno') continue;
    try {
      (cls === 'invoice' ? invoices : stornos).push(toInvoiceRow(inv, baseCurrency));
    } catch (err) {
      invalid.push({ sourceId: inv.id, invoiceNumber: inv.invoiceNumber, reason: (err as Error).message });
    }
  }
  const result = { invoices, stornos, withdrawnIds, invalid, objectIds: objects.map((o) => o.id), maxUpdate };
  classified.set(page, { baseCurrency, result });
  return result;
}

/**
 * Classifies a page fetched ahead once it arrives, on a later turn of the event loop (the page being written
 * goes first). A page that fails to arrive, or to classify, is left to its own turn, which reports it.
 */
export function classifyAhead(page: Promise<Page<Invoice>>, baseCurrency: string): void {
  page.then(
    (p) =>
      setImmediate(() => {
        try {
          classifyPage(p, baseCurrency);
        } catch {
          // Classified again (and the error thrown) when the page is written.
        }
      }),
    () => undefined,
  );
}

/**
 * Classifies one sevDesk page, fetches the contacts it lacks (in bulk when many), writes it in one transaction.
 * Every object is checked before SQL (domain/invoice, domain/limits): one that cannot be stored becomes an
 * invalid-payload issue with its number, id and reason, and the rest of the page is written.
 */
export async function processInvoicePage(
  ctx: PageContext,
  page: Page<Invoice>,
  opts: {
    dryRun?: boolean;
    /** Contacts the caller already has (a dry run's in-memory cache): not fetched again. */
    contacts?: ContactRow[];
    /** Rows written but left out of the returned stats (re-read overlap rows). */
    statsExclude?: ReadonlySet<string>;
    /** A whole-account walk: customer values are recomputed when it ends, not per page. */
    deferValues?: boolean;
  } = {},
): Promise<PageOutcome> {
  const { invoices, stornos, withdrawnIds, objectIds, maxUpdate, ...rest } = classifyPage(
    page,
    ctx.baseCurrency,
  );
  // The write may append to it; the classified page stays as it was.
  const invalid = [...rest.invalid];
  const invalidIds = new Set(invalid.map((x) => x.sourceId));
  const contactIds = [
    ...new Set(invoices.flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : []))),
  ];
  const given = opts.contacts ?? [];
  const have = new Set(given.map((c) => c.source_id));
  const { missing, unreadable } = await missingContacts(
    ctx,
    contactIds.filter((id) => !have.has(id)),
  );
  const fetched =
    missing.length > BULK_CONTACT_THRESHOLD
      ? [...(await fetchAllContacts(ctx.client)).rows, ...(await fetchContacts(ctx.client, unreadable))]
      : await fetchContacts(ctx.client, [...missing, ...unreadable]);
  const result = await writeInvoicePage(
    ctx.sql,
    {
      ...ctx,
      contacts: [...given, ...fetched],
      invoices,
      stornos,
      withdrawnIds,
      invalid,
      validIds: objectIds.filter((id) => !invalidIds.has(id)),
    },
    { dryRun: opts.dryRun ?? false, statsExclude: opts.statsExclude, deferValues: opts.deferValues ?? false },
  );
  const refused = result.invalidIds ?? [];
  const allInvalid = [...new Set([...invalidIds, ...refused])];
  return { ...result, invalidIds: allInvalid, fetched: page.rawCount, maxUpdate };
}

function dedupeInvalid(items: InvalidInvoice[]): InvalidInvoice[] {
  const byId = new Map<string, InvalidInvoice>();
  for (const x of items) if (!byId.has(x.sourceId)) byId.set(x.sourceId, x);
  return [...byId.values()];
}
