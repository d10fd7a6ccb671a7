// The bulk import's and the reconcile walk's state: checkpoints, the ids a walk has seen, the deletion sweep.
// The checkpoint's plain CRUD goes through drizzle's typed query builder (tsc checks the columns). What runs
// inside the finish transaction (a postgres.js TransactionSql, which drizzle's builder cannot join) and the
// set-based statements over walk_seen and invoices stay tagged-template SQL, one named function each.
import { and, eq, ne, sql as expr } from 'drizzle-orm';
import type { ImportStats } from '../shared';
import { SOURCE_SEVDESK } from '../shared';
import type { Sql, Tx } from './client';
import { customersOf, recomputeAccountValues, recomputeCustomerValues } from './customers';
import { lastSeq, lockAccountEvents } from './events';
import { orm } from './orm';
import { jsonb } from './interfaces';
import { importCheckpoints } from './schema';

export interface WalkRef {
  accountId: string;
  importId: string;
  kind: 'import' | 'reconcile';
  dryRun: boolean;
}

/** running: pages to go; walked: every page read; done: finished; error: stopped (resumable). */
export type CheckpointState = 'running' | 'walked' | 'done' | 'error';

export interface Checkpoint {
  nextOffset: number;
  done: number;
  total: number | null;
  pages: number;
  state: CheckpointState;
  stats: ImportStats;
  startedAt: Date;
}

interface CheckpointRow {
  next_offset: number;
  done: number;
  total: number | null;
  pages: number;
  state: CheckpointState;
  stats: ImportStats;
  started_at: string | Date;
}

const toCheckpoint = (r: CheckpointRow): Checkpoint => ({
  nextOffset: r.next_offset,
  done: r.done,
  total: r.total,
  pages: r.pages,
  state: r.state,
  stats: r.stats,
  startedAt: new Date(r.started_at),
});

const walkOf = (ref: WalkRef) =>
  and(eq(importCheckpoints.accountId, ref.accountId), eq(importCheckpoints.importId, ref.importId));
const now = expr`now()`;

/** Creates the checkpoint of a new walk; a resumed walk keeps its own. */
export async function createCheckpoint(sql: Sql, ref: WalkRef, stats: ImportStats): Promise<void> {
  await orm(sql)
    .insert(importCheckpoints)
    .values({
      accountId: ref.accountId,
      importId: ref.importId,
      kind: ref.kind,
      dryRun: ref.dryRun,
      state: 'running',
      stats,
      valuesEventsFrom: await lastSeq(sql, ref.accountId),
    })
    .onConflictDoNothing();
}

/**
 * The values a walk deferred, recomputed for the whole account (its end, a pause, a stop); the invoice
 * events the walk wrote since the last such recompute are the causes of the values events.
 */
export async function recomputeWalkValues(tx: Tx, ref: WalkRef): Promise<void> {
  await lockAccountEvents(tx, ref.accountId);
  const [row] = await tx<{ from: string | null }[]>`
    select values_events_from as from from import_checkpoints
    where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
  await recomputeAccountValues(tx, ref.accountId, Number(row?.from ?? 0));
  await tx`
    update import_checkpoints set values_events_from = coalesce((select last_seq from event_seqs
      where account_id = ${ref.accountId}), 0)
    where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
}

export async function loadCheckpoint(sql: Sql, ref: WalkRef): Promise<Checkpoint | undefined> {
  const [r] = await orm(sql)
    .select({
      nextOffset: importCheckpoints.nextOffset,
      done: importCheckpoints.done,
      total: importCheckpoints.total,
      pages: importCheckpoints.pages,
      state: importCheckpoints.state,
      stats: importCheckpoints.stats,
      startedAt: importCheckpoints.startedAt,
    })
    .from(importCheckpoints)
    .where(walkOf(ref));
  // The state column holds this enum (schema.ts types it as text).
  return r ? { ...r, state: r.state as CheckpointState, stats: r.stats } : undefined;
}

