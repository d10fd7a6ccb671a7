import { describe, expect, it } from 'vitest';
import type { ImportStats } from '../../src/activities/bulk-import';
import { DEFAULT_IMPORT_WINDOW } from '../../src/activities/bulk-import';
import {
  connectApp,
  getCustomers,
  getStatus,
  setInterfaceActive,
  startImport,
  waitForImport,
} from '../../src/app';
import type { Sandbox } from '../../sandbox';
import { listCustomers } from '../../src/db/views';
import { foldEvents } from '../../src/domain/event-fold';
import { accountSyncWorkflowId, bulkImportWorkflowId } from '../../src/shared';
import { settingsChangedSignal, statusQuery } from '../../src/workflows';
import { addSandboxInterface, importSettled, useAppEnv } from '../helpers/app-env';
import { eventually, randomId, testConfig } from '../helpers/env';
import { allAccountEvents, canonicalCustomers } from '../helpers/feed';
import { recomputedInvoiceValues } from '../helpers/oracle';
import { truthOf, viewOf } from '../helpers/truth';
import { spawnWorkerProcess } from '../helpers/worker-process';

const env = useAppEnv();
const { sandbox } = env;

async function view(accountId: string) {
  return viewOf(await getCustomers(env.ops, accountId), (await getStatus(env.ops, accountId)).unassigned);
}

const importDone = (accountId: string, timeoutMs = 180_000) =>
  importSettled(env.ops, accountId, timeoutMs, 'import done');

/**
 * Every invoice exactly once, values equal to a from-scratch recomputation, the view equal to the truth, and
 * the change feed gapless and folding into that same view, to the cent.
 */
async function checkInvariants(accountId: string, sb: Sandbox) {
  const [row] = await env.ops.db.sql<{ n: number; distinct: number }[]>`
    select count(*)::int as n, count(distinct source_id)::int as distinct from invoices where account_id = ${accountId}`;
  expect(row?.n).toBe(row?.distinct);
  const customers = await getCustomers(env.ops, accountId);
  const recomputed = await recomputedInvoiceValues(env.ops.db.sql, accountId);
  expect(Object.fromEntries(customers.map((c) => [c.email, c.values.invoices]))).toEqual(
    Object.fromEntries(recomputed),
  );
  expect(await view(accountId)).toEqual(truthOf(sb.store));
  const events = await allAccountEvents(env.ops.db.sql, accountId);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(canonicalCustomers(foldEvents(events))).toEqual(
    canonicalCustomers(await listCustomers(env.ops.db.sql, accountId)),
  );
}

const importPageFetches = (sb: Sandbox) => {
  const perOffset = new Map<string, number>();
  for (const e of sb.requests.entries()) {
    // Import pages only (limit 1000): the walk's final recount (limit 1) and incremental syncs are not pages.
    if (
      e.path.endsWith('/Invoice') &&
      e.query.countAll === 'true' &&
      e.query.limit === '1000' &&
      !e.query.updateAfter
    ) {
      perOffset.set(e.query.offset ?? '0', (perOffset.get(e.query.offset ?? '0') ?? 0) + 1);
    }
  }
  return perOffset;
};

