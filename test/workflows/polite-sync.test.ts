// A polite steady state: an account where nothing changed costs at most 2 sevDesk requests a cycle, also when
// many contacts share one `update` minute (a CSV import), counted in the sandbox's request log.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { syncNowUpdate } from '../../src/workflows';
import { useWorkflowEnv } from '../helpers/accounts';

const env = useWorkflowEnv({ overlapSeconds: 600 });
let sb: Sandbox;

beforeAll(async () => {
  sb = await env.sandbox({ seed: 5502, data: { contacts: 30, invoices: 200 } });
});

describe('an unchanged account', () => {
  it('costs at most 2 sevDesk requests a cycle, even when its contacts share one update minute', async () => {
    const { h } = await env.startAccount(sb);
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
