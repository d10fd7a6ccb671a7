// The one place where a page becomes rows: contacts, customers, invoices, cancellations, drafts, issues and
// values in one transaction; the shortcut for a page that only repeats what is stored; the dry run; and the
// bisection that finds the rows PostgreSQL refuses (docs/architecture.md, "Invariants").
import Decimal from 'decimal.js';
import type { ContactRow } from '../domain/contact';
import type { ReminderRow } from '../domain/dunning';
import type { InvoiceRow } from '../domain/invoice';
import type { InvalidInvoice } from '../domain/page';
import type { PageStats } from '../domain/page-stats';
import { addPageStats, emptyPageStats } from '../domain/page-stats';
import type { Sql, Tx } from './client';
import { lockAccountEvents } from './events';
import {
  customersOf,
  recomputeCustomerValues,
  upsertCustomersForContacts,
  upsertSourceContacts,
} from './customers';
import type { InvoiceScope } from './invoices';
import { markCancelled, mergeStagedInvoices, withdraw } from './invoices';
import { stageInvoiceRows } from './page-stage';
import { contactIssueId, recordIssues } from './issues';
import { writeReminders } from './reminders';
import { amountOnBasis, cancelledBySr, shown } from './rules.sql';

export interface PageInput extends InvoiceScope {
  /** Contacts fetched for this page (upserted into source_contacts first). */
  contacts: ContactRow[];
  invoices: InvoiceRow[];
  stornos: InvoiceRow[];
  /** Dunning reminders (MA) naming their invoice; absent: none. */
  reminders?: ReminderRow[];
  /** Source ids seen as drafts: if transferred earlier they leave the totals. */
  withdrawnIds: string[];
  invalid: InvalidInvoice[];
  /** Every object on the page that passed its schema, whatever its type: clears earlier "invalid" issues. */
  validIds?: string[];
}

export interface PageResult extends PageStats {
  /**
   * Rows sevDesk sent that PostgreSQL still refused (found by splitting the page after a data error): they
   * are reported as invalid-payload issues, the rest of the page is written. Absent when there were none.
   */
  invalidIds?: string[];
}

export interface PageWriteOptions {
  /** The whole write, rolled back: the numbers of a real run, nothing stored. */
  dryRun?: boolean;
  /** Rows written but left out of the returned stats (re-read overlap rows). */
  statsExclude?: ReadonlySet<string> | undefined;
  /**
   * A whole-account walk: customer values are recomputed once for the account when the walk finishes,
   * stops or pauses (`recomputeAccountValues`), not on every page.
   */
  deferValues?: boolean;
}

/**
 * PostgreSQL refused the data itself (class 22 data exception, 23 integrity violation, 54 program limit such
 * as an oversized index row): the same rows fail on every retry. Anything else (connection loss, timeouts,
 * serialization failures) is transient and is thrown for Temporal to retry.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/**
 * One page of invoices in one transaction. If PostgreSQL refuses some row's data, the page is split
 * (bisected) until the refused rows are found: they become invalid-payload issues with their number, id and
 * the database's reason, and everything else is written. Transient errors are thrown unchanged.
 */
export async function writeInvoicePage(
  sql: Sql,
  input: PageInput,
  opts: PageWriteOptions = {},
): Promise<PageResult> {
  // The check is only a shortcut: whatever it cannot read (a data error) goes through the write below,
  // which isolates the rows PostgreSQL refuses.
  const same = await unchangedPage(sql, input, opts.statsExclude).catch((err: unknown) => {
    if (isDataError(err)) return null;
    throw err;
  });
  if (same) return same;
  try {
    return await writePageOnce(sql, input, opts);
  } catch (err) {
    if (!isDataError(err)) throw err;
  }
  return writeIsolated(sql, input, opts);
}

/**
 * A page that only repeats what is stored (the sync's overlap re-lists the last minutes' invoices every
 * cycle): one read instead of a transaction of a dozen statements. Only a page of plain invoices, every one
 * stored with the same content hash, not removed, assigned to the customer its contact's e-mail matches,
 * with the status and amount the upsert would give it, and without an open issue; anything else (a new or
 * changed row, stornos, drafts, invalid rows, contacts to store) goes through the write. The stats are
 * pageStats' over the stored rows. Null: write the page.
 */
