import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { accountSyncWorkflow, statusQuery } from '../../src/workflows';
import { randomId, startWorker, temporalClient, testConfig, testDb } from '../helpers/env';

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
      let status = await handle.query(statusQuery);
      for (let i = 0; i < 100 && status.error === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await handle.query(statusQuery);
      }
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
