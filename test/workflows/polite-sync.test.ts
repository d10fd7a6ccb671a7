// A polite steady state (issue 9 item 8): an account where nothing changed costs at most 2 sevDesk requests a
// cycle, also when many contacts share one `update` minute (a CSV import), counted in the sandbox's request log.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount, insertInterface } from '../../src/db/interfaces';
import type { Sandbox } from '../../src/sandbox';
import { startSandbox } from '../../src/sandbox';
import { encryptToken, keyringOf } from '../../src/secrets';
import { accountSyncWorkflowId } from '../../src/shared';
import { accountSyncWorkflow, statusQuery, syncNowUpdate } from '../../src/workflows';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, temporalClient, testConfig, testDb } from '../helpers/env';

const config = testConfig();
const db = testDb();
let worker: RunningWorker;
let temporal: { client: Client; close(): Promise<void> };
let sb: Sandbox;

beforeAll(async () => {
  // A 10-minute overlap: everything changed in the last minutes is listed again on every cycle.
  worker = await startWorker(config, { overlapSeconds: 600 });
  temporal = await temporalClient(config);
  sb = await startSandbox({ seed: 5502, data: { contacts: 30, invoices: 200 } });
});

afterAll(async () => {
  await worker.stop();
  await temporal.close();
  await sb.close();
  await db.close();
});

describe('an unchanged account', () => {
  it('costs at most 2 sevDesk requests a cycle, even when its contacts share one update minute', async () => {
    const accountId = randomId('acct');
    await ensureAccount(db.sql, accountId);
    const t = encryptToken(
      keyringOf(config.secretKey),
      { accountId, provider: 'sevdesk', baseUrl: sb.url },
      sb.token,
    );
    await insertInterface(db.sql, {
      accountId,
      baseUrl: sb.url,
      ciphertext: t.ciphertext,
      keyId: t.keyId,
      settings: { intervalSeconds: 3600, amountBasis: 'gross' },
      active: true,
    });
    const h = await temporal.client.workflow.start(accountSyncWorkflow, {
      workflowId: accountSyncWorkflowId(accountId),
      taskQueue: config.taskQueue,
      args: [{ accountId, intervalSeconds: 3600 }],
    });
    await eventually(
      async () => {
        const s = await h.query(statusQuery);
        return s.import?.state === 'done' && s.state === 'idle' ? s : undefined;
      },
      60_000,
      'the first import',
    );
    // A CSV import in sevDesk: many contacts get one `update` stamp at once.
    const contacts = [...sb.store.contacts()].slice(0, 12);
    for (const c of contacts) sb.store.updateContact(c.id, { description: 'CSV-Import' });
    await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });

    const perCycle: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      sb.requests.reset();
      await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
      perCycle.push(sb.requests.count());
    }
    expect(perCycle.every((n) => n <= 2)).toBe(true);
    // And the contacts still listed by the overlap were not fetched again.
    expect(sb.requests.entries().filter((e) => /\/Contact\/\d+$/.test(e.path))).toHaveLength(0);
    await h.terminate('test done');
  });
});
