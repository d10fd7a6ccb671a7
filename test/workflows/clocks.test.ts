// Time stamps (docs/sevdesk.md, "Unknowns": "Time stamps, DST, clock skew"): sevDesk stamps Berlin wall time
// with its offset, and its clock need not agree with the worker's. The cursor comes from the data and the
// overlap covers the rest: a sandbox clock 10 minutes off either way, and changes across the repeated hour of
// the October DST change, lose nothing.
import { describe, expect, it } from 'vitest';
import { syncNowUpdate } from '../../src/workflows';
import { useWorkflowEnv } from '../helpers/accounts';

const env = useWorkflowEnv();
const { db, startAccount } = env;

const stored = async (accountId: string, id: string) =>
  (
    await db.sql<{ n: number }[]>`
      select count(*)::int as n from invoices where account_id = ${accountId} and source_id = ${id}`
  )[0]?.n ?? 0;

describe('clocks', () => {
  it.each([-10, 10])('a sevDesk clock %i minutes off the worker loses no change', async (minutes) => {
    const sb = await env.sandbox({
      seed: 5700 + minutes,
      data: { invoices: 80 },
      now: () => new Date(Date.now() + minutes * 60_000),
    });
    const { accountId, h } = await startAccount(sb);
    const contact = [...sb.store.contacts()][0]!;
    for (let round = 0; round < 3; round += 1) {
      const inv = sb.store.addInvoice({ contactId: contact.id, sumNet: `${round + 1}.00` });
      await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
      expect(await stored(accountId, inv.id)).toBe(1);
    }
    await h.terminate('test done');
  });

  it('changes across the repeated hour of the DST change (02:00-03:00 twice) are all seen', async () => {
    // 2026-10-25: 02:50 CEST (+02:00) is 00:50Z; an hour of real time later, 02:10 CET (+01:00) is 01:10Z.
    let now = Date.parse('2026-10-25T00:40:00Z');
    const sb = await env.sandbox({ seed: 5710, data: { invoices: 60 }, now: () => new Date(now) });
    const { accountId, h } = await startAccount(sb);
    const contact = [...sb.store.contacts()][0]!;
    const seen: string[] = [];
    for (const at of [
      '2026-10-25T00:50:00Z',
      '2026-10-25T01:05:00Z',
      '2026-10-25T01:10:00Z',
      '2026-10-25T02:20:00Z',
    ]) {
      now = Date.parse(at);
      const inv = sb.store.addInvoice({ contactId: contact.id, sumNet: '5.00' });
      seen.push(inv.update);
      await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
      expect(await stored(accountId, inv.id)).toBe(1);
    }
    // The wall times went backwards once (02:50+02:00, then 02:05+01:00): the stamps carry their offsets.
    expect(seen[1]).toMatch(/\+01:00$/);
    expect(seen[0]).toMatch(/\+02:00$/);
    await h.terminate('test done');
  });
});
