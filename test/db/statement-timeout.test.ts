import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/client';

// sevsync's connections carry statement_timeout and idle_in_transaction_session_timeout: a statement stuck
// on a lock, or a transaction left open across a slow call, fails instead of holding its connection and
// locks for ever.
let handle: DbHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

describe('database connection bounds', () => {
  it('default to 60 s on every connection', async () => {
    handle = createDb(inject('databaseUrl'), { max: 2 });
    const [a] = await handle.sql<{ statement_timeout: string }[]>`show statement_timeout`;
    const [b] = await handle.sql<{ idle_in_transaction_session_timeout: string }[]>`
      show idle_in_transaction_session_timeout`;
    expect(a?.statement_timeout).toBe('1min');
    expect(b?.idle_in_transaction_session_timeout).toBe('1min');
    const [c] = await handle.sql<{ application_name: string }[]>`show application_name`;
    expect(c?.application_name).toBe('sevsync');
  });

  it('cancel a statement that runs too long (57014) and end a transaction left idle', async () => {
    handle = createDb(inject('databaseUrl'), { max: 2, statementTimeoutMs: 300 });
    await expect(handle.sql`select pg_sleep(2)`).rejects.toMatchObject({ code: '57014' });
    const idle = handle.sql.begin(async (tx) => {
      await tx`select 1`;
      await new Promise((r) => setTimeout(r, 1000));
      await tx`select 2`;
    });
    // The server ends the idle session (FATAL 25P03); postgres.js reports the closed connection.
    await expect(idle).rejects.toMatchObject({ code: expect.stringMatching(/^(25P03|CONNECTION_CLOSED)$/) });
    // The pool recovers: the next query gets a fresh connection.
    const [row] = await handle.sql<{ ok: number }[]>`select 1 as ok`;
    expect(row?.ok).toBe(1);
  });

  it('0 disables the bound', async () => {
    handle = createDb(inject('databaseUrl'), { max: 1, statementTimeoutMs: 0 });
    const [a] = await handle.sql<{ statement_timeout: string }[]>`show statement_timeout`;
    expect(a?.statement_timeout).toBe('0');
  });
});
