import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportStats } from '../../src/activities/bulk-import';
import type { AppDeps } from '../../src/app';
import {
  addInterface,
  connectApp,
  getCustomers,
  getStatus,
  setInterfaceActive,
  startImport,
  waitForImport,
} from '../../src/app';
import { recomputedInvoiceValues } from '../helpers/oracle';
import type { Sandbox } from '../../src/sandbox';
import { startSandbox } from '../../src/sandbox';
import { accountSyncWorkflowId } from '../../src/shared';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, testConfig } from '../helpers/env';
import { truthOf, viewOf } from '../helpers/truth';
import { spawnWorkerProcess } from '../helpers/worker-process';

const config = testConfig();
let worker: RunningWorker;
let ops: AppDeps;
const sandboxes: Sandbox[] = [];

async function sandbox(seed: number, invoices: number): Promise<Sandbox> {
  const sb = await startSandbox({ seed, data: { invoices } });
  sandboxes.push(sb);
  return sb;
}

async function view(accountId: string) {
  return viewOf(await getCustomers(ops, accountId), (await getStatus(ops, accountId)).unassigned);
}

async function importDone(accountId: string, timeoutMs = 180_000) {
  return eventually(
    async () => {
      const s = await getStatus(ops, accountId);
      return s.import?.state === 'done' && s.state === 'idle' ? s : undefined;
    },
    timeoutMs,
    'import done',
  );
}