async function unchangedPage(
  sql: Sql,
  input: PageInput,
  statsExclude: ReadonlySet<string> | undefined,
): Promise<PageResult | null> {
  const rows = input.invoices;
  if (
    rows.length === 0 ||
    input.stornos.length > 0 ||
    (input.reminders?.length ?? 0) > 0 ||
    input.withdrawnIds.length > 0 ||
    input.invalid.length > 0 ||
    input.contacts.length > 0
  )
    return null;
  const statIds = rows.map((r) => r.source_id).filter((id) => !statsExclude?.has(id));
  // The re-read overlap (a few rows): a short list to compare with, not the page's 1,000 ids.
  const excluded = rows.map((r) => r.source_id).filter((id) => statsExclude?.has(id));
  const [row] = await sql<{ n: number; same: number; open_sum: string | null; paid_sum: string | null }[]>`
    select count(*)::int as n,
      count(*) filter (where i.source_id is not null and i.content_hash = r.content_hash
        and ${sql.unsafe(shown('i'))} and i.customer_id is not null
        and i.status = case when ${cancelledBySr(sql, 'i')} then 'cancelled'
          else r.status end
        and i.amount = ${amountOnBasis(sql, input.amountBasis, 'i')}
        and exists (
          select 1 from source_contacts sc join customers cu on cu.account_id = sc.account_id
            and email_key(cu.email) = email_key(sc.email)
          where sc.account_id = i.account_id and sc.source = i.source and sc.source_id = i.contact_source_id
            and cu.id = i.customer_id)
        and not exists (
          select 1 from invoice_issues x where x.account_id = i.account_id and x.source = i.source
            and x.source_id = i.source_id and x.resolved_at is null))::int as same,
      sum(i.amount) filter (where i.status = 'open' and r.source_id <> all(${excluded}::text[])) as open_sum,
      sum(i.amount) filter (where i.status = 'paid' and r.source_id <> all(${excluded}::text[])) as paid_sum
    from unnest(${rows.map((r) => r.source_id)}::text[], ${rows.map((r) => r.content_hash)}::text[],
      ${rows.map((r) => r.status)}::text[]) as r(source_id, content_hash, status)

    left join invoices i on i.account_id = ${input.accountId} and i.source = ${input.source}
      and i.source_id = r.source_id`;
  if (!row || row.same !== rows.length || row.n !== rows.length) return null;
  return {
    written: 0,
    assigned: statIds.length,
    unassigned: 0,
    invalid: 0,
    openSum: new Decimal(row.open_sum ?? 0).toFixed(2),
    paidSum: new Decimal(row.paid_sum ?? 0).toFixed(2),
    unassignedReasons: {},
  };
}

interface Unit {
  kind: 'invoice' | 'storno' | 'contact';
  row: InvoiceRow | ContactRow;
}

/** The rows of a page as separately writable units; an invoice carries the contact it points at. */
function unitsOf(input: PageInput): Unit[] {
  const referenced = new Set(
    [...input.invoices, ...input.stornos].flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : [])),
  );
  return [
    ...input.stornos.map((row): Unit => ({ kind: 'storno', row })),
    ...input.invoices.map((row): Unit => ({ kind: 'invoice', row })),
    ...input.contacts
      .filter((c) => !referenced.has(c.source_id))
      .map((row): Unit => ({ kind: 'contact', row })),
  ];
}

function chunkInput(input: PageInput, units: Unit[]): PageInput {
  const invoices = units.filter((u) => u.kind === 'invoice').map((u) => u.row as InvoiceRow);
  const stornos = units.filter((u) => u.kind === 'storno').map((u) => u.row as InvoiceRow);
  const wanted = new Set([
    ...units.filter((u) => u.kind === 'contact').map((u) => u.row.source_id),
    ...[...invoices, ...stornos].flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : [])),
  ]);
  return {
    ...input,
    contacts: input.contacts.filter((c) => wanted.has(c.source_id)),
    invoices,
    stornos,
    reminders: [],
    withdrawnIds: [],
    invalid: [],
    validIds: [],
  };
}

/** The page failed as a whole with a data error: written in halves, down to the single rows refused. */
async function writeIsolated(sql: Sql, input: PageInput, opts: PageWriteOptions): Promise<PageResult> {
  const refused: { unit: Unit; reason: string }[] = [];
  let total: PageResult = emptyPageStats();
  const attempt = async (units: Unit[]): Promise<void> => {
    if (units.length === 0) return;
    try {
      total = addPageStats(total, await writePageOnce(sql, chunkInput(input, units), opts));
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (units.length === 1) {
        refused.push({ unit: units[0]!, reason: (err as Error).message });
        return;
      }
      const half = Math.ceil(units.length / 2);
      await attempt(units.slice(0, half));
      await attempt(units.slice(half));
    }
  };
  // The whole page just failed: start with its halves.
  const units = unitsOf(input);
  const half = Math.ceil(units.length / 2);
  if (units.length > 1) {
    await attempt(units.slice(0, half));
    await attempt(units.slice(half));
  } else await attempt(units);
  const refusedInvoices = refused.filter((r) => r.unit.kind !== 'contact');
  const refusedIds = new Set(refusedInvoices.map((r) => r.unit.row.source_id));
  const invalid: InvalidInvoice[] = [
    ...input.invalid,
    ...refused.map(({ unit, reason }) =>
      unit.kind === 'contact'
        ? {
            sourceId: contactIssueId(unit.row.source_id),
            invoiceNumber: null,
            reason: `sevDesk contact ${unit.row.source_id} could not be stored: ${reason}`,
          }
        : {
            sourceId: unit.row.source_id,
            invoiceNumber: (unit.row as InvoiceRow).number,
            reason: `could not be stored: ${reason}`,
          },
    ),
  ];
  // Drafts, the page's invalid issues and the resolutions of issues of objects that read fine.
  const rest = await writePageOnce(
    sql,
    {
      ...input,
      contacts: [],
      invoices: [],
      stornos: [],
      invalid,
      validIds: (input.validIds ?? []).filter((id) => !refusedIds.has(id)),
    },
    opts,
  );
  return { ...addPageStats(total, rest), invalidIds: refused.map((r) => r.unit.row.source_id) };
}