describe('bulk import', () => {
  it(
    'imports 20,000 invoices: each exactly once, exact values, unassigned listed; one import at a time',
    { timeout: 300_000 },
    async () => {
      const sb = await sandbox(101, 20_000);
      const accountId = randomId('acct');
      await addSandboxInterface(env.ops, accountId, sb);
      const status = await importDone(accountId);
      const truth = truthOf(sb.store);
      expect(status.counts.unassigned).toBe(truth.unassigned.length);
      expect(truth.unassigned.length).toBeGreaterThan(0);
      expect(status.counts.invoices).toBe(
        Object.values(truth.customers).reduce((n, c) => n + c.list.length, 0) + truth.unassigned.length,
      );
      await checkInvariants(accountId, sb);

      // "Massenimport" again by hand: same data, nothing to write; a second start meanwhile returns the running one.
      const again = await startImport(env.ops, accountId, { dryRun: false });
      // A second click follows the running import instead of failing.
      expect(await startImport(env.ops, accountId, { dryRun: false })).toMatchObject({
        importId: again.importId,
        alreadyRunning: true,
      });
      const stats = await waitForImport(env.ops, again.workflowId, () => {});
      expect(stats.written).toBe(0);
      expect(stats.invoices).toBe(status.counts.invoices);
      await checkInvariants(accountId, sb);
      const [cursor] = await env.ops.db.sql<{ invoice_cursor: string }[]>`
      select invoice_cursor from interfaces where account_id = ${accountId}`;
      const newest = Math.max(
        ...[...sb.store.invoices()].map((i) => Math.floor(Date.parse(i.update) / 1000)),
      );
      expect(Number(cursor?.invoice_cursor)).toBe(newest);
    },
  );

  it(
    'survives a SIGKILL of the worker mid-import: completes, no duplicates, at most the window fetched again',
    { timeout: 300_000 },
    async () => {
      const cfg = testConfig();
      const sb = await sandbox(202, 20_000);
      sb.faults.add({ kind: 'slow', delayMs: 250, times: Infinity, path: '/Invoice' });
      const first = spawnWorkerProcess(cfg);
      const accountId = randomId('acct');
      const opsB = await connectApp(cfg);
      try {
        await addSandboxInterface(opsB, accountId, sb, {
          tuning: { importPagesPerRun: 4 },
        });
        await eventually(
          async () => {
            const [cp] = await env.ops.db.sql<{ done: number }[]>`
          select done from import_checkpoints where account_id = ${accountId} order by started_at limit 1`;
            return (cp?.done ?? 0) >= 6000;
          },
          120_000,
          '6,000 invoices imported',
        );
        first.child.kill('SIGKILL');
        expect(await first.exited).toBeNull();
        const killedAt = Date.now();
        const second = spawnWorkerProcess(cfg);
        try {
          await importDone(accountId);
          sb.faults.clear();
          expect(Date.now() - killedAt).toBeLessThan(120_000);
          const fetches = importPageFetches(sb);
          expect(fetches.size).toBe(21);
          // At most the pages in flight when the worker died (the window) are fetched again.
          const again = [...fetches.values()].filter((n) => n > 1);
          expect(again.length).toBeLessThanOrEqual(DEFAULT_IMPORT_WINDOW);
          expect(Math.max(...fetches.values())).toBeLessThanOrEqual(2);
          await checkInvariants(accountId, sb);
        } finally {
          second.child.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        await opsB.temporal.workflow
          .getHandle(accountSyncWorkflowId(accountId))
          .terminate()
          .catch(() => {});
        await opsB.close();
        first.child.kill('SIGKILL');
      }
    },
  );

  it('pauses while deactivated (no requests) and continues where it stopped when activated', async () => {
    const sb = await sandbox(303, 16_000);
    // Slow enough that the windowed import (4 pages in flight) is still running when it is deactivated.
    sb.faults.add({ kind: 'slow', delayMs: 1500, times: Infinity, path: '/Invoice' });
    const accountId = randomId('acct');
    await addSandboxInterface(env.ops, accountId, sb);
    await eventually(
      async () => ((await getStatus(env.ops, accountId)).import?.done ?? 0) >= 2000,
      60_000,
      'import under way',
    );
    await setInterfaceActive(env.ops, accountId, false);
    const paused = await getStatus(env.ops, accountId);
    expect(paused.import?.state).toBe('paused');
    const before = sb.requests.count();
    // Three witness cycles of 1 s: the paused import, paging every 300 ms before, would have asked again.
    await env.cyclesPass(3);
    expect(sb.requests.count()).toBe(before);
    await setInterfaceActive(env.ops, accountId, true);
    sb.faults.clear();
    await importDone(accountId);
    // Pages fetched ahead when the pause came are fetched again after it, no more than the window.
    const twice = [...importPageFetches(sb).values()].filter((n) => n > 1);
    expect(twice.length).toBeLessThanOrEqual(DEFAULT_IMPORT_WINDOW - 1);
    expect(Math.max(...importPageFetches(sb).values())).toBeLessThanOrEqual(2);
    await checkInvariants(accountId, sb);
  });

  it('loses nothing when the import and its parent both continue-as-new during the import', async () => {
    const sb = await sandbox(404, 6_000);
    sb.faults.add({ kind: 'slow', delayMs: 150, times: Infinity, path: '/Invoice' });
    const accountId = randomId('acct');
    await addSandboxInterface(env.ops, accountId, sb, {
      tuning: { maxCyclesPerRun: 1, importPagesPerRun: 1 },
    });
    const parent = env.ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
    const childId = await eventually(
      async () => (await parent.query(statusQuery)).import?.workflowId,
      30_000,
      'the import to start',
    );
    const child = env.ops.temporal.workflow.getHandle(childId);
    for (let i = 0; i < 5; i++) {
      // One message per run of the import (a page each): the next goes out once the import has moved on.
      const { runId } = await child.describe();
      await parent.signal(settingsChangedSignal, {});
      await eventually(
        async () => {
          const now = await child.describe();
          return now.runId !== runId || now.status.name !== 'RUNNING';
        },
        30_000,
        `the import's next run after message ${i}`,
      );
    }
    sb.faults.clear();
    await importDone(accountId);
    const runsOf = async (id: string) => {
      let n = 0;
      for await (const _ of env.ops.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
      return n;
    };
    expect(childId).toMatch(bulkImportWorkflowId(accountId, ''));
    await eventually(
      async () => (await runsOf(accountSyncWorkflowId(accountId))) > 2,
      10_000,
      'more than 2 runs of the parent',
    );
    expect(await runsOf(childId)).toBeGreaterThan(2);
    await checkInvariants(accountId, sb);
  });

  it('the reconcile walk takes invoices that vanished from sevDesk out of the totals', async () => {
    const sb = await sandbox(606, 1_500);
    const accountId = randomId('acct');
    await addSandboxInterface(env.ops, accountId, sb);
    await importDone(accountId);
    // An invoice sevsync once transferred but sevDesk no longer has (drafts vanish without a trace).
    const [victim] = await env.ops.db.sql<{ source_id: string; customer_id: number }[]>`
      select source_id, customer_id from invoices
      where account_id = ${accountId} and customer_id is not null and status = 'open' limit 1`;
    await env.ops.db
      .sql`update invoices set source_id = '999999999' where account_id = ${accountId} and source_id = ${victim!.source_id}`;
    const walk = await startImport(env.ops, accountId, { dryRun: false, kind: 'reconcile' });
    const stats = await waitForImport(env.ops, walk.workflowId, () => {});
    expect(stats.deleted).toBe(1);
    const [gone] = await env.ops.db.sql<{ removed_reason: string }[]>`
      select removed_reason from invoices where account_id = ${accountId} and source_id = '999999999'`;
    expect(gone?.removed_reason).toBe('deleted');
    await checkInvariants(accountId, sb);
  });

  it('--dry-run writes nothing and its numbers match the real import', async () => {
    const sb = await sandbox(505, 5_000);
    const accountId = randomId('acct');
    await addSandboxInterface(env.ops, accountId, sb, {
      inactive: true,
    });
    const rows = async () =>
      (
        await env.ops.db.sql<{ n: number }[]>`
          select (select count(*) from invoices where account_id = ${accountId})
            + (select count(*) from customers where account_id = ${accountId})
            + (select count(*) from source_contacts where account_id = ${accountId})
            + (select count(*) from invoice_issues where account_id = ${accountId})
            + (select count(*) from customer_values v join customers c on c.id = v.customer_id where c.account_id = ${accountId}) as n`
      )[0]?.n;
    const before = Number(await rows());
    const dry = await startImport(env.ops, accountId, { dryRun: true });
    const preview = await waitForImport(env.ops, dry.workflowId, () => {});
    expect(Number(await rows())).toBe(before);
    expect(before).toBe(0);
    expect(preview.invoices).toBeGreaterThan(1000);

    await setInterfaceActive(env.ops, accountId, true);
    await importDone(accountId);
    const parentView = await env.ops.temporal.workflow
      .getHandle(accountSyncWorkflowId(accountId))
      .query(statusQuery);
    expect(parentView.import).toMatchObject({ dryRun: false, state: 'done' });
    const real = await waitForImport(env.ops, parentView.import!.workflowId, () => {});
    const figures = (s: ImportStats) => ({
      invoices: s.invoices,
      assigned: s.assigned,
      unassigned: s.unassigned,
      invalid: s.invalid,
      unassignedReasons: s.unassignedReasons,
      openSum: s.openSum,
      paidSum: s.paidSum,
    });
    expect(figures(preview)).toEqual(figures(real));
    await checkInvariants(accountId, sb);
  });
});
