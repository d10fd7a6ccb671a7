import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = ReturnType<typeof drizzle<typeof schema>>;
export type Sql = postgres.Sql;
/** A pool or a transaction: what the query functions take, so that a caller can run several in one. */
export type Tx = Sql | postgres.TransactionSql;
/** A piece of SQL built with a Tx, spliced into another statement (no query of its own). */
export type Fragment = postgres.PendingQuery<postgres.Row[]>;

export interface DbHandle {
  db: Db;
  sql: Sql;
  close(): Promise<void>;
}

export interface DbOptions {
  max?: number;
  /**
   * Server-side bound per statement, and per idle-in-transaction pause, in ms (0: none). A query stuck on
   * a lock or a transaction left open (e.g. across an HTTP call) then fails and is retried by Temporal
   * instead of holding a connection and its locks for ever. Default 60 000.
   */
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity (which process holds a connection). */
  applicationName?: string;
  /** Count the statements sent (`statementsSent`): benchmarks only, see there. */
  countStatements?: boolean;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;

let statements = 0;
/**
 * SQL statements sent by the pools created with `countStatements` (the worker's /metrics shows it when
 * SEVSYNC_DB_COUNT_STATEMENTS is set). A diagnostic for benchmarks, off by default: postgres.js's `debug`
 * hook, the only per-statement one, also makes its errors carry the query and its parameters.
 */
export const statementsSent = (): number => statements;

export function createDb(url: string, opts: DbOptions = {}): DbHandle {
  const timeout = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // numeric stays a string: money is never a JS float.
    types: {},
    ...(opts.countStatements
      ? {
          debug: () => {
            statements += 1;
          },
        }
      : {}),
    // Startup parameters: they hold for every connection of the pool, also after a reconnect.
    connection: {
      application_name: opts.applicationName ?? 'sevsync',
      statement_timeout: timeout,
      idle_in_transaction_session_timeout: timeout,
    },
  });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
