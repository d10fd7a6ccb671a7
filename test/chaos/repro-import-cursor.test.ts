import { afterAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app';
import { connectApp, startImport, syncNow, waitForImport } from '../../src/app';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { accountSyncWorkflowId } from '../../src/shared';
import type { RunningWorker } from '../helpers/env';
import { addSandboxInterface, importSettled } from '../helpers/app-env';
import { eventually, randomId, startWorker, testConfig } from '../helpers/env';

// Found while designing the fault campaign's "invoices paid while paging" faults. An import moves the
// incremental cursor to the newest `update` it read (finishImport). A change to an invoice the walk has
// already passed is not read by the walk; it is left to the next incremental sync, which re-reads only
// from `cursor - overlap`. When the walk reads something written more than the overlap (5 min) after that
// change (a long import of a big account, people working in sevDesk meanwhile), the change is skipped
// for good: the paid invoice stays open in OneCockpit. The sevDesk clock is simulated here, so the
// "hour-long import" takes seconds.

describe('an invoice paid while an import walks past it', () => {
  let sb: Sandbox | undefined;
  let ops: AppDeps | undefined;
  let worker: RunningWorker | undefined;
  let accountId = '';

  afterAll(async () => {
    await ops?.temporal.workflow
      .getHandle(accountSyncWorkflowId(accountId))
      .terminate()
      .catch(() => {});
    await worker?.stop();
    await sb?.close();
    await ops?.close();
  });

  it('is paid in OneCockpit after the import and a sync-now', { timeout: 180_000 }, async () => {
    const cfg = testConfig();
    let sevdeskNow = Date.now();
    sb = await startSandbox({ seed: 808, data: { invoices: 3000 }, now: () => new Date(sevdeskNow) });
    worker = await startWorker(cfg);
    ops = await connectApp(cfg);
    accountId = randomId('acct');
    await addSandboxInterface(ops, accountId, sb);
    await importSettled(ops, accountId, 120_000, 'initial import done');

    // A second import, paging slowly like a big account's.
    sb.faults.add({ kind: 'slow', delayMs: 1500, times: Infinity, path: '/Invoice' });
    const imp = await startImport(ops, accountId, { dryRun: false });
    await eventually(
      async () => {
        const [cp] = await ops!.db.sql<{ next_offset: number }[]>`
          select next_offset from import_checkpoints where account_id = ${accountId} and import_id = ${imp.importId}`;
        return (cp?.next_offset ?? 0) >= 1000;
      },
      60_000,
      'the walk past its first page',
    );
    // Behind the walk: an early invoice gets paid. An hour later in sevDesk, a new invoice is written,
    // which the walk reads at its end.
    const early = [...sb.store.invoices()].find((i) => i.invoiceType === 'RE' && i.status === '200')!;
    sb.store.payInvoice(early.id);
    sevdeskNow += 3_600_000;
    sb.store.addInvoice({ contactId: early.contact.id });
    sb.faults.clear();
    await waitForImport(ops, imp.workflowId, () => {});
    await syncNow(ops, accountId, true);

    const [row] = await ops.db.sql<{ status: string }[]>`
      select status from invoices where account_id = ${accountId} and source_id = ${early.id}`;
    expect(row?.status).toBe('paid');
  });
});
