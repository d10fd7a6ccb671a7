import type { ActivityFailure } from '@temporalio/workflow';
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccountStatus, ErrorInfo, ImportProgress, InterfaceState, SyncCounts } from '../shared';
import { ErrorTypes, bulkImportWorkflowId, emptyCounts } from '../shared';
import { bulkImportWorkflow, importActiveSignal, importFinishedSignal } from './bulk-import';

const { syncAccount } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Activities heartbeat every 3 s: a worker that died mid-sync is noticed within seconds.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [ErrorTypes.invalidToken, ErrorTypes.interfaceMissing],
  },
});

export const setActiveSignal = defineSignal<[{ active: boolean }]>('setActive');
/** `reason` is free text for the history, e.g. "cli". */
export const syncNowSignal = defineSignal<[{ reason?: string }]>('syncNow');
export const settingsChangedSignal = defineSignal<[{ intervalSeconds?: number }]>('settingsChanged');
export const syncNowUpdate = defineUpdate<SyncCounts, [{ reason?: string }]>('syncNowAndWait');
export const startImportUpdate = defineUpdate<
  ImportProgress,
  [{ dryRun?: boolean; kind?: 'import' | 'reconcile' }]
>('startImport');
export const statusQuery = defineQuery<AccountStatus>('status');

/** Plain JSON carried across continue-as-new. */
export interface AccountSyncState {
  active: boolean;
  intervalSeconds: number;
  /** Set by an invalid token: no sevDesk call until the settings change. */
  blocked: ErrorInfo | null;
  lastError: ErrorInfo | null;
  lastSyncAt: string | null;
  lastCounts: SyncCounts | null;
  cycles: number;
  requestSeq: number;
  servedSeq: number;
  settingsSeq: number;
  import: ImportProgress | null;
  lastReconcileAt: string | null;
  /** The first load of an account is a bulk import (resumable, with progress), not one long sync. */
  initialImportStarted: boolean;
}

export interface AccountSyncInput {
  accountId: string;
  intervalSeconds: number;
  /** Continue-as-new after this many loop iterations even if the server does not suggest it (tests use tiny values). */
  maxCyclesPerRun?: number;
  /** How often the reconcile walk (deleted drafts) runs; default daily. */
  reconcileIntervalSeconds?: number;
  /** Passed to imports: continue-as-new after this many pages. */
  importPagesPerRun?: number;
  /** False when the interface was added deactivated (e.g. to preview an import first). */
  startActive?: boolean;
  state?: AccountSyncState;
}

