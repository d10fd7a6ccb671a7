// One sevDesk invoice page from the list to the database: classified, the contacts it lacks fetched, written.
import type { Sql } from '../db/client';
import type { PageResult, PageWriteOptions } from '../db/page-write';
import { writeInvoicePage } from '../db/page-write';
import { storedContacts } from '../db/sync';
import type { ContactRow } from '../domain/contact';
import type { ClassifiedPage } from '../domain/page';
import { classifyPage } from '../domain/page';
import type { Page, SevdeskClient } from '../sevdesk/client';
import type { Invoice } from '../sevdesk/schema';
import { SOURCE_SEVDESK } from '../shared';
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

export interface PageOptions extends PageWriteOptions {
  /** Contacts the caller already has (a dry run's in-memory cache): not fetched again. */
  contacts?: ContactRow[];
  /** The page classified ahead of its write (PageWindow), for this context's base currency. */
  classified?: ClassifiedPage | undefined;
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
 * Classifies one sevDesk page, fetches the contacts it lacks (in bulk when many), writes it in one transaction.
 * Every object is checked before SQL (domain/invoice, domain/limits): one that cannot be stored becomes an
 * invalid-payload issue with its number, id and reason, and the rest of the page is written.
 */
export async function processInvoicePage(
  ctx: PageContext,
  page: Page<Invoice>,
  opts: PageOptions = {},
): Promise<PageOutcome> {
  const { contacts: given = [], classified, ...write } = opts;
  const { invoices, stornos, reminders, withdrawnIds, objectIds, maxUpdate, ...rest } =
    classified ?? classifyPage(page, ctx.baseCurrency);
  // The write may append to it; the classified page stays as it was.
  const invalid = [...rest.invalid];
  const invalidIds = new Set(invalid.map((x) => x.sourceId));
  // The page's contacts not given by the caller, each once (a loop: no array per row).
  const have = new Set(given.map((c) => c.source_id));
  const wanted = new Set<string>();
  for (const r of invoices) {
    const id = r.contact_source_id;
    if (id && !have.has(id)) wanted.add(id);
  }
  const { missing, unreadable } = await missingContacts(ctx, [...wanted]);
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
      reminders,
      withdrawnIds,
      invalid,
      validIds: objectIds.filter((id) => !invalidIds.has(id)),
    },
    write,
  );
  const refused = result.invalidIds ?? [];
  const allInvalid = [...new Set([...invalidIds, ...refused])];
  return { ...result, invalidIds: allInvalid, fetched: page.rawCount, maxUpdate };
}
