// A polite steady state (issue 9 item 8): an account where nothing changed costs at most 2 sevDesk requests a
// cycle, also when many contacts share one `update` minute (a CSV import), counted in the sandbox's request log.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox';
import { startSandbox } from '../../src/sandbox';
import { syncNowUpdate } from '../../src/workflows';
import { startSandboxAccount } from '../helpers/accounts';
import type { RunningWorker } from '../helpers/env';
import { startWorker, temporalClient, testConfig, testDb } from '../helpers/env';

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
    const { h } = await startSandboxAccount({ sql: db.sql, config, client: temporal.client }, sb);
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
