import type { InvalidInvoice, PageResult } from '../db/crm-writes';
import { writeInvoicePage } from '../db/crm-writes';
import type { Sql } from '../db/client';
import type { ContactRow } from '../domain/contact';
import type { InvoiceRow } from '../domain/invoice';
import { classifyInvoice, toInvoiceRow, unixSeconds } from '../domain/invoice';
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

export interface PageOutcome extends PageResult {
  fetched: number;
  /** Newest `update` on the page (unix s): cursors come from the data, not the local clock. */
  maxUpdate: number | null;
}

async function missingContacts(ctx: PageContext, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const known = await ctx.sql<{ source_id: string }[]>`
    select source_id from source_contacts
    where account_id = ${ctx.accountId} and source = ${ctx.source} and source_id = any(${ids}::text[])`;
  const have = new Set(known.map((r) => r.source_id));
  return ids.filter((id) => !have.has(id));
}

/** Classifies one sevDesk page, fetches the contacts it lacks (in bulk when many), writes it in one transaction. */
export async function processInvoicePage(
  ctx: PageContext,
  page: Page<Invoice>,
  opts: {
    dryRun?: boolean;
    /** Contacts the caller already has (a dry run's in-memory cache): not fetched again. */
    contacts?: ContactRow[];
    /** Rows written but left out of the returned stats (re-read overlap rows). */
    statsExclude?: ReadonlySet<string>;
  } = {},
): Promise<PageOutcome> {
  const invoices: InvoiceRow[] = [];
  const stornos: InvoiceRow[] = [];
  const withdrawnIds: string[] = [];
  const invalid: InvalidInvoice[] = page.invalid.map((x) => ({
    sourceId: x.id ?? 'unknown',
    invoiceNumber: null,
    reason: x.error.message,
  }));
  let maxUpdate: number | null = null;
  for (const inv of page.objects) {
    const t = unixSeconds(inv.update);
    if (maxUpdate === null || t > maxUpdate) maxUpdate = t;
    const cls = classifyInvoice(inv);
    if (cls === 'withdrawn') withdrawnIds.push(inv.id);
    if (cls !== 'invoice' && cls !== 'storno') continue;
    try {
      (cls === 'invoice' ? invoices : stornos).push(toInvoiceRow(inv, ctx.baseCurrency));
    } catch (err) {
      invalid.push({ sourceId: inv.id, invoiceNumber: inv.invoiceNumber, reason: (err as Error).message });
    }
  }
  const contactIds = [
    ...new Set(invoices.flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : []))),
  ];
  const given = opts.contacts ?? [];
  const have = new Set(given.map((c) => c.source_id));
  const missing = await missingContacts(
    ctx,
    contactIds.filter((id) => !have.has(id)),
  );
  const fetched =
    missing.length > BULK_CONTACT_THRESHOLD
      ? (await fetchAllContacts(ctx.client)).rows
      : await fetchContacts(ctx.client, missing);
  const result = await writeInvoicePage(
    ctx.sql,
    {
      ...ctx,
      contacts: [...given, ...fetched],
      invoices,
      stornos,
      withdrawnIds,
      invalid,
      validIds: page.objects.map((o) => o.id),
    },
    { dryRun: opts.dryRun ?? false, statsExclude: opts.statsExclude },
  );
  return { ...result, fetched: page.rawCount, maxUpdate };
}