async function writePageOnce(sql: Sql, input: PageInput, opts: PageWriteOptions = {}): Promise<PageResult> {
  const run = async (tx: Tx): Promise<PageResult> => {
    await lockAccountEvents(tx, input.accountId);
    await upsertSourceContacts(tx, input.accountId, input.source, input.contacts);
    const contactIds = [
      ...new Set(input.invoices.flatMap((r) => (r.contact_source_id ? [r.contact_source_id] : []))),
    ];
    const created = await upsertCustomersForContacts(tx, input.accountId, input.source, contactIds);
    const affected: number[] = [...created];
    // Stornos first: on the page they come before the invoices they cancel.
    await stageInvoiceRows(tx, [...input.stornos, ...input.invoices]);
    const merged =
      input.stornos.length + input.invoices.length === 0
        ? { written: 0, customers: [] }
        : await mergeStagedInvoices(tx, input, opts.deferValues ?? false);
    let written = merged.written;
    affected.push(...customersOf(merged.customers));
    const cancelled = await markCancelled(
      tx,
      input,
      input.stornos.map((r) => r.source_id),
    );
    const withdrawn = await withdraw(tx, input, input.withdrawnIds, 'draft');
    written += cancelled.length + withdrawn.length;
    // After the invoices: a reminder that waited for its invoice attaches to it now. Values do not change.
    written += await writeReminders(
      tx,
      input,
      input.reminders ?? [],
      input.withdrawnIds,
      input.invoices.map((r) => r.source_id),
    );
    affected.push(...customersOf([...cancelled, ...withdrawn]));
    if (!opts.deferValues) await recomputeCustomerValues(tx, input.accountId, affected);
    const invoiceIds = input.invoices.map((r) => r.source_id);
    await recordIssues(tx, {
      accountId: input.accountId,
      source: input.source,
      invoiceIds: [...invoiceIds, ...input.withdrawnIds],
      validIds: input.validIds ?? [],
      invalid: input.invalid,
    });
    const skip = opts.statsExclude ?? new Set<string>();
    const statIds = invoiceIds.filter((id) => !skip.has(id));
    const invalid = input.invalid.filter((x) => !skip.has(x.sourceId)).length;
    return { ...(await pageStats(tx, input, statIds)), written, invalid };
  };
  if (!opts.dryRun) return sql.begin((tx) => run(tx)) as Promise<PageResult>;
  // A dry run does exactly the same work and rolls it back, so its numbers cannot drift from a real run's.
  let result: PageResult | undefined;
  await sql
    .begin(async (tx) => {
      result = await run(tx);
      throw new DryRunRollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof DryRunRollback)) throw err;
    });
  return result as PageResult;
}

class DryRunRollback extends Error {}

/** The page's figures over its stored rows (written or not): assigned, unassigned and the sums. */
async function pageStats(tx: Tx, input: PageInput, ids: string[]) {
  if (ids.length === 0) {
    return { assigned: 0, unassigned: 0, openSum: '0.00', paidSum: '0.00', unassignedReasons: {} };
  }
  const [row] = await tx<
    { assigned: number; unassigned: number; open_sum: string | null; paid_sum: string | null }[]
  >`
    select count(*) filter (where customer_id is not null)::int as assigned,
      count(*) filter (where customer_id is null)::int as unassigned,
      sum(amount) filter (where status = 'open') as open_sum,
      sum(amount) filter (where status = 'paid') as paid_sum
    from invoices
    where account_id = ${input.accountId} and source = ${input.source} and source_id = any(${ids}::text[])
      and ${tx.unsafe(shown(''))}`;
  const reasons = await tx<{ reason: string; n: number }[]>`
    select x.reason, count(*)::int as n
    from (select distinct unnest(${ids}::text[]) as sid) p
    join invoice_issues x on x.account_id = ${input.accountId} and x.source = ${input.source}
      and x.source_id = p.sid and x.kind = 'unassigned'
    where x.resolved_at is null
    group by x.reason`;
  return {
    assigned: row?.assigned ?? 0,
    unassigned: row?.unassigned ?? 0,
    openSum: new Decimal(row?.open_sum ?? 0).toFixed(2),
    paidSum: new Decimal(row?.paid_sum ?? 0).toFixed(2),
    unassignedReasons: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
  };
}
