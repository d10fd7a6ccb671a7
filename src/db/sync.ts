// What the incremental sync reads and writes besides the page writes: cursors and the contacts to re-read.
import type { SyncCounts } from '../shared';
import { SOURCE_SEVDESK } from '../shared';
import type { Sql } from './client';
import { shown } from './rules.sql';

/** Which of the given contacts are stored, and whether their last read failed. */
export async function storedContacts(
  sql: Sql,
  accountId: string,
  source: string,
  ids: string[],
): Promise<{ source_id: string; unreadable: boolean }[]> {
  return sql<{ source_id: string; unreadable: boolean }[]>`
    select source_id, read_error is not null as unreadable from source_contacts
    where account_id = ${accountId} and source = ${source} and source_id = any(${ids}::text[])`;
}

export async function raiseContactCursor(
  sql: Sql,
  accountId: string,
  maxUpdate: number | null,
): Promise<void> {
  if (maxUpdate === null) return;
  await sql`
    update interfaces set contact_cursor = greatest(coalesce(contact_cursor, 0), ${maxUpdate})
    where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
}

/**
 * Of the contacts sevDesk lists as changed, those we store whose `update` is newer than the stored one.
 * The overlap window lists the same contacts again every cycle; only real changes are fetched.
 */
export async function staleContacts(
  sql: Sql,
  accountId: string,
  listed: { id: string; update: string }[],
): Promise<string[]> {
  if (listed.length === 0) return [];
  const rows = await sql<{ source_id: string }[]>`
    select sc.source_id from source_contacts sc
    join jsonb_to_recordset(${JSON.stringify(listed)}::jsonb) as l(id text, update timestamptz)
      on l.id = sc.source_id
    where sc.account_id = ${accountId} and sc.source = ${SOURCE_SEVDESK}
      and (sc.source_update is null or l.update > sc.source_update)`;
  return rows.map((r) => r.source_id);
}

/**
 * Contacts to read again, in turns, the ones read longest ago first and none read within `minAgeSeconds`: those
 * of unassigned invoices (an e-mail added in sevDesk may not bump the contact's `update`) and those whose last
 * read failed (`read_error`: their issue resolves when they read fine).
 */
const recheckQuery = (sql: Sql, accountId: string, limit: number, minAgeSeconds: number) => sql`
    select id from (
      select i.contact_source_id as id, min(sc.fetched_at) as at from invoices i
      left join source_contacts sc on sc.account_id = i.account_id and sc.source = i.source
        and sc.source_id = i.contact_source_id
      where i.account_id = ${accountId} and i.source = ${SOURCE_SEVDESK} and i.customer_id is null
        and ${sql.unsafe(shown('i'))} and i.contact_source_id is not null
      group by i.contact_source_id
      union
      select source_id, fetched_at from source_contacts
      where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and read_error is not null
    ) due
    where at is null or at < now() - make_interval(secs => ${minAgeSeconds})
    group by id order by min(at) nulls first, id
    limit ${Math.max(0, limit)}`;

/** Marks contacts as just read even when sevDesk no longer has them, so the re-check moves on. */
export async function touchContacts(sql: Sql, accountId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update source_contacts set fetched_at = now()
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and source_id = any(${ids}::text[])`;
}

export async function countUnassigned(sql: Sql, accountId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`${unassignedQuery(sql, accountId)}`;
  return row?.n ?? 0;
}

const unassignedQuery = (sql: Sql, accountId: string) => sql`
    select count(*)::int as n from invoice_issues
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and kind = 'unassigned' and resolved_at is null`;

/**
 * The end of a sync cycle in one statement: the cursors move on, the interface is idle again, and the run is
 * recorded (one commit instead of two; nothing is recorded for an interface removed meanwhile). `startedAt`: when
 * the cycle began, for the run's duration (without it the run shows none).
 */
export async function finishSyncCycle(
  sql: Sql,
  accountId: string,
  cursors: { invoice: number | null; contact: number | null },
  counts: SyncCounts,
  startedAt?: Date,
): Promise<void> {
  await sql`
    with moved as (
      update interfaces set invoice_cursor = ${cursors.invoice}, contact_cursor = ${cursors.contact}, state = 'idle',
        last_error = null, last_synced_at = now(), updated_at = now()
      where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}
      returning account_id)
    insert into sync_runs (account_id, kind, started_at, finished_at, pages, fetched, written, unassigned, invalid,
      error)
    select account_id, 'incremental', coalesce(${startedAt?.toISOString() ?? null}::timestamptz, now()), now(), ${counts.pages}, ${counts.fetched}, ${counts.written},
      ${counts.unassigned}, ${counts.invalid}, null
    from moved`;
}

/**
 * What a cycle has to do besides the new invoices, in one read: records reported invalid that are due for a
 * re-read (invalidInvoicesDue), contacts due for a re-check (contactsDueForRecheck), and the unassigned count.
 */
