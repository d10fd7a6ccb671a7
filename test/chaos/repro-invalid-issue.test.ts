import { describe, expect, it } from 'vitest';
import { processInvoicePage } from '../../src/activities/pages';
import { statusFacts } from '../../src/db/views';
import { sandboxAccount, useSandboxDb } from '../helpers/sandbox-db';

// Found by the fault campaign (seed 1): an invoice page arrives once with one object corrupted (a transient
// "malformed" fault), the sync records an "invalid payload" issue, and the next read of the same object is
// fine. For a shown invoice (RE) the issue is resolved; for a Storno (SR) or a recurring template (WKR) it
// stays open for ever and `status` keeps listing it, because the resolution only looks at the page's
// shown invoices.

const env = useSandboxDb({ seed: 606, data: { invoices: 400 } }, (sb) => {
  // A Storno exists once something is cancelled.
  const open = [...env.sb.store.invoices()].find((i) => i.invoiceType === 'RE' && i.status === '200');
  sb.store.cancelInvoice(open!.id);
});
const { db } = env;

describe('an invalid-payload issue is resolved once the object reads fine again', () => {
  it.each(['RE', 'SR', 'WKR'])('%s', async (invoiceType) => {
    const { accountId, client, ctx } = await sandboxAccount(db.sql, env.sb);
    // A one-object page, so that the corrupted middle object is the one of this type.
    const read = () => client.listInvoices({ invoiceType, limit: 1 });

    env.sb.faults.add({ kind: 'malformed', field: 'status', path: '/Invoice' });
    const broken = await read();
    expect(broken.invalid).toHaveLength(1);
    await processInvoicePage(ctx, broken);
    expect((await statusFacts(db.sql, accountId)).invalid).toHaveLength(1);

    const fine = await read();
    expect(fine.invalid).toHaveLength(0);
    await processInvoicePage(ctx, fine);
    expect((await statusFacts(db.sql, accountId)).invalid).toEqual([]);
  });
});
