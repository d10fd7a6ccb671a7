import {
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImportProgress, ImportStats } from '../shared';
import { importTaskQueue } from '../shared';
import type { BulkImportInput } from './bulk-import-messages';
import {
  IMPORT_PATCHES,
  WALK_FATAL,
  importActiveSignal,
  importFinishedSignal,
  importProgressQuery,
} from './bulk-import-messages';
import { failureInfo } from './failure';

// Bounded retries: a page that keeps failing stops the walk in state `error` (resumable by `import start`)
// after a few minutes instead of holding the account's "import running" forever.
const walkActivities = (taskQueue: string) =>
  proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '10 minutes',
    // A page takes about a second: a worker that died mid-page is noticed within 10 s, not minutes.
    heartbeatTimeout: '10 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 9,
      nonRetryableErrorTypes: [...WALK_FATAL],
    },
  });

export * from './bulk-import-messages';

export async function bulkImportWorkflow(input: BulkImportInput): Promise<ImportStats | null> {
  const { accountId, importId, kind, dryRun } = input;
  // Windowed pages on the import task queue; histories from before replay one page a time on the main one.
  const windowed = patched(IMPORT_PATCHES.importWindow);
  const own = workflowInfo().taskQueue;
  const { beginImport, importPage, importPages, finishImport, failImport } = walkActivities(
    windowed ? importTaskQueue(own) : own,
  );
  const s = input.state ?? { offset: 0, done: 0, total: null, active: true, begun: false, pass: 1 };
  const ref = { accountId, importId, kind, dryRun };
  let inFlight = false;
  let error: string | null = null;
  const progress = (): ImportProgress => ({
    importId,
    workflowId: workflowInfo().workflowId,
    // "paused" only once no page is in flight: from then on no request reaches sevDesk.
    state: error ? 'error' : s.active || inFlight ? 'running' : 'paused',
    done: s.done,
    total: s.total,
    dryRun,
    kind,
    error,
  });
  setHandler(importActiveSignal, ({ active }) => {
    s.active = active;
  });
  setHandler(importProgressQuery, progress);
  const label = `${kind}${dryRun ? ' (dry run)' : ''}`;
  const show = () =>
    setCurrentDetails(
      `**${label} ${s.active ? 'running' : 'paused'}**\n\n- ${s.done} of ${s.total ?? '?'} invoices` +
        `${(s.pass ?? 1) > 1 ? `\n- pass ${s.pass} (the previous pass saw fewer invoices than sevDesk counts)` : ''}`,
    );
  const notifyParent = async (state: 'done' | 'error', stats: ImportStats | null) => {
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
        { summary: `load contacts for ${label} ${importId}` },
        [ref],
      );
      Object.assign(s, { offset: begun.nextOffset, done: begun.done, total: begun.total, pass: begun.pass });
      s.begun = true;
    }
    for (let pages = 0; ;) {
      show();
      await condition(() => s.active || dryRun);
      inFlight = true;
      const perRun = input.pagesPerRun ?? 50;
      const at = { ...ref, offset: s.offset, pass: s.pass ?? 1, maxPages: Math.max(1, perRun - pages) };
      const res = await (windowed ? importPages : importPage)
        .executeWithOptions({ summary: `invoices from offset ${s.offset}` }, [at])
        .finally(() => {
          inFlight = false;
        });
      if (res.paused) {
        // Deactivated in the database before the signal reached us: wait for it (or look again later).
        await condition(() => !s.active, '10 seconds');
        continue;
      }
      Object.assign(s, {
        offset: res.nextOffset,
        done: res.done,
        total: res.total ?? s.total,
        pass: res.pass,
      });
      pages += 'pages' in res && typeof res.pages === 'number' ? Math.max(1, res.pages) : 1;
      if (res.finished) break;
      if (pages >= perRun || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof bulkImportWorkflow>({ ...input, state: s });
      }
    }
    const stats = await finishImport.executeWithOptions({ summary: `finish ${label} ${importId}` }, [ref]);
    setCurrentDetails(
      `**${label} done**\n\n- ${stats.invoices} invoices, ${stats.unassigned} unassigned, ${stats.invalid} invalid` +
        (stats.discrepancy ? `\n- ${stats.discrepancy}` : '') +
        (stats.sweep?.skipped ? `\n- sweep: ${stats.sweep.skipped}` : ''),
    );
    await notifyParent('done', stats);
    return stats;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    // Stopped, not failed: the checkpoint stays, the account syncs on, and `import start` resumes from here.
    error = failureInfo(err).message;
    await failImport
      .executeWithOptions({ summary: `record why ${label} ${importId} stopped` }, [
        { ...ref, message: error },
      ])
      .catch((e: unknown) => log.warn('could not record the stop', { error: String(e) }));
    setCurrentDetails(`**${label} stopped**\n\n- at ${s.done} of ${s.total ?? '?'} invoices\n- ${error}`);
    await notifyParent('error', null);
    return null;
  }
}
