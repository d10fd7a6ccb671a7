// The patched SDK (patches/@temporalio+worker+*.patch; docs/architecture.md, "The main flows"): workflow stack traces,
// the Temporal UI's "Stack Trace" query, cost a promise hook on every promise a workflow creates, so the worker
// runs without them unless SEVSYNC_WORKFLOW_STACK_TRACES=on (read when the worker's workflow thread starts).
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../src/activities';
import { accountSyncWorkflowId, emptyCounts } from '../../src/shared';
import { accountSyncWorkflow, initialState, statusQuery } from '../../src/workflows';
import { eventually, randomId, temporalClient, testConfig } from '../helpers/env';

const config = testConfig();
let temporal: { client: Client; close(): Promise<void> };
let connection: NativeConnection;

const fakes: Partial<Activities> = {
  async syncAccountQuick() {
    return { skipped: null, counts: { ...emptyCounts(), pages: 1 }, invoiceCursor: 1 };
  },
};

beforeAll(async () => {
  temporal = await temporalClient(config);
  connection = await NativeConnection.connect({ address: config.temporalAddress });
});

afterAll(async () => {
  await connection.close();
  await temporal.close();
});

/** A worker of its own (a workflow thread of its own) with the env as given; the workflow's stack trace. */
async function stackTrace(setting: string | undefined): Promise<string> {
  const before = process.env['SEVSYNC_WORKFLOW_STACK_TRACES'];
  if (setting === undefined) delete process.env['SEVSYNC_WORKFLOW_STACK_TRACES'];
  else process.env['SEVSYNC_WORKFLOW_STACK_TRACES'] = setting;
  const taskQueue = randomId('tq-stack');
  try {
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: fakes,
    });
    return await worker.runUntil(async () => {
      const accountId = randomId('stack');
      const h = await temporal.client.workflow.start(accountSyncWorkflow, {
        workflowId: accountSyncWorkflowId(accountId),
        taskQueue,
        // Imported already: the first cycle is the quick sync, then the workflow waits on its timer.
        args: [
          {
            accountId,
            intervalSeconds: 3600,
            state: { ...initialState(3600, true), initialImportStarted: true },
          },
        ],
      });
      try {
        await eventually(async () => (await h.query(statusQuery)).nextSyncAt !== null, 20_000, 'waiting');
        return await h.query<string>('__stack_trace');
      } catch (err) {
        return `query failed: ${(err as Error).message}`;
      } finally {
        await h.terminate('test done');
      }
    });
  } finally {
    if (before === undefined) delete process.env['SEVSYNC_WORKFLOW_STACK_TRACES'];
    else process.env['SEVSYNC_WORKFLOW_STACK_TRACES'] = before;
  }
}

describe('workflow stack traces (patched SDK)', () => {
  it('are off by default: the query says so instead of answering', async () => {
    expect(await stackTrace(undefined)).toMatch(/query failed: .*stack traces are not enabled/i);
  });

  it('SEVSYNC_WORKFLOW_STACK_TRACES=on turns them back on', async () => {
    expect(await stackTrace('on')).toMatch(/account-sync\.ts/);
  });
});