/** The checkpoint, locked for the rest of the transaction (the end of a walk runs once). */
export async function lockCheckpoint(tx: Tx, ref: WalkRef): Promise<Checkpoint | undefined> {
  const [row] = await tx<CheckpointRow[]>`
    select next_offset, done, total, pages, state, stats, started_at from import_checkpoints
    where account_id = ${ref.accountId} and import_id = ${ref.importId} for update`;
  return row ? toCheckpoint(row) : undefined;
}

/** A resumed walk (after `error`) runs again. */
export async function reopenCheckpoint(sql: Sql, ref: WalkRef): Promise<void> {
  await orm(sql)
    .update(importCheckpoints)
    .set({ state: 'running', updatedAt: now })
    .where(and(walkOf(ref), eq(importCheckpoints.state, 'error')));
}

/** The page's ids, so that the end of the walk can prove it saw as many invoices as sevDesk counts. */
export async function recordSeen(tx: Tx, ref: WalkRef, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx`
    insert into walk_seen (account_id, walk_id, source_id)
    select ${ref.accountId}, ${ref.importId}, unnest(${ids}::text[]) on conflict do nothing`;
}

export async function countSeen(tx: Tx, ref: WalkRef): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from walk_seen where account_id = ${ref.accountId} and walk_id = ${ref.importId}`;
  return row?.n ?? 0;
}

export async function advanceCheckpoint(
  sql: Sql,
  ref: WalkRef,
  next: {
    nextOffset: number;
    total: number | null;
    stats: ImportStats;
    maxUpdate: number | null;
    walked: boolean;
  },
): Promise<void> {
  const c = importCheckpoints;
  await orm(sql)
    .update(c)
    .set({
      nextOffset: next.nextOffset,
      done: next.nextOffset,
      total: next.total,
      pages: expr`${c.pages} + 1`,
      stats: next.stats,
      maxUpdate: expr`greatest(coalesce(${c.maxUpdate}, 0), ${next.maxUpdate ?? 0}::bigint)`,
      state: next.walked ? 'walked' : 'running',
      updatedAt: now,
    })
    .where(walkOf(ref));
}

/** Stats only (a suspect short page, a new pass): the offset stays or restarts as given. */
export async function saveCheckpointStats(
  sql: Sql,
  ref: WalkRef,
  stats: ImportStats,
  restartAt?: number,
): Promise<void> {
  await orm(sql)
    .update(importCheckpoints)
    .set({
      stats,
      updatedAt: now,
      ...(restartAt === undefined ? {} : { nextOffset: restartAt, state: 'running' }),
    })
    .where(walkOf(ref));
}

/** The walk stopped: state `error` with its reason; `import start` resumes it from `next_offset`. */
export async function failCheckpoint(sql: Sql, ref: WalkRef, message: string): Promise<void> {
  const c = importCheckpoints;
  await orm(sql)
    .update(c)
    .set({
      state: 'error',
      stats: expr`jsonb_set(${c.stats}, '{error}', to_jsonb(${message}::text))`,
      updatedAt: now,
    })
    .where(and(walkOf(ref), ne(c.state, 'done')));
}

/** When the account's first import started, while it has not finished: incremental syncs read from there. */
export async function unfinishedImportStart(sql: Sql, accountId: string): Promise<Date | null> {
  const [row] = await sql<{ started_at: string | Date }[]>`
    select started_at from import_checkpoints
    where account_id = ${accountId} and kind = 'import' and not dry_run and state <> 'done'
    order by started_at limit 1`;
  return row ? new Date(row.started_at) : null;
}

/** Stored, shown invoices that the walk did not see: deleted in sevDesk, or a glitch. */
export async function sweepCandidates(tx: Tx, ref: WalkRef): Promise<{ ids: string[]; live: number }> {
  const rows = await tx<{ source_id: string }[]>`
    select i.source_id from invoices i
    where i.account_id = ${ref.accountId} and i.source = ${SOURCE_SEVDESK} and i.removed_at is null
      and not exists (select 1 from walk_seen w where w.account_id = i.account_id
        and w.walk_id = ${ref.importId} and w.source_id = i.source_id)
    order by i.source_id`;
  const [live] = await tx<{ n: number }[]>`
    select count(*)::int as n from invoices
    where account_id = ${ref.accountId} and source = ${SOURCE_SEVDESK} and removed_at is null`;
  return { ids: rows.map((r) => r.source_id), live: live?.n ?? 0 };
}

/** Marks invoices deleted in sevDesk and recomputes the values of their customers. */
export async function markDeleted(tx: Tx, accountId: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const gone = await tx<{ customer_id: number | null }[]>`
    update invoices set removed_at = now(), removed_reason = 'deleted', updated_at = now()
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and removed_at is null
      and source_id = any(${ids}::text[])
    returning customer_id`;
  await recomputeCustomerValues(tx, accountId, customersOf(gone));
  return gone.length;
}

export async function clearSeen(tx: Tx, ref: WalkRef): Promise<void> {
  await tx`delete from walk_seen where account_id = ${ref.accountId} and walk_id = ${ref.importId}`;
}

export async function markReconciled(tx: Tx, accountId: string): Promise<void> {
  await tx`
    update interfaces set last_reconciled_at = now()
    where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
}

