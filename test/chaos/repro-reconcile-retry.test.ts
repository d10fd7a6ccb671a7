import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import type { ImportRef } from '../../src/activities/bulk-import';
import { ensureAccount, insertInterface } from '../../src/db/interfaces';
import { encryptToken, keyringOf, openInterfaceToken } from '../../src/secrets';
import { createSevdeskClient } from '../../src/sevdesk/client';
import { randomId, TEST_SECRET_KEY } from '../helpers/env';
import { useSandboxDb } from '../helpers/sandbox-db';

// Found while reviewing what a fault between a commit and the activity's completion does (the campaign
// kills workers and PostgreSQL backends at random points). finishImport of a reconcile marks every invoice
// the walk did not see as deleted and then deletes the walk's `walk_seen` rows, in one transaction; the
// checkpoint is set to done afterwards, in another statement. When the attempt fails after the commit
// (backend terminated, worker killed, heartbeat timeout) Temporal retries it: the retry finds no
// `walk_seen` rows at all and marks every invoice of the account as deleted. Nothing re-reads them
// before the next reconcile (daily), so every customer's "Invoices" value drops to 0 meanwhile.

const sandboxDb = useSandboxDb({ seed: 909, data: { invoices: 600 } });
const { db } = sandboxDb;

describe('a reconcile whose finishImport is retried after it committed', () => {
  it('leaves the invoices sevDesk still has alone', async () => {
    const accountId = randomId('acct');
    await ensureAccount(db.sql, accountId);
    const token = encryptToken(
      keyringOf(TEST_SECRET_KEY),
      { accountId, provider: 'sevdesk', baseUrl: sandboxDb.sb.url },
      sandboxDb.sb.token,
    );
    await insertInterface(db.sql, {
      accountId,
      baseUrl: sandboxDb.sb.url,
      ciphertext: token.ciphertext,
      keyId: token.keyId,
      settings: { intervalSeconds: 3600, amountBasis: 'gross' },
      active: true,
    });
    const acts = createActivities({
      sql: db.sql,
      sevdesk: ({ baseUrl, token: t }) => createSevdeskClient({ baseUrl, token: t }),
      decryptToken: (iface) => openInterfaceToken(keyringOf(TEST_SECRET_KEY), iface),
    });
    const env = new MockActivityEnvironment();
    const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
      env.run(fn, ...args) as Promise<R>;
    /** What the bulk import workflow does, activity by activity. */
    const walk = async (ref: ImportRef) => {
      let { nextOffset: offset } = await run(acts.beginImport, ref);
      for (;;) {
        const page = await run(acts.importPage, { ...ref, offset });
        offset = page.nextOffset;
        if (page.finished) break;
      }
      return run(acts.finishImport, ref);
    };
    const live = async () =>
      (
        await db.sql<{ n: number }[]>`
          select count(*)::int as n from invoices where account_id = ${accountId} and removed_at is null`
      )[0]?.n ?? 0;

    await walk({ accountId, importId: 'imp-1', kind: 'import', dryRun: false });
    const before = await live();
    expect(before).toBeGreaterThan(0);

    const reconcile: ImportRef = { accountId, importId: 'rec-1', kind: 'reconcile', dryRun: false };
    const stats = await walk(reconcile);
    expect(stats.deleted).toBe(0);
    expect(await live()).toBe(before);

    // The same activity again, as Temporal runs it when the first attempt failed after its commit.
    await run(acts.finishImport, reconcile);
    expect(await live()).toBe(before);
  });
});