export async function accountSyncWorkflow(input: AccountSyncInput): Promise<void> {
  const { accountId } = input;
  const s: AccountSyncState = input.state ?? {
    active: input.startActive ?? true,
    intervalSeconds: input.intervalSeconds,
    blocked: null,
    lastError: null,
    lastSyncAt: null,
    lastCounts: null,
    cycles: 0,
    requestSeq: 0,
    servedSeq: 0,
    settingsSeq: 0,
    import: null,
    lastReconcileAt: null,
    initialImportStarted: false,
  };
  s.lastReconcileAt ??= new Date(Date.now()).toISOString();
  let syncing = false;
  let nextSyncAt: string | null = null;
  const importRunning = () =>
    s.import !== null && (s.import.state === 'running' || s.import.state === 'paused');
  const realImportRunning = () => importRunning() && s.import?.dryRun === false;
  const canSync = () => s.active && s.blocked === null && !realImportRunning();
  const state = (): InterfaceState =>
    !s.active ? 'paused' : s.blocked ? 'error' : syncing || realImportRunning() ? 'syncing' : 'idle';

  setHandler(setActiveSignal, async ({ active }) => {
    s.active = active;
    if (s.import && realImportRunning()) {
      s.import.state = active ? 'running' : 'paused';
      await getExternalWorkflowHandle(s.import.workflowId).signal(importActiveSignal, { active });
    }
  });
  setHandler(syncNowSignal, () => {
    s.requestSeq += 1;
  });
  setHandler(settingsChangedSignal, ({ intervalSeconds }) => {
    if (intervalSeconds) s.intervalSeconds = intervalSeconds;
    s.blocked = null;
    s.settingsSeq += 1;
  });
  setHandler(
    syncNowUpdate,
    async (_req) => {
      const mine = ++s.requestSeq;
      await condition(() => s.servedSeq >= mine || !s.active || s.blocked !== null);
      if (s.servedSeq < mine) {
        throw ApplicationFailure.create({
          type: ErrorTypes.interfaceInactive,
          message: s.blocked
            ? `the interface is in error: ${s.blocked.message}`
            : 'the interface was deactivated before the sync ran',
        });
      }
      return s.lastCounts ?? emptyCounts();
    },
    {
      validator: (_req) => {
        if (!s.active) throw new Error('the interface is deactivated: activate it first');
        if (s.blocked) throw new Error(`the interface is in error: ${s.blocked.message}`);
      },
    },
  );
  setHandler(startImportUpdate, async ({ dryRun, kind }) => startWalk(kind ?? 'import', dryRun ?? false), {
    validator: ({ dryRun }) => {
      // A dry run writes nothing, so it may preview an interface that is not active yet.
      if (!s.active && !dryRun) throw new Error('the interface is deactivated: activate it first');
      if (s.blocked) throw new Error(`the interface is in error: ${s.blocked.message}`);
      if (s.import && importRunning()) {
        throw new Error(
          `an import is already running for account ${accountId} (${s.import.importId}, ` +
            `${s.import.done} of ${s.import.total ?? '?'}): wait for it to finish`,
        );
      }
    },
  });
  setHandler(importFinishedSignal, ({ importId, state: done, stats }) => {
    if (s.import?.importId !== importId) return;
    s.import.state = done;
    if (stats) s.import.done = s.import.total = stats.invoices;
    // What happened while a real import ran is caught up at once.
    if (!s.import.dryRun) s.requestSeq += 1;
  });
  setHandler(statusQuery, () => ({
    accountId,
    active: s.active,
    state: state(),
    error: s.blocked ?? s.lastError,
    lastSyncAt: s.lastSyncAt,
    nextSyncAt: canSync() ? nextSyncAt : null,
    cycles: s.cycles,
    lastCounts: s.lastCounts,
    import: s.import,
  }));

  async function startWalk(kind: 'import' | 'reconcile', dryRun: boolean): Promise<ImportProgress> {
    const importId = `${kind === 'reconcile' ? 'rec' : 'imp'}-${uuid4().slice(0, 8)}`;
    const workflowId = bulkImportWorkflowId(accountId, importId);
    s.import = { importId, workflowId, state: 'running', done: 0, total: null, dryRun };
    await startChild(bulkImportWorkflow, {
      workflowId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `${kind === 'reconcile' ? 'Reconcile' : 'Bulk import'}${dryRun ? ' (dry run)' : ''} of account ${accountId}`,
      args: [
        {
          accountId,
          importId,
          kind,
          dryRun,
          parentWorkflowId: workflowInfo().workflowId,
          ...(input.importPagesPerRun ? { pagesPerRun: input.importPagesPerRun } : {}),
        },
      ],
    });
    return s.import;
  }

  const showDetails = () =>
    setCurrentDetails(
      [
        `**${state()}**${s.blocked ? `: ${s.blocked.message}` : ''}`,
        `last sync: ${s.lastSyncAt ?? 'never'}; next: ${canSync() ? (nextSyncAt ?? 'now') : '-'}`,
        s.lastCounts
          ? `last cycle: ${s.lastCounts.fetched} fetched, ${s.lastCounts.written} written, ` +
            `${s.lastCounts.unassigned} unassigned, ${s.lastCounts.invalid} invalid`
          : '',
        s.import ? `${s.import.importId}: ${s.import.state}` : '',
        s.lastError ? `last error: ${s.lastError.type}: ${s.lastError.message}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );

  let iterations = 0;
  for (;;) {
    iterations += 1;
    if (canSync() && !s.initialImportStarted && !importRunning()) {
      s.initialImportStarted = true;
      await startWalk('import', false);
    }
    if (canSync()) {
      const serving = s.requestSeq;
      syncing = true;
      showDetails();
      await runCycle();
      syncing = false;
      s.servedSeq = serving;
      if (s.requestSeq > s.servedSeq && canSync()) continue;
      const reconcileMs = (input.reconcileIntervalSeconds ?? 86_400) * 1000;
      if (canSync() && Date.now() - Date.parse(s.lastReconcileAt) >= reconcileMs) {
        s.lastReconcileAt = new Date(Date.now()).toISOString();
        await startWalk('reconcile', false);
      }
    }
    // A sync still owed to a sync-now caller runs first: its handler could not finish before continue-as-new.
    const owed = s.requestSeq > s.servedSeq && (canSync() || realImportRunning());
    const due = iterations >= (input.maxCyclesPerRun ?? 500) || workflowInfo().continueAsNewSuggested;
    if (due && !owed) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof accountSyncWorkflow>({ ...input, state: s });
    }
    const seen = { settings: s.settingsSeq, active: s.active, importing: realImportRunning() };
    const waitMs = s.intervalSeconds * 1000;
    nextSyncAt = new Date(Date.now() + waitMs).toISOString();
    showDetails();
    const wake = () =>
      (s.requestSeq > s.servedSeq && canSync()) ||
      s.settingsSeq !== seen.settings ||
      s.active !== seen.active ||
      realImportRunning() !== seen.importing ||
      workflowInfo().continueAsNewSuggested;
    if (canSync())
      await condition(wake, waitMs, { summary: `wait ${s.intervalSeconds} s for the next sync` });
    else await condition(wake);
  }

  async function runCycle(): Promise<void> {
    try {
      const res = await syncAccount.executeWithOptions({ summary: `sync sevDesk invoices of ${accountId}` }, [
        { accountId },
      ]);
      if (res.skipped) return;
      s.cycles += 1;
      s.lastCounts = res.counts;
      s.lastSyncAt = new Date(Date.now()).toISOString();
      s.lastError = null;
    } catch (err) {
      const cause = (err as ActivityFailure).cause;
      const type = cause instanceof ApplicationFailure ? cause.type : undefined;
      const info: ErrorInfo = { type: type ?? 'Error', message: cause?.message ?? String(err) };
      if (type === ErrorTypes.invalidToken) s.blocked = info;
      else s.lastError = info;
      log.warn('sync cycle failed', { accountId, type: info.type });
    }
  }
}