export async function cycleChores(
  sql: Sql,
  accountId: string,
  opts: { invalidLimit: number; recheckLimit: number; recheckAgeSeconds: number },
): Promise<{ invalidDue: string[]; recheck: string[]; unassigned: number }> {
  const [row] = await sql<{ invalid_due: string[]; recheck: string[]; unassigned: number }[]>`
    select
      array(${invalidDueQuery(sql, accountId, opts.invalidLimit)}) as invalid_due,
      array(${recheckQuery(sql, accountId, opts.recheckLimit, opts.recheckAgeSeconds)}) as recheck,
      (${unassignedQuery(sql, accountId)}) as unassigned`;
  return {
    invalidDue: row?.invalid_due ?? [],
    recheck: row?.recheck ?? [],
    unassigned: row?.unassigned ?? 0,
  };
}

/** Invoices stored as open (or partly paid), for the slow re-check of payments without an `update` bump. */
export async function storedOpenInvoiceIds(sql: Sql, accountId: string): Promise<string[]> {
  const rows = await sql<{ source_id: string }[]>`
    select source_id from invoices
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and ${sql.unsafe(shown(''))}
      and status = 'open'`;
  return rows.map((r) => r.source_id);
}

/** The sevDesk company the interface is bound to (its first data decides), or null before any data. */
export async function boundCompany(sql: Sql, accountId: string): Promise<string | null> {
  const [row] = await sql<{ sevdesk_client_id: string | null }[]>`
    select sevdesk_client_id from interfaces where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
  return row?.sevdesk_client_id ?? null;
}

/** Binds the interface to a company, unless it is bound already (then the stored one stays). */
export async function bindCompany(sql: Sql, accountId: string, clientId: string): Promise<string | null> {
  const [row] = await sql<{ sevdesk_client_id: string | null }[]>`
    update interfaces set sevdesk_client_id = coalesce(sevdesk_client_id, ${clientId})
    where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}
    returning sevdesk_client_id`;
  return row?.sevdesk_client_id ?? null;
}

/**
 * Invoices reported invalid (a malformed record), due for another read by id: first after 10 s, then after as
 * long again as the issue has lasted (a record that stays bad is asked for less and less often).
 */
const invalidDueQuery = (sql: Sql, accountId: string, limit: number) => sql`
    select source_id from invoice_issues
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and kind = 'invalid' and resolved_at is null
      and source_id ~ '^[0-9]+$'
      and now() - last_seen_at > greatest(interval '10 seconds', last_seen_at - first_seen_at)
    order by last_seen_at limit ${Math.max(0, limit)}`;

/** The record was read again and is still bad (or gone): its issue stays, seen now. */
export async function touchInvalidIssues(sql: Sql, accountId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update invoice_issues set last_seen_at = now()
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and kind = 'invalid' and resolved_at is null
      and source_id = any(${ids}::text[])`;
}

/** One entry of an account's "Verlauf": a sync cycle or a walk (import, reconcile) that ended. */
export interface RunRow {
  kind: 'incremental' | 'import' | 'reconcile';
  startedAt: Date;
  finishedAt: Date | null;
  /** null: not recorded (a cycle recorded before its start was). */
  durationMs: number | null;
  fetched: number;
  written: number;
  /** Walks: invoices sevDesk marked as deleted, taken out. null: a sync cycle does not record it. */
  removed: number | null;
  unassigned: number;
  invalid: number;
  /** Walks: sevDesk's count of invoices. */
  sevdeskTotal: number | null;
  error: { type: string; message: string } | null;
}

/**
 * The account's last `limit` runs, newest first. A walk's run and its checkpoint are written in one transaction,
 * so they share `now()`: that joins a run to its walk (start, sevDesk's count, deletions); dry runs are left out.
 */
export async function recentRuns(sql: Sql, accountId: string, limit: number): Promise<RunRow[]> {
  const rows = await sql<
    {
      kind: RunRow['kind'];
      started_at: Date | string;
      finished_at: Date | string | null;
      fetched: number;
      written: number;
      removed: number | null;
      unassigned: number;
      invalid: number;
      total: number | null;
      error: RunRow['error'];
      walk: boolean;
    }[]
  >`
    select r.kind, coalesce(c.started_at, r.started_at) as started_at, r.finished_at, r.fetched, r.written,
      (c.stats->>'deleted')::int as removed, r.unassigned, r.invalid, c.total, r.error, c.import_id is not null as walk
    from sync_runs r
    left join import_checkpoints c on c.account_id = r.account_id and c.kind = r.kind
      and c.finished_at = r.finished_at and r.kind <> 'incremental'
    where r.account_id = ${accountId} and c.dry_run is not true
    order by r.id desc
    limit ${Math.max(1, limit)}`;
  return rows.map((r) => {
    // Raw timestamps come back as text from this client.
    const startedAt = new Date(r.started_at);
    const finishedAt = r.finished_at === null ? null : new Date(r.finished_at);
    const measured = finishedAt !== null && (r.walk || finishedAt > startedAt);
    return {
      kind: r.kind,
      startedAt,
      finishedAt,
      durationMs: measured && finishedAt ? finishedAt.getTime() - startedAt.getTime() : null,
      fetched: r.fetched,
      written: r.written,
      removed: r.removed,
      unassigned: r.unassigned,
      invalid: r.invalid,
      sevdeskTotal: r.total,
      error: r.error,
    };
  });
}