/** Every invoice exactly once, values equal to a from-scratch recomputation, the view equal to the truth. */
async function checkInvariants(accountId: string, sb: Sandbox) {
  const [row] = await ops.db.sql<{ n: number; distinct: number }[]>`
    select count(*)::int as n, count(distinct source_id)::int as distinct from invoices where account_id = ${accountId}`;
  expect(row?.n).toBe(row?.distinct);
  const customers = await getCustomers(ops, accountId);
  const recomputed = await recomputedInvoiceValues(ops.db.sql, accountId);
  expect(Object.fromEntries(customers.map((c) => [c.email, c.values.invoices]))).toEqual(
    Object.fromEntries(recomputed),
  );
  expect(await view(accountId)).toEqual(truthOf(sb.store));
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

beforeAll(async () => {
  worker = await startWorker(config);
  ops = await connectApp(config);
});

afterAll(async () => {
  await ops.close();
  await worker.stop();
  await Promise.all(sandboxes.map((s) => s.close()));
});

describe('bulk import', () => {
  it(
    'imports 20,000 invoices: each exactly once, exact values, unassigned listed; one import at a time',
    { timeout: 300_000 },
    async () => {
      const sb = await sandbox(101, 20_000);
      const accountId = randomId('acct');
      await addInterface(ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
      const status = await importDone(accountId);
      const truth = truthOf(sb.store);
      expect(status.counts.unassigned).toBe(truth.unassigned.length);
      expect(truth.unassigned.length).toBeGreaterThan(0);
      expect(status.counts.invoices).toBe(
        Object.values(truth.customers).reduce((n, c) => n + c.list.length, 0) + truth.unassigned.length,
      );
      await checkInvariants(accountId, sb);

      // "Massenimport" again by hand: same data, nothing to write; a second start meanwhile returns the running one.
      const again = await startImport(ops, accountId, { dryRun: false });
      // A second click follows the running import instead of failing (issue 9 item 4).
      expect(await startImport(ops, accountId, { dryRun: false })).toMatchObject({
        importId: again.importId,
        alreadyRunning: true,
      });
      const stats = await waitForImport(ops, again.workflowId, () => {});
      expect(stats.written).toBe(0);
      expect(stats.invoices).toBe(status.counts.invoices);
      await checkInvariants(accountId, sb);
      const [cursor] = await ops.db.sql<{ invoice_cursor: string }[]>`
      select invoice_cursor from interfaces where account_id = ${accountId}`;
      const newest = Math.max(
        ...[...sb.store.invoices()].map((i) => Math.floor(Date.parse(i.update) / 1000)),
      );
      expect(Number(cursor?.invoice_cursor)).toBe(newest);
    },
  );

  it(
    'survives a SIGKILL of the worker mid-import: completes, no duplicates, at most one page fetched again',
    { timeout: 300_000 },
    async () => {
      const cfg = testConfig();
      const sb = await sandbox(202, 20_000);
      sb.faults.add({ kind: 'slow', delayMs: 250, times: Infinity, path: '/Invoice' });
      const first = spawnWorkerProcess(cfg);
      const accountId = randomId('acct');
      const opsB = await connectApp(cfg);
      try {
        await addInterface(opsB, {
          accountId,
          token: sb.token,
          baseUrl: sb.url,
          intervalSeconds: 3600,
          tuning: { importPagesPerRun: 4 },
        });
        await eventually(
          async () => {
            const [cp] = await ops.db.sql<{ done: number }[]>`
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
          const again = [...fetches.values()].filter((n) => n > 1);
          expect(again.length).toBeLessThanOrEqual(1);
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
    const sb = await sandbox(303, 8_000);
    sb.faults.add({ kind: 'slow', delayMs: 300, times: Infinity, path: '/Invoice' });
    const accountId = randomId('acct');
    await addInterface(ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
    await eventually(
      async () => ((await getStatus(ops, accountId)).import?.done ?? 0) >= 2000,
      60_000,
      'import under way',
    );
    await setInterfaceActive(ops, accountId, false);
    const paused = await getStatus(ops, accountId);
    expect(paused.import?.state).toBe('paused');
    const before = sb.requests.count();
    await new Promise((r) => setTimeout(r, 3000));
    expect(sb.requests.count()).toBe(before);
    await setInterfaceActive(ops, accountId, true);
    sb.faults.clear();
    await importDone(accountId);
    expect([...importPageFetches(sb).values()].every((n) => n === 1)).toBe(true);
    await checkInvariants(accountId, sb);
  });

  it('loses nothing when the import and its parent both continue-as-new during the import', async () => {
    const sb = await sandbox(404, 6_000);
    sb.faults.add({ kind: 'slow', delayMs: 150, times: Infinity, path: '/Invoice' });
    const accountId = randomId('acct');
    await addInterface(ops, {
      accountId,
      token: sb.token,
      baseUrl: sb.url,
      intervalSeconds: 3600,
      tuning: { maxCyclesPerRun: 1, importPagesPerRun: 1 },
    });
    const parent = ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
    let childId: string | undefined;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await parent.signal('settingsChanged', {});
      childId ??= (await getStatus(ops, accountId)).import
        ? (await parent.query<{ import: { workflowId: string } | null }>('status')).import?.workflowId
        : undefined;
    }
    sb.faults.clear();
    await importDone(accountId);
    const runsOf = async (id: string) => {
      let n = 0;
      for await (const _ of ops.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
      return n;
    };
    expect(childId).toBeDefined();
    expect(
      await eventually(
        async () => ((await runsOf(accountSyncWorkflowId(accountId))) > 2 ? true : undefined),
        10_000,
        'parent runs',
      ),
    ).toBe(true);
    expect(await runsOf(childId!)).toBeGreaterThan(2);
    await checkInvariants(accountId, sb);
  });

  it('the reconcile walk takes invoices that vanished from sevDesk out of the totals', async () => {
    const sb = await sandbox(606, 1_500);
    const accountId = randomId('acct');
    await addInterface(ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
    await importDone(accountId);
    // An invoice sevsync once transferred but sevDesk no longer has (drafts vanish without a trace).
    const [victim] = await ops.db.sql<{ source_id: string; customer_id: number }[]>`
      select source_id, customer_id from invoices
      where account_id = ${accountId} and customer_id is not null and status = 'open' limit 1`;
    await ops.db
      .sql`update invoices set source_id = '999999999' where account_id = ${accountId} and source_id = ${victim!.source_id}`;
    const walk = await startImport(ops, accountId, { dryRun: false, kind: 'reconcile' });
    const stats = await waitForImport(ops, walk.workflowId, () => {});
    expect(stats.deleted).toBe(1);
    const [gone] = await ops.db.sql<{ removed_reason: string }[]>`
      select removed_reason from invoices where account_id = ${accountId} and source_id = '999999999'`;
    expect(gone?.removed_reason).toBe('deleted');
    await checkInvariants(accountId, sb);
  });

  it('--dry-run writes nothing and its numbers match the real import', async () => {
    const sb = await sandbox(505, 5_000);
    const accountId = randomId('acct');
    await addInterface(ops, {
      accountId,
      token: sb.token,
      baseUrl: sb.url,
      intervalSeconds: 3600,
      inactive: true,
    });
    const rows = async () =>
      (
        await ops.db.sql<{ n: number }[]>`
          select (select count(*) from invoices where account_id = ${accountId})
            + (select count(*) from customers where account_id = ${accountId})
            + (select count(*) from source_contacts where account_id = ${accountId})
            + (select count(*) from invoice_issues where account_id = ${accountId})
            + (select count(*) from customer_values v join customers c on c.id = v.customer_id where c.account_id = ${accountId}) as n`
      )[0]?.n;
    const before = Number(await rows());
    const dry = await startImport(ops, accountId, { dryRun: true });
    const preview = await waitForImport(ops, dry.workflowId, () => {});
    expect(Number(await rows())).toBe(before);
    expect(before).toBe(0);
    expect(preview.invoices).toBeGreaterThan(1000);

    await setInterfaceActive(ops, accountId, true);
    const status = await importDone(accountId);
    const real = await waitForImport(
      ops,
      status.import
        ? (
            await ops.temporal.workflow
              .getHandle(accountSyncWorkflowId(accountId))
              .query<{ import: { workflowId: string } }>('status')
          ).import.workflowId
        : '',
      () => {},
    );
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
