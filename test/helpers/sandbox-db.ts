// The sandbox and the test database for tests that call activities' building blocks directly (no worker).
import { afterAll, beforeAll } from 'vitest';
import { pageContext } from '../../src/activities/pages';
import type { Sql } from '../../src/db/client';
import { ensureAccount } from '../../src/db/interfaces';
import type { Sandbox, SandboxOptions } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { closeDefaultDispatchers, createSevdeskClient } from '../../src/sevdesk/client';
import { randomId, testDb } from './env';

/** Registers the suite's hooks: one sandbox (prepared once), the database; both closed after the suite. */
export function useSandboxDb(options: SandboxOptions, prepare: (sb: Sandbox) => void = () => {}) {
  const db = testDb();
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox(options);
    prepare(sandbox);
  });
  afterAll(async () => {
    await sandbox?.close();
    await db.close();
    await closeDefaultDispatchers();
  });
  return {
    db,
    get sb(): Sandbox {
      if (!sandbox) throw new Error('the sandbox is not started yet (used before beforeAll?)');
      return sandbox;
    },
  };
}

/** A new account reading the sandbox, and the context its invoice pages are processed in (gross, EUR). */
export async function sandboxAccount(sql: Sql, sb: Sandbox) {
  const accountId = randomId('acct');
  await ensureAccount(sql, accountId);
  const client = createSevdeskClient({ baseUrl: sb.url, token: sb.token });
  const ctx = pageContext(sql, client, {
    accountId,
    baseCurrency: 'EUR',
    settings: { amountBasis: 'gross' },
  });
  return { accountId, client, ctx };
}
