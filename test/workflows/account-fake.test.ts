// The account workflow's own logic with fake activities on the dev server (seconds, not minutes): what it does
// with a rejected token, a sync-now owed across continue-as-new, the reconcile cadence, and a stopped import.
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../src/activities';
import type { ImportStats } from '../../src/shared';
import { ErrorTypes, accountSyncWorkflowId, emptyCounts, importTaskQueue } from '../../src/shared';
import type { AccountSyncInput } from '../../src/workflows';
import {
  accountSyncWorkflow,
  settingsChangedSignal,
  startImportUpdate,
  statusQuery,
  syncNowUpdate,
} from '../../src/workflows';
import { eventually, randomId, temporalClient, testConfig } from '../helpers/env';
import { statusWhen } from '../helpers/accounts';

const config = testConfig();
let temporal: { client: Client; close(): Promise<void> };
let connection: NativeConnection;
let worker: Worker;
let walks: Worker;
let running: Promise<unknown>;

/** What the fakes were asked, per account; each test scripts its own behaviour. */
const calls = new Map<string, string[]>();
const behaviour = new Map<string, { sync?: () => void; page?: (n: number) => void }>();
const record = (accountId: string, what: string) => {
  calls.set(accountId, [...(calls.get(accountId) ?? []), what]);
  return calls.get(accountId)!.filter((c) => c === what).length;
};
const stats = (): ImportStats => ({
  invoices: 3,
  assigned: 3,
  unassigned: 0,
  invalid: 0,
  unassignedReasons: {},
  openSum: '0.00',
  paidSum: '0.00',
  written: 3,
  deleted: 0,
});

const fakes: Partial<Activities> = {
  async syncAccount({ accountId, recheckOpen }) {
    record(accountId, recheckOpen ? 'sync+open' : 'sync');
    behaviour.get(accountId)?.sync?.();
    return { skipped: null, counts: { ...emptyCounts(), pages: 1 }, invoiceCursor: 1 };
  },
  async syncAccountQuick(input) {
    return fakes.syncAccount!(input);
  },
  async beginImport(ref) {
    record(ref.accountId, `begin:${ref.kind}`);
    return { nextOffset: 0, done: 0, total: 3, pass: 1 };
  },
  async importPage(ref) {
    const n = record(ref.accountId, `page:${ref.kind}`);
    behaviour.get(ref.accountId)?.page?.(n);
    return { nextOffset: 3, done: 3, total: 3, finished: true, paused: false, pass: 1 };
  },
  async importPages(ref) {
    return { ...(await fakes.importPage!(ref)), pages: 1 };
  },
  async finishImport(ref) {
    record(ref.accountId, `finish:${ref.kind}`);
    return stats();
  },
  async failImport(ref) {
    record(ref.accountId, `fail:${ref.kind}`);
  },
};

beforeAll(async () => {
  temporal = await temporalClient(config);
  connection = await NativeConnection.connect({ address: config.temporalAddress });
  worker = await Worker.create({
    connection,
    taskQueue: config.taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: fakes,
  });
  // The walks' activities have a task queue of their own (src/worker/create.ts runs both).
  walks = await Worker.create({
    connection,
    taskQueue: importTaskQueue(config.taskQueue),
    activities: fakes,
  });
  running = Promise.all([worker.run(), walks.run()]);
});

afterAll(async () => {
  worker.shutdown();
  walks.shutdown();
  await running;
  await connection.close();
  await temporal.close();
});

async function start(tuning: Partial<AccountSyncInput> = {}) {
  const accountId = randomId('fake');
  const h = await temporal.client.workflow.start(accountSyncWorkflow, {
    workflowId: accountSyncWorkflowId(accountId),
    taskQueue: config.taskQueue,
    args: [{ accountId, intervalSeconds: 3600, ...tuning }],
  });
  return { accountId, h };
}

describe('account workflow, fake activities', () => {
  it('a rejected token blocks every further call until the settings change', async () => {
    const { accountId, h } = await start({ tokenRecheckSeconds: [3600] });
    behaviour.set(accountId, {
      sync: () => {
        throw ApplicationFailure.create({
          type: ErrorTypes.invalidToken,
          message: 'rejected',
          nonRetryable: true,
        });
      },
    });
    await eventually(async () => (await h.query(statusQuery)).state === 'error', 20_000, 'blocked');
    // A sync-now is refused while blocked, and costs no call.
    await expect(h.executeUpdate(syncNowUpdate, { args: [{}] })).rejects.toThrow();
    expect(calls.get(accountId)?.filter((c) => c === 'sync')).toHaveLength(1);
    behaviour.delete(accountId);
    await h.signal(settingsChangedSignal, {});
    await eventually(async () => (await h.query(statusQuery)).state === 'idle', 20_000, 'unblocked');
    expect(calls.get(accountId)?.filter((c) => c === 'sync')).toHaveLength(2);
    await h.terminate('test done');
  });

  it('a sync-now is served even though the workflow continues as new after every cycle', async () => {
    const { accountId, h } = await start({ maxCyclesPerRun: 1 });
    await eventually(async () => (await h.query(statusQuery)).import?.state === 'done', 20_000, 'import');
    for (let i = 0; i < 3; i += 1) {
      const counts = await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
      expect(counts.pages).toBe(1);
    }
    expect((await h.describe()).runId).not.toBe(h.firstExecutionRunId);
    expect(calls.get(accountId)?.filter((c) => c === 'sync').length).toBeGreaterThanOrEqual(3);
    await h.terminate('test done');
  });

  it('the reconcile walk and the open-invoice re-check run on their cadence', async () => {
    const { accountId, h } = await start({ reconcileIntervalSeconds: 1, openRecheckSeconds: 1 });
    await eventually(
      async () => {
        await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
        const c = calls.get(accountId) ?? [];
        return c.includes('finish:reconcile') && c.includes('sync+open');
      },
      30_000,
      'a reconcile and an open-invoice re-check',
    );
    await h.terminate('test done');
  });

  it('an import that stops goes to error, syncs go on, and a new start resumes the same import', async () => {
    const { accountId, h } = await start();
    behaviour.set(accountId, {
      page: (n) => {
        if (n === 1)
          throw ApplicationFailure.create({
            type: 'SevdeskWalkIncomplete',
            message: 'short',
            nonRetryable: true,
          });
      },
    });
    const stopped = await statusWhen(h, (s) => s.import?.state === 'error', 20_000, 'the import to stop');
    expect(stopped.import?.error).toContain('short');
    expect(calls.get(accountId)).toContain('fail:import');
    await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
    const resumed = await h.executeUpdate(startImportUpdate, { args: [{ kind: 'import' }] });
    expect(resumed.importId).toBe(stopped.import?.importId);
    await eventually(
      async () => (await h.query(statusQuery)).import?.state === 'done',
      20_000,
      'resumed import',
    );
    await h.terminate('test done');
  });
});
