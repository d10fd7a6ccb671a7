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

export class PgActivitySampler {
  private readonly sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  private readonly counts = new Map<string, number>();
  private samples = 0;
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
        { state: string; wtype: string | null; wevent: string | null; query: string }[]
      >`
        select state, wait_event_type as wtype, wait_event as wevent, query from pg_stat_activity
        where datname = ${this.database} and pid <> pg_backend_pid() and state <> 'idle'`.catch(() => []);
      this.samples += 1;
      for (const r of rows) {
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
  async stop(top = 8): Promise<{ samples: number; shares: ActivityShare[] }> {
    this.running = false;
    await this.loop;
    await this.sql.end({ timeout: 5 });
    const shares = [...this.counts.entries()]
      .map(([what, n]) => ({ what, connectionSeconds: (n * this.periodMs) / 1000 }))
      .sort((a, b) => b.connectionSeconds - a.connectionSeconds)
      .slice(0, top);
    return { samples: this.samples, shares };
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
