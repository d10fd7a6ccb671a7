import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { accountSyncWorkflow, statusQuery } from '../../src/workflows';
import { eventually, randomId, startWorker, temporalClient, testConfig, testDb } from '../helpers/env';

describe('worker', () => {
  it('connects to the real dev server with the project bundle and runs the account workflow', async () => {
    const config = testConfig();
    const worker = await startWorker(config);
    const { client, close } = await temporalClient(config);
    const db = testDb();
    try {
      const accountId = randomId('acct');
      // No interface row: the first cycle fails with a typed, non-retryable error, visible in status.
      const handle = await client.workflow.start(accountSyncWorkflow, {
        workflowId: `sevdesk-sync:${accountId}`,
        taskQueue: config.taskQueue,
        args: [{ accountId, intervalSeconds: 60 }],
      });
      const status = await eventually(
        async () => {
          const s = await handle.query(statusQuery);
          return s.error ? s : undefined;
        },
        10_000,
        'the first cycle to report its error',
      );
      expect(status.error?.type).toBe('InterfaceNotFoundError');
      expect(status.state).toBe('idle');
      await handle.terminate('test done');
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    } finally {
      await close();
      await worker.stop();
      await db.close();
    }
  });
});
