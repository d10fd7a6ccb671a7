// The change feed: every change OneCockpit would see, as events written in the transaction of the change
// (by the triggers of migration 0003, and by `recomputeCustomerValues` for customer values). This module
// reads them: per account by `seq`, across accounts by an opaque cursor, a customer's value history, and
// removes what retention no longer keeps (docs/events.md).
import type { Sql, Tx } from './client';

export type EventType =
  | 'invoice.created'
  | 'invoice.updated'
  | 'invoice.removed'
  | 'customer.created'
  | 'customer.updated'
  | 'customer.values_changed'
  | 'interface.state_changed'
  | 'issue.opened'
  | 'issue.resolved'
  | 'import.finished';

export const EVENT_TYPES: readonly EventType[] = [
  'invoice.created',
  'invoice.updated',
  'invoice.removed',
  'customer.created',
  'customer.updated',
  'customer.values_changed',
  'interface.state_changed',
  'issue.opened',
  'issue.resolved',
  'import.finished',
];

/** The envelope OneCockpit reads from the feed and receives as a webhook body. */
export interface ChangeEvent {
  /** Unique and stable: `evt_` + 32 hex digits; also the webhook id. */
  id: string;
  /** Per account: 1, 2, 3, ... without gaps, in the order the changes were committed. */
  seq: number;
  type: EventType;
  account: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The page size of the feed when none is asked for, and the largest one served. */
export const DEFAULT_EVENT_LIMIT = 100;
export const MAX_EVENT_LIMIT = 1000;

/** A cursor older than what retention keeps: the events after it may be gone. */
export class EventsGoneError extends Error {
  /**
   * `prunedThrough`: the last seq removed (one account's feed) or transaction id (the global feed); `resume`:
   * the cursor (`after`) that goes on with what is kept, accepting the loss: for one account the oldest event
   * kept, for the global feed the same position (the events after it that were kept still follow).
   */
  constructor(
    readonly prunedThrough: string,
    readonly resume: string = prunedThrough,
  ) {
    super(
      'events after this cursor were removed by the retention (SEVSYNC_EVENT_RETENTION_DAYS) before they were ' +
        'read: read the customers again (`customers --json`), then follow the feed with ' +
        `after=${resume} (the events kept start after it)`,
    );
    this.name = 'EventsGoneError';
  }
}

/** A cursor that sevsync did not give out. */
export class BadCursorError extends Error {
  constructor() {
    super('the cursor is not one that the feed gave out');
    this.name = 'BadCursorError';
  }
}

const ADVISORY_EVENTS = 7422002;

/**
 * The account's event lock, to be taken as the first statement of a transaction that changes what
 * OneCockpit sees: writers of one account then take their seqs in commit order, and their transaction ids
 * in the same order (the global feed's order). Without it a writer may be refused with a serialization
 * failure (SQLSTATE 40001) and is retried.
 */
export async function lockAccountEvents(tx: Tx, accountId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(${ADVISORY_EVENTS}, hashtext(${accountId}))`;
}

interface EventRow {
  account_id: string;
  seq: string;
  xid: string;
  id: string;
  type: EventType;
  occurred_at: string;
  data: Record<string, unknown>;
}

const envelope = (r: EventRow): ChangeEvent => ({
  id: `evt_${r.id.replace(/-/g, '')}`,
  seq: Number(r.seq),
  type: r.type,
  account: r.account_id,
  occurredAt: new Date(r.occurred_at).toISOString(),
  data: r.data,
});

export interface AccountPage {
  events: ChangeEvent[];
  /** The `after` of the next call: the last seq served, or `after` itself when there was nothing new. */
  next: number;
}

/**
 * The account's events after `after`, in seq order. Per account the seqs are handed out under a lock held
 * to commit, so what is visible is always a prefix: no event appears later below a seq already served.
 */
export async function accountEvents(
  sql: Tx,
  accountId: string,
  after: number,
  limit = DEFAULT_EVENT_LIMIT,
): Promise<AccountPage> {
  const [pruned] = await sql<{ pruned_through: string }[]>`
    select pruned_through from event_seqs where account_id = ${accountId}`;
  if (pruned && after < Number(pruned.pruned_through)) throw new EventsGoneError(pruned.pruned_through);
  const rows = await sql<EventRow[]>`
    select account_id, seq, xid::text as xid, id::text as id, type, occurred_at, data from events
    where account_id = ${accountId} and seq > ${after}
    order by seq limit ${limit}`;
  const events = rows.map(envelope);
  return { events, next: events.at(-1)?.seq ?? after };
}

/**
 * The position of an event in the global order (its transaction, account and seq), and how far retention
 * had removed events when the cursor was given out (`pruned`, a transaction id): events removed after that,
 * past the position, were never served to the holder of the cursor.
 */
interface Position {
  xid: string;
  account: string;
  seq: number;
  pruned?: string;
}

const START: Position = { xid: '0', account: '', seq: 0 };

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.xid, p.account, p.seq, p.pruned ?? p.xid])).toString('base64url');
}

const XID = /^[0-9]{1,20}$/;

export function decodeCursor(cursor: string | undefined): Position {
  if (cursor === undefined || cursor === '' || cursor === '0') return START;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      (v.length === 3 || v.length === 4) &&
      typeof v[0] === 'string' &&
      XID.test(v[0]) &&
      typeof v[1] === 'string' &&
      typeof v[2] === 'number' &&
      Number.isSafeInteger(v[2]) &&
      v[2] >= 0 &&
      (v.length === 3 || (typeof v[3] === 'string' && XID.test(v[3])))
    )
      return { xid: v[0], account: v[1], seq: v[2], pruned: (v[3] as string | undefined) ?? v[0] };
  } catch {
    // fall through
  }
  throw new BadCursorError();
}

export interface GlobalPage {
  events: ChangeEvent[];
  /** The opaque cursor of the next call (the same position when there was nothing new). */
  next: string;
}

/**
 * The events of every account after `cursor`, in the order (transaction id, account, seq). Only events of
 * transactions older than every transaction still running are served (the snapshot's xmin): a transaction
 * that commits late has a transaction id at least that high, so it lands after the cursor and is never
 * skipped, whatever order the commits came in. Per account the order is the seq order, as the writers take
 * the account's lock before their transaction id (and are refused otherwise). Without a cursor the feed
 * starts at the oldest event kept. A cursor past which retention removed events since it was given out is
 * "gone" (EventsGoneError).
 */
export async function globalEvents(
  sql: Tx,
  cursor: string | undefined,
  limit = DEFAULT_EVENT_LIMIT,
  opts: { accountId?: string; types?: readonly string[] } = {},
): Promise<GlobalPage> {
  const from = decodeCursor(cursor);
  const [kept] = await sql<{ pruned: string | null }[]>`
    select max(pruned_xid)::text as pruned from event_retention`;
  const pruned = kept?.pruned ?? '0';
  // Removed since the cursor was given out, and at or past its position: the holder never got them.
  if (
    from !== START &&
    BigInt(pruned) > BigInt(from.pruned ?? from.xid) &&
    BigInt(pruned) >= BigInt(from.xid)
  )
    throw new EventsGoneError(pruned, encodeCursor({ ...from, pruned }));
  const rows = await sql<EventRow[]>`
    select account_id, seq, xid::text as xid, id::text as id, type, occurred_at, data from events
    where (xid, account_id, seq) > (${from.xid}::xid8, ${from.account}, ${from.seq})
      and xid < pg_snapshot_xmin(pg_current_snapshot())
    order by xid, account_id, seq limit ${limit}`;
  const last = rows.at(-1);
  const at = last ? { xid: last.xid, account: last.account_id, seq: Number(last.seq) } : from;
  let events = rows.map(envelope);
  if (opts.accountId !== undefined) events = events.filter((e) => e.account === opts.accountId);
  if (opts.types) events = events.filter((e) => opts.types!.includes(e.type));
  return { events, next: encodeCursor({ ...at, pruned }) };
}

/** The cursor of the current end of the global feed: following from it gives only what comes next. */
export async function globalHead(sql: Tx): Promise<string> {
  const [row] = await sql<{ xid: string | null; account_id: string | null; seq: string | null }[]>`
    select xid::text as xid, account_id, seq from events
    where xid < pg_snapshot_xmin(pg_current_snapshot())
    order by xid desc, account_id desc, seq desc limit 1`;
  return row?.xid
    ? encodeCursor({ xid: row.xid, account: row.account_id!, seq: Number(row.seq) })
    : encodeCursor(START);
}

/** The last seq handed out for the account (0: none yet). */
export async function lastSeq(sql: Tx, accountId: string): Promise<number> {
  const [row] = await sql<{ last_seq: string }[]>`
    select last_seq from event_seqs where account_id = ${accountId}`;
  return row ? Number(row.last_seq) : 0;
}

/** A customer's `customer.values_changed` events, oldest first: why its values are what they are. */
export async function customerValueHistory(
  sql: Tx,
  accountId: string,
  email: string,
  limit = MAX_EVENT_LIMIT,
): Promise<ChangeEvent[] | null> {
  const [customer] = await sql<{ id: string }[]>`
    select id from customers where account_id = ${accountId} and email_key(email) = email_key(${email})`;
  if (!customer) return null;
  const rows = await sql<EventRow[]>`
    select * from (
      select account_id, seq, xid::text as xid, id::text as id, type, occurred_at, data from events
      where account_id = ${accountId} and customer_id = ${customer.id} and type = 'customer.values_changed'
      order by seq desc limit ${limit}) h
    order by seq`;
  return rows.map(envelope);
}

export interface PruneResult {
  deleted: number;
  batches: number;
}

/**
 * Removes events older than `retentionDays`, `batch` rows per transaction (a short lock and a little WAL
 * each, never one huge delete), and records per account how far the feed was cut, so that a cursor below it
 * gets "gone" instead of a silent gap.
 */
export async function pruneEvents(
  sql: Sql,
  opts: { retentionDays: number; batch?: number; maxBatches?: number; now?: Date },
): Promise<PruneResult> {
  const batch = opts.batch ?? 5000;
  const cutoff = new Date((opts.now ?? new Date()).getTime() - opts.retentionDays * 86_400_000);
  let deleted = 0;
  let batches = 0;
  while (batches < (opts.maxBatches ?? Number.MAX_SAFE_INTEGER)) {
    const n = await sql.begin(async (tx) => {
      const gone = await tx<{ account_id: string; seq: string; xid: string }[]>`
        delete from events e using (
          select account_id, seq from events where occurred_at < ${cutoff.toISOString()}::timestamptz
          order by occurred_at limit ${batch}) d
        where e.account_id = d.account_id and e.seq = d.seq
        returning e.account_id, e.seq, e.xid::text as xid`;
      if (gone.length === 0) return 0;
      await tx`
        update event_seqs s set pruned_through = greatest(s.pruned_through, g.seq)
        from (select account_id, max(seq::bigint) as seq from jsonb_to_recordset(${JSON.stringify(
          gone.map((g) => ({ account_id: g.account_id, seq: g.seq })),
        )}::jsonb) as r(account_id text, seq bigint) group by account_id) g
        where s.account_id = g.account_id`;
      const maxXid = gone.reduce((m, g) => (BigInt(g.xid) > m ? BigInt(g.xid) : m), 0n);
      await tx`
        insert into event_retention (id, pruned_xid) values (1, ${maxXid.toString()}::xid8)
        on conflict (id) do update set pruned_xid = greatest(event_retention.pruned_xid, excluded.pruned_xid)`;
      return gone.length;
    });
    if (n === 0) break;
    deleted += n;
    batches += 1;
  }
  return { deleted, batches };
}