/**
 * The incremental cursor after an import: the newest `update` the walk read, but never past its own start
 * (minus the overlap): a change to an invoice the walk had already passed is then still re-read.
 */
export async function moveCursorAfterImport(tx: Tx, ref: WalkRef, overlapSeconds: number): Promise<void> {
  await tx`
    update interfaces i set invoice_cursor = greatest(coalesce(i.invoice_cursor, 0),
      least(c.max_update, extract(epoch from c.started_at)::bigint - ${overlapSeconds})), updated_at = now()
    from import_checkpoints c
    where c.account_id = ${ref.accountId} and c.import_id = ${ref.importId} and c.max_update is not null
      and i.account_id = c.account_id and i.provider = ${SOURCE_SEVDESK}`;
}

export async function finishCheckpoint(tx: Tx, ref: WalkRef, stats: ImportStats): Promise<void> {
  await tx`
    update import_checkpoints set state = 'done', stats = ${jsonb(stats)}::jsonb, finished_at = now(),
      updated_at = now()
    where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
}

/** The completeness receipt of the last walk that ended: sevDesk's count then, and what the account holds now. */
export interface WalkReceiptRow {
  kind: string;
  /** sevDesk's count of invoices when the walk ended (null: it never said). */
  total: number | null;
  finishedAt: Date;
  assigned: number;
  unassigned: number;
  invalid: number;
  /** Stored cancellations (SR) in force: sevDesk counts them, OneCockpit does not show them. */
  stornos: number;
}

export async function lastWalkReceipt(sql: Sql, accountId: string): Promise<WalkReceiptRow | undefined> {
  const [r] = await sql<
    {
      kind: string;
      total: number | null;
      finished_at: Date | string;
      assigned: number;
      unassigned: number;
      invalid: number;
      stornos: number;
    }[]
  >`
    with walk as (
      select kind, total, finished_at from import_checkpoints
      where account_id = ${accountId} and state = 'done' and not dry_run and finished_at is not null
      order by finished_at desc limit 1)
    select w.kind, w.total, w.finished_at,
      (select count(*)::int from invoices where account_id = ${accountId} and source = ${SOURCE_SEVDESK}
        and removed_at is null and type <> 'SR' and customer_id is not null) as assigned,
      (select count(*)::int from invoices where account_id = ${accountId} and source = ${SOURCE_SEVDESK}
        and removed_at is null and type <> 'SR' and customer_id is null) as unassigned,
      (select count(*)::int from invoice_issues where account_id = ${accountId} and source = ${SOURCE_SEVDESK}
        and kind = 'invalid' and resolved_at is null) as invalid,
      (select count(*)::int from invoices where account_id = ${accountId} and source = ${SOURCE_SEVDESK}
        and removed_at is null and type = 'SR') as stornos
    from walk w`;
  if (!r) return undefined;
  return {
    kind: r.kind,
    total: r.total,
    // Raw timestamps come back as text from this client.
    finishedAt: new Date(r.finished_at),
    assigned: r.assigned,
    unassigned: r.unassigned,
    invalid: r.invalid,
    stornos: r.stornos,
  };
}
