// A dry run keeps the account's contacts in the worker's memory while it runs: they leave it when the dry
// run finishes, and also when the workflow stops it (failImport), so that a stopped preview does not hold
// an account's contacts in memory until the worker restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportRef } from '../../src/activities/bulk-import';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { closeDefaultDispatchers } from '../../src/sevdesk/client';
import { pointInterfaceAt } from '../helpers/accounts';
import { randomId, TEST_SECRET_KEY, testDb } from '../helpers/env';
import { activityEnv } from './activity-env';

const db = testDb();
let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ seed: 4490, data: { invoices: 30 } });
});

afterAll(async () => {
  await sb.close();
  await db.close();
  await closeDefaultDispatchers();
});

const { acts, run } = activityEnv(db.sql);

async function dryRun(): Promise<ImportRef> {
  const accountId = randomId('acct');
  await pointInterfaceAt(db.sql, TEST_SECRET_KEY, accountId, sb);
  return { accountId, importId: randomId('dry'), kind: 'import', dryRun: true };
}

/** The contact list requests a call made: what loading the dry run's contacts costs. */
async function contactListRequests(call: () => Promise<unknown>): Promise<number> {
  sb.requests.reset();
  await call();
  return sb.requests.entries().filter((e) => /\/Contact$/.test(e.path)).length;
}

describe("a dry run's contacts in worker memory", () => {
  it('are loaded once while the dry run runs', async () => {
    const ref = await dryRun();
    expect(await contactListRequests(() => run(acts.beginImport, ref))).toBeGreaterThan(0);
    // The same dry run again (a retried beginImport): served from memory.
    expect(await contactListRequests(() => run(acts.beginImport, ref))).toBe(0);
    const page = await run(acts.importPages, { ...ref, offset: 0, pass: 1 });
    expect(page.finished).toBe(true);
    expect(await contactListRequests(() => run(acts.finishImport, ref))).toBe(0);
  });

  it('leave memory when the workflow stops the dry run: resumed, it loads them again', async () => {
    const ref = await dryRun();
    await run(acts.beginImport, ref);
    await run(acts.failImport, { ...ref, message: 'stopped by the workflow' });
    const [cp] = await db.sql<{ state: string }[]>`
      select state from import_checkpoints where account_id = ${ref.accountId} and import_id = ${ref.importId}`;
    expect(cp?.state).toBe('error');
    expect(await contactListRequests(() => run(acts.beginImport, ref))).toBeGreaterThan(0);
  });

  it('leave memory when the dry run finishes', async () => {
    const ref = await dryRun();
    await run(acts.beginImport, ref);
    await run(acts.importPages, { ...ref, offset: 0, pass: 1 });
    await run(acts.finishImport, ref);
    // A late retry of its beginImport finds no contacts in memory and loads them.
    expect(await contactListRequests(() => run(acts.beginImport, ref))).toBeGreaterThan(0);
  });
});
