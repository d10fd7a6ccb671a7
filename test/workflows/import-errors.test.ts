// Imports never block the account (docs/architecture.md, "The main flows": Bulk import): an import that
// cannot go on stops in state `error`, the incremental sync keeps the account current meanwhile, and starting
// the import again resumes it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/shared/search-attributes';
import { startImportUpdate, statusQuery, syncNowUpdate } from '../../src/workflows';
import { statusWhen, useWorkflowEnv } from '../helpers/accounts';
import { eventually } from '../helpers/env';

const env = useWorkflowEnv();
const { db } = env;
let sb: Sandbox;

beforeAll(async () => {
  sb = await env.sandbox({ seed: 5501, data: { invoices: 2600 } });
});

const liveCount = async (accountId: string) =>
  (
    await db.sql<{ n: number }[]>`
      select count(*)::int as n from invoices where account_id = ${accountId} and removed_at is null`
  )[0]?.n ?? 0;

describe('an import that cannot go on', () => {
  it('stops in error, the account syncs on, and import start resumes it to the end', async () => {
    // From the second invoice list on, every page is cut in half: the walk can never reach sevDesk's count.
    sb.faults.add({ kind: 'short-page', path: /^\/Invoice$/, skip: 1, times: Infinity });
    const { accountId, h } = await env.startAccount(sb, {}, { waitForImport: false });

    const stopped = await statusWhen(
      h,
      (s) => s.import?.state === 'error',
      90_000,
      'the import to stop in error',
    );
    expect(stopped.import?.error).toMatch(/saw \d+ of the \d+ invoices sevDesk counts/);
    const partial = await liveCount(accountId);
    expect(partial).toBeLessThan(2600);

    // The glitch is over; meanwhile a new invoice arrives. The incremental sync runs although the import stopped.
    sb.faults.clear();
    const contact = [...sb.store.contacts()][0];
    if (!contact) throw new Error('no contact');
    const fresh = sb.store.addInvoice({ contactId: contact.id, sumNet: '12.34', taxRate: 19 });
    await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from invoices where account_id = ${accountId} and source_id = ${fresh.id}`;
    expect(row?.n).toBe(1);

    // "Massenimport starten" again: the same import resumes from its checkpoint and finishes.
    const resumed = await h.executeUpdate(startImportUpdate, { args: [{ kind: 'import' }] });
    expect(resumed.importId).toBe(stopped.import?.importId);
    await eventually(
      async () => ((await h.query(statusQuery)).import?.state === 'done' ? true : undefined),
      90_000,
      'the resumed import to finish',
    );
    const shown = [...sb.store.invoices()].filter(
      (i) => ['200', '750', '1000'].includes(i.status) && !['WKR', 'MA'].includes(i.invoiceType),
    );
    const [missing] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from unnest(${shown.filter((i) => i.invoiceType !== 'SR' || i.origin).map((i) => i.id)}::text[]) as x(id)
      where not exists (select 1 from invoices where account_id = ${accountId} and source_id = x.id)`;
    expect(missing?.n).toBe(0);

    // Operators find the account by its search attributes.
    const desc = await h.describe();
    expect(desc.searchAttributes[SEARCH_ATTRIBUTE_NAMES.account]).toEqual([accountId]);
    await h.terminate('test done');
  });
});
