// The wire forms real sevDesk accounts were recorded sending, end to end (real worker, Temporal, PostgreSQL and
// the sandbox serving those forms over its own records): each invoice ends up as sevDesk means it. And the
// coach's way to fix an unassigned invoice (add the e-mail at the contact in sevDesk, then "sync now") shows
// the re-link at once, even when sevDesk leaves the contact's `update` as it was.
import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { getCustomers, getStatus, syncNow } from '../../src/app';
import type { Sandbox } from '../../sandbox';
import type { Truth } from '../helpers/truth';
import { truthOf, viewOf } from '../helpers/truth';
import { addSandboxInterface, importSettled, useAppEnv } from '../helpers/app-env';
import { randomId } from '../helpers/env';

const env = useAppEnv();

const SHOWN = (i: { invoiceType: string; status: string }) =>
  ['RE', 'AR', 'TR', 'ER'].includes(i.invoiceType) && ['200', '750', '1000'].includes(i.status);

const hasEmail = (sb: Sandbox, contactId: string) =>
  sb.store.communicationWays(contactId).some((w) => w.type === 'EMAIL' && (w.value ?? '').trim() !== '');

async function view(accountId: string) {
  const status = await getStatus(env.ops, accountId);
  return viewOf(await getCustomers(env.ops, accountId), status.unassigned);
}

/** An hourly interface on the sandbox, its import done: from then on only a requested sync reads sevDesk. */
async function imported(sb: Sandbox): Promise<string> {
  const accountId = randomId('acct-wire');
  await addSandboxInterface(env.ops, accountId, sb);
  await importSettled(env.ops, accountId);
  return accountId;
}

/** The truth with one invoice moved from its customer to the unassigned list (its contact reference is null). */
function withoutContact(truth: Truth, sb: Sandbox, invoiceId: string): Truth {
  const inv = sb.store.getInvoice(invoiceId)!;
  const entry = `${inv.invoiceNumber}:${inv.status === '1000' ? 'paid' : 'open'}:`;
  const customers = Object.fromEntries(
    Object.entries(truth.customers).flatMap(([email, c]) => {
      const list = c.list.filter((l) => !l.startsWith(entry));
      if (list.length === c.list.length) return [[email, c]];
      const invoices = new Decimal(c.invoices).minus(inv.sumGross).toFixed(2);
      return list.length === 0 ? [] : [[email, { invoices, list }]];
    }),
  );
  return { customers, unassigned: [...truth.unassigned, invoiceId].sort() };
}

describe('wire forms seen from real sevDesk accounts, end to end', () => {
  it('origin null, contact null then set, paidAmount as a string, sendType "", sums as JSON numbers: all count', async () => {
    const sb = await env.sandbox(2317, 160);
    const shown = [...sb.store.invoices()].filter((i) => SHOWN(i) && hasEmail(sb, i.contact.id));
    const open = shown.filter((i) => i.status === '200');
    const paid = shown.find((i) => Number(i.paidAmount) > 0)!;
    const [noOrigin, asNumbers, noContact] = open;
    expect(paid && noOrigin && asNumbers && noContact).toBeTruthy();
    // The same meaning in the other forms sevDesk sends: the expected view is the sandbox's own truth.
    const truth = truthOf(sb.store);
    sb.store.setPoison('Invoice', noOrigin!.id, { origin: null, sendType: '' });
    sb.store.setPoison('Invoice', paid.id, { paidAmount: String(paid.paidAmount), sendType: '' });
    sb.store.setPoison('Invoice', asNumbers!.id, {
      sumGross: Number(asNumbers!.sumGross),
      sumNet: Number(asNumbers!.sumNet),
      origin: null,
    });
    // No recipient yet: unassigned (reported, never dropped) until sevDesk sends the contact.
    sb.store.setPoison('Invoice', noContact!.id, { contact: null });

    const accountId = await imported(sb);
    expect(await view(accountId)).toEqual(withoutContact(truth, sb, noContact!.id));
    const status = await getStatus(env.ops, accountId);
    expect(status.invalid).toEqual([]);
    expect(status.unassigned.find((u) => u.sourceId === noContact!.id)?.reason).toMatch(/no contact/);

    // The contact is set (the poison goes) and the invoice is paid: its `update` moves, the sync reads it.
    sb.store.setPoison('Invoice', noContact!.id, null);
    sb.store.payInvoice(noContact!.id);
    await syncNow(env.ops, accountId, true);
    expect(await view(accountId)).toEqual(truthOf(sb.store));
    expect((await getStatus(env.ops, accountId)).invalid).toEqual([]);
  });

  it("an e-mail added to an unassigned invoice's contact, without a new `update`, re-links on the next sync-now", async () => {
    const sb = await env.sandbox(2318, 200);
    const lacking = [...sb.store.invoices()].find((i) => SHOWN(i) && hasEmail(sb, i.contact.id))!;
    sb.store.setContactEmail(lacking.contact.id, null);
    const accountId = await imported(sb);
    const before = await getStatus(env.ops, accountId);
    expect(before.unassigned.map((u) => u.sourceId)).toContain(lacking.id);

    const email = `neu-${randomId('mail')}@example.de`.toLowerCase();
    sb.store.setContactEmail(lacking.contact.id, email, { stamp: false });
    // The coach takes longer than the requested re-read's minimum age (10 s) to type the e-mail in sevDesk.
    await env.ops.db.sql`update source_contacts set fetched_at = fetched_at - interval '1 minute'
      where account_id = ${accountId}`;
    await syncNow(env.ops, accountId, true);

    const after = await getStatus(env.ops, accountId);
    expect(after.unassigned.map((u) => u.sourceId)).not.toContain(lacking.id);
    const customer = (await getCustomers(env.ops, accountId)).find((c) => c.email === email);
    expect(customer?.invoices.map((i) => i.number)).toContain(lacking.invoiceNumber);
    expect(await view(accountId)).toEqual(truthOf(sb.store));
  });
});
