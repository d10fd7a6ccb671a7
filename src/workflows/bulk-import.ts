import {
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImportStats } from '../activities/bulk-import';
import type { ImportProgress } from '../shared';
import { ErrorTypes } from '../shared';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [ErrorTypes.invalidToken, ErrorTypes.interfaceMissing],
};
const { beginImport, finishImport } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry,
});
// A page takes about a second: a worker that died mid-page is noticed within seconds, not minutes.
const { importPage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry,
});

export const importActiveSignal = defineSignal<[{ active: boolean }]>('importActive');
export const importProgressQuery = defineQuery<ImportProgress>('importProgress');
/** Sent by the import to its parent (by workflow id, so it reaches whichever run of the parent is current). */
export const importFinishedSignal =
  defineSignal<
    [{ importId: string; state: 'done' | 'failed'; stats: ImportStats | null; error: string | null }]
  >('importFinished');

export interface BulkImportInput {
  accountId: string;
  importId: string;
  parentWorkflowId: string;
  kind: 'import' | 'reconcile';
  dryRun: boolean;
  /** Continue-as-new after this many pages (keeps each run's history short). */
  pagesPerRun?: number;
  state?: { offset: number; done: number; total: number | null; active: boolean; begun: boolean };
}

export async function bulkImportWorkflow(input: BulkImportInput): Promise<ImportStats> {
  const { accountId, importId, kind, dryRun } = input;
  const s = input.state ?? { offset: 0, done: 0, total: null, active: true, begun: false };
  const ref = { accountId, importId, kind, dryRun };
  const progress = (state: ImportProgress['state']): ImportProgress => ({
    importId,
    workflowId: workflowInfo().workflowId,
    state,
    done: s.done,
    total: s.total,
    dryRun,
  });
  setHandler(importActiveSignal, ({ active }) => {
    s.active = active;
  });
  let inFlight = false;
  // "paused" only once no page is in flight: from then on no request reaches sevDesk.
  setHandler(importProgressQuery, () => progress(s.active || inFlight ? 'running' : 'paused'));
  const show = () =>
    setCurrentDetails(
      `**${kind}${dryRun ? ' (dry run)' : ''} ${s.active ? 'running' : 'paused'}**: ${s.done} of ${s.total ?? '?'} invoices`,
    );

  const notifyParent = async (state: 'done' | 'failed', stats: ImportStats | null, error: string | null) => {
    try {
      await getExternalWorkflowHandle(input.parentWorkflowId).signal(importFinishedSignal, {
        importId,
        state,
        stats,
        error,
      });
    } catch (err) {
      log.warn('parent not reachable', { error: String(err) });
    }
  };

  try {
    if (!s.begun) {
      const begun = await beginImport.executeWithOptions(
        { summary: `load contacts for ${kind} ${importId}` },
        [ref],
      );
      Object.assign(s, { offset: begun.nextOffset, done: begun.done, total: begun.total, begun: true });
    }
    let pages = 0;
    for (;;) {
      show();
      await condition(() => s.active || dryRun);
      inFlight = true;
      const res = await importPage
        .executeWithOptions({ summary: `invoices from offset ${s.offset}` }, [{ ...ref, offset: s.offset }])
        .finally(() => {
          inFlight = false;
        });
      if (res.paused) {
        // Deactivated in the database before the signal reached us: wait for it (or look again later).
        await condition(() => !s.active, '10 seconds');
        continue;
      }
      s.offset = res.nextOffset;
      s.done = res.done;
      s.total = res.total ?? s.total;
      pages += 1;
      if (res.finished) break;
      if (pages >= (input.pagesPerRun ?? 50) || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof bulkImportWorkflow>({ ...input, state: s });
      }
    }
    const stats = await finishImport.executeWithOptions({ summary: `finish ${kind} ${importId}` }, [ref]);
    s.total = s.total ?? s.done;
    setCurrentDetails(
      `**${kind}${dryRun ? ' (dry run)' : ''} done**: ${stats.invoices} invoices, ${stats.unassigned} unassigned`,
    );
    await notifyParent('done', stats, null);
    return stats;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    await notifyParent('failed', null, (err as Error).message);
    throw err;
  }
}
