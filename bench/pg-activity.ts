import postgres from 'postgres';
import { ADMIN_DATABASE_URL } from './infra';
import { statementLabel } from './sql-timing';

// Samples pg_stat_activity of one database: what its connections were doing, weighted by time. A statement
// that shows up in many samples is where the database side of the time goes (running, or waiting for a lock).

export interface ActivityShare {
  /** e.g. "active: analyze invoices, ...", "waiting (Lock/relation): analyze ...", "idle in transaction". */
  what: string;
  /** Connection-seconds spent so, over the sampled period. */
  connectionSeconds: number;
}

/**
 * A transaction idle for longer than this while sampled is waiting for something slow on the client side:
 * with the latency profile (a sevDesk request takes >= 250 ms) an HTTP call inside a transaction shows here.
 */
export const LONG_IDLE_MS = 200;

export interface PgActivity {
  samples: number;
  /** The largest shares. */
  shares: ActivityShare[];
  /** Busy (not idle) connection-seconds of all kinds. */
  totalConnectionSeconds: number;
  /** Wall time sampled. */
  seconds: number;
  /** Connection-seconds idle in a transaction for longer than LONG_IDLE_MS at the time of the sample. */
  longIdleInTransactionSeconds: number;
  /** What those transactions ran last (the statement before the wait), largest first. */
  longIdleAfter: ActivityShare[];
}

/** What "idle in transaction" cost: its share of the busy connection time, and the long ones on average. */
export interface IdleInTransaction {
  /** Idle-in-transaction connection-seconds over all busy connection-seconds (any length of idling). */
  share: number | null;
  /**
   * Connections idle in a transaction for longer than LONG_IDLE_MS, on average over the sampled time: a
   * transaction open across an HTTP call (the goal is close to 0).
   */
  longConnections: number | null;
  /** The statement the long-idle transactions ran last, largest first (where to look). */
  longAfter: ActivityShare[];
}

export function idleInTransaction(a: PgActivity): IdleInTransaction {
  const idle = a.shares.find((s) => s.what.startsWith('idle in transaction'))?.connectionSeconds ?? 0;
  return {
    share: a.totalConnectionSeconds > 0 ? idle / a.totalConnectionSeconds : null,
    longConnections: a.seconds > 0 ? a.longIdleInTransactionSeconds / a.seconds : null,
    longAfter: a.longIdleAfter,
  };
}

export class PgActivitySampler {
  private readonly sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  private readonly counts = new Map<string, number>();
  private samples = 0;
  /** Samples of a connection idle in a transaction for longer than LONG_IDLE_MS. */
  private longIdle = 0;
  /** The last statement of those transactions, by label. */
  private readonly longIdleAfter = new Map<string, number>();
  private readonly startedAt = Date.now();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly database: string,
    private readonly periodMs = 200,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const rows = await this.sql<
        { state: string; wtype: string | null; wevent: string | null; query: string; ms: number | null }[]
      >`
        select state, wait_event_type as wtype, wait_event as wevent, query,
          (extract(epoch from clock_timestamp() - state_change) * 1000)::float8 as ms
        from pg_stat_activity
        where datname = ${this.database} and pid <> pg_backend_pid() and state <> 'idle'`.catch(() => []);
      this.samples += 1;
      for (const r of rows) {
        if (r.state === 'idle in transaction' && (r.ms ?? 0) > LONG_IDLE_MS) {
          this.longIdle += 1;
          const after = statementLabel(r.query);
          this.longIdleAfter.set(after, (this.longIdleAfter.get(after) ?? 0) + 1);
        }
        // A backend in a transaction waiting for its client is the client's time, whatever it ran last.
        const key =
          r.state === 'idle in transaction'
            ? 'idle in transaction (waiting for the worker)'
            : r.wtype && r.wtype !== 'Client'
              ? `waiting (${r.wtype}/${r.wevent}): ${statementLabel(r.query)}`
              : `running: ${statementLabel(r.query)}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, this.periodMs));
    }
  }

  /** Stops sampling; the largest shares first. */
  async stop(top = 8): Promise<PgActivity> {
    this.running = false;
    await this.loop;
    await this.sql.end({ timeout: 5 });
    let all = 0;
    for (const n of this.counts.values()) all += n;
    const totalConnectionSeconds = (all * this.periodMs) / 1000;
    const shares = [...this.counts.entries()]
      .map(([what, n]) => ({ what, connectionSeconds: (n * this.periodMs) / 1000 }))
      .sort((a, b) => b.connectionSeconds - a.connectionSeconds)
      .slice(0, top);
    return {
      samples: this.samples,
      shares,
      totalConnectionSeconds,
      seconds: (Date.now() - this.startedAt) / 1000,
      longIdleInTransactionSeconds: (this.longIdle * this.periodMs) / 1000,
      longIdleAfter: [...this.longIdleAfter.entries()]
        .map(([what, n]) => ({ what, connectionSeconds: (n * this.periodMs) / 1000 }))
        .sort((a, b) => b.connectionSeconds - a.connectionSeconds)
        .slice(0, 3),
    };
  }
}

/**
 * PostgreSQL processes that work for one database: its backends, and the server's own background processes
 * (WAL writer, checkpointer: shared, but on a bench machine mostly busy with the bench's writes).
 */
export async function postgresPidsOf(databaseUrl: string): Promise<Set<number>> {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ pid: number }[]>`
      select pid from pg_stat_activity
      where datname = ${database} or (datname is null and backend_type <> 'autovacuum worker')`;
    return new Set(rows.map((r) => r.pid));
  } finally {
    await sql.end({ timeout: 5 });
  }
}
