// What `updateAfter` cannot see, on slow cadences (docs/sevdesk.md, "Unknowns": "Change stamps" and "Gateway
// answers"): a payment booked without an `update` bump shows after the open-invoice re-check, and a rejected
// token is tried again by itself on a schedule, so a token that works again unblocks the account without
// anyone's click.
import { describe, expect, it } from 'vitest';
import { statusQuery, syncNowSignal, syncNowUpdate } from '../../src/workflows';
import { useWorkflowEnv } from '../helpers/accounts';
import { eventually } from '../helpers/env';

const env = useWorkflowEnv();
const { db, startAccount } = env;

describe('slow cadences', () => {
  it('a payment without an update stamp shows after the open-invoice re-check', async () => {
    const sb = await env.sandbox({ seed: 5601, data: { invoices: 150 } });
    const { accountId, h } = await startAccount(sb, { openRecheckSeconds: 2 });
    const open = [...sb.store.invoices()].find((i) => i.status === '200' && i.invoiceType === 'RE');
    if (!open) throw new Error('no open invoice');
    sb.store.payInvoice(open.id, undefined, { stamp: false });
    const status = async () =>
      (
        await db.sql<{ status: string }[]>`
          select status from invoices where account_id = ${accountId} and source_id = ${open.id}`
      )[0]?.status;
    // A plain incremental cycle cannot see it: nothing changed after the cursor.
    expect(await status()).toBe('open');
    await eventually(
      async () => {
        await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
        return (await status()) === 'paid';
      },
      30_000,
      'the payment to show',
    );
    await h.terminate('test done');
  });

  it('a rejected token is tried again on its schedule and the account unblocks when it works again', async () => {
    const sb = await env.sandbox({ seed: 5602, data: { invoices: 50 } });
    const token = sb.token;
    const { h } = await startAccount(sb, { tokenRecheckSeconds: [2, 4] });
    sb.setToken('f'.repeat(32));
    await h.signal(syncNowSignal, { reason: 'test' });
    await eventually(async () => (await h.query(statusQuery)).state === 'error', 30_000, 'blocked');
    // sevDesk takes the token again (a proxy's 401 passed, or sevDesk lifted a block).
    sb.setToken(token);
    const back = await eventually(
      async () => {
        const s = await h.query(statusQuery);
        return s.state === 'idle' && s.error === null ? s : undefined;
      },
      30_000,
      'the account to unblock by itself',
    );
    expect(back.active).toBe(true);
    await h.terminate('test done');
  });

  it("a proxy's HTML 401 or 403 is retried, never taken for a rejected token", async () => {
    const sb = await env.sandbox({ seed: 5603, data: { invoices: 50 } });
    const { h } = await startAccount(sb, {});
    sb.faults.add({ kind: 'gateway-401', times: 1 });
    sb.faults.add({ kind: 'gateway-403', times: 1 });
    // The sync-now is served (an update that fails would throw here: a blocked account refuses it).
    await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
    const s = await h.query(statusQuery);
    expect(s.state).not.toBe('error');
    expect(sb.faults.pending()).toEqual([]);
    await h.terminate('test done');
  });
});
