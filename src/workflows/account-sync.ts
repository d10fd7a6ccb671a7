// The account workflow, one per account: a sync cycle, then a wait for the interval or a message, over and over;
// the walks (bulk import, reconcile) run as child workflows; continue-as-new now and then. Laid out as Temporal's
// safe-message-handlers sample: the messages, their handlers and the loop here, the state in the class Account
// below. What a run hands to the next one, and the patch ids, are in account-messages.ts.
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
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccountStatus, ImportProgress, InterfaceState, SyncCounts } from '../shared';
import { ErrorTypes, bulkImportWorkflowId, emptyCounts } from '../shared';
import { accountSearchKey, stateSearchKey } from '../shared/search-attributes';
import type { AccountSyncState } from './account-messages';
import { PATCHES, initialState } from './account-messages';
import { bulkImportWorkflow, importActiveSignal, importFinishedSignal } from './bulk-import';
import { failureInfo } from './failure';

export * from './account-messages';

export const setActiveSignal = defineSignal<[{ active: boolean }]>('setActive');
/** `reason` is free text for the history, e.g. "cli". */
export const syncNowSignal = defineSignal<[{ reason?: string }]>('syncNow');
export const settingsChangedSignal = defineSignal<[{ intervalSeconds?: number }]>('settingsChanged');
/** Sync now and answer with the counts of the cycle that served the request. */
export const syncNowUpdate = defineUpdate<SyncCounts, [{ reason?: string }]>('syncNowAndWait');
export const startImportUpdate = defineUpdate<
  ImportProgress,
  [{ dryRun?: boolean; kind?: 'import' | 'reconcile' }]
>('startImport');
export const statusQuery = defineQuery<AccountStatus>('status');

export interface AccountSyncInput {
  accountId: string;
  intervalSeconds: number;
  /** Continue-as-new after this many loop iterations even if the server does not suggest it (tests use tiny values). */
  maxCyclesPerRun?: number;
  /** How often the reconcile walk (deleted invoices) runs; default daily. */
  reconcileIntervalSeconds?: number;
  /** Passed to imports: continue-as-new after this many pages. */
  importPagesPerRun?: number;
  /** False when the interface was added deactivated (e.g. to preview an import first). */
  startActive?: boolean;
  /** How often open and partly paid invoices are re-read in full; default hourly. */
  openRecheckSeconds?: number;
  /** Waits before a rejected token is tried again; default 1 h, 6 h, then daily (tests use seconds). */
  tokenRecheckSeconds?: readonly number[];
  state?: AccountSyncState;
}

/** Cycles per run (then continue-as-new): 50 cycles are about 350 history events with quick syncs. */
export const SHORT_RUN_CYCLES = 50;

/** Re-checks of a token sevDesk rejected: a proxy's 401 or a token blocked for a while may heal. */
export const TOKEN_RECHECK_SECONDS = [3600, 6 * 3600, 24 * 3600] as const;

/** One per account: sync, then wait for the interval or a message; continue-as-new now and then. */
export async function accountSyncWorkflow(input: AccountSyncInput): Promise<void> {
  const state = input.state ?? initialState(input.intervalSeconds, input.startActive ?? true);
  state.lastReconcileAt ??= new Date(Date.now()).toISOString();
  const account = new Account(input.accountId, state, input);

  // The handlers change the state, or start a walk; the loop below does the rest.
  setHandler(setActiveSignal, async ({ active }) => {
    state.active = active;
    const walk = state.import;
    if (!walk || !account.realImportRunning()) return;
    walk.state = active ? 'running' : 'paused';
    try {
      await getExternalWorkflowHandle(walk.workflowId).signal(importActiveSignal, { active });
    } catch (err) {
      // The child may have finished a moment ago: its own end signal settles the state.
      log.warn('import not reachable', { error: String(err) });
    }
  });
  setHandler(syncNowSignal, () => {
    state.requestSeq += 1;
  });
  setHandler(settingsChangedSignal, ({ intervalSeconds }) => {
    if (intervalSeconds) state.intervalSeconds = intervalSeconds;
    state.blocked = null;
    state.tokenRechecks = 0;
    state.settingsSeq += 1;
  });
  setHandler(
    syncNowUpdate,
    async (_request) => {
      const mine = ++state.requestSeq;
      await condition(() => state.servedSeq >= mine || !state.active || state.blocked !== null);
      if (state.servedSeq < mine) {
        throw ApplicationFailure.create({
          type: ErrorTypes.interfaceInactive,
          message: state.blocked
            ? `the interface is in error: ${state.blocked.message}`
            : 'the interface was deactivated before the sync ran',
        });
      }
      return state.lastCounts ?? emptyCounts();
    },
    {
      validator: (_request) => {
        if (!state.active) throw new Error('the interface is deactivated: activate it first');
        if (state.blocked) throw new Error(`the interface is in error: ${state.blocked.message}`);
      },
    },
  );
  setHandler(
    startImportUpdate,
    async ({ dryRun, kind }) => account.startWalk(kind ?? 'import', dryRun ?? false),
    {
      validator: ({ dryRun }) => {
        // A dry run writes nothing, so it may preview an interface that is not active yet.
        if (!state.active && !dryRun) throw new Error('the interface is deactivated: activate it first');
        if (state.blocked) throw new Error(`the interface is in error: ${state.blocked.message}`);
        if (state.import && account.importRunning()) {
          throw new Error(
            `an import is already running for account ${account.accountId} (${state.import.importId}, ` +
              `${state.import.done} of ${state.import.total ?? '?'}): wait for it to finish`,
          );
        }
      },
    },
  );
  setHandler(importFinishedSignal, ({ importId, state: walkState, stats, error }) => {
    if (state.import?.importId !== importId) return;
    state.import.state = walkState;
    state.import.error = error;
    if (stats) state.import.done = state.import.total = stats.invoices;
    // What happened while a real import ran is caught up at once.
    if (!state.import.dryRun) state.requestSeq += 1;
  });
  setHandler(statusQuery, () => account.status());

  // Short runs: an account evicted from the worker's cache replays only its current run (a few hundred events).
  const short = patched(PATCHES.shortRuns);
  const maxCycles = short ? SHORT_RUN_CYCLES : 500;
  // A continued run first waits out the rest of the interval: continue-as-new costs no extra sync.
  let rest = short && input.state !== undefined && state.lastSyncAt !== null;

  for (let iterations = 1; ; iterations += 1) {
    const resting = rest && !account.owed();
    rest = false;
    if (account.canSync() && !state.initialImportStarted && !account.importRunning()) {
      state.initialImportStarted = true;
      await account.startWalkOrRecord('import');
    }
    if (account.canSync() && !resting) {
      const serving = state.requestSeq;
      account.syncing = true;
      account.show();
      await account.syncCycle(input.openRecheckSeconds ?? 3600);
      account.syncing = false;
      state.servedSeq = serving;
      if (account.owed() && account.canSync()) continue;
      const reconcileMs = (input.reconcileIntervalSeconds ?? 86_400) * 1000;
      if (account.canSync() && Date.now() - Date.parse(state.lastReconcileAt) >= reconcileMs) {
        state.lastReconcileAt = new Date(Date.now()).toISOString();
        await account.startWalkOrRecord('reconcile');
      }
    }
    // A sync still owed to a sync-now caller runs first: its handler could not finish before continue-as-new.
    const owed = account.owed() && (account.canSync() || account.realImportRunning());
    const due = iterations >= (input.maxCyclesPerRun ?? maxCycles) || workflowInfo().continueAsNewSuggested;
    if (due && !owed && !resting) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof accountSyncWorkflow>({ ...input, state });
    }
    const seen = {
      settings: state.settingsSeq,
      active: state.active,
      importing: account.realImportRunning(),
    };
    const sinceSync = resting ? Date.now() - Date.parse(state.lastSyncAt ?? '') : 0;
    const waitMs = Math.max(0, state.intervalSeconds * 1000 - sinceSync);
    account.nextSyncAt = new Date(Date.now() + waitMs).toISOString();
    account.show();
    const wake = () =>
      (account.owed() && account.canSync()) ||
      state.settingsSeq !== seen.settings ||
      state.active !== seen.active ||
      account.realImportRunning() !== seen.importing ||
      workflowInfo().continueAsNewSuggested;
    if (account.canSync())
      await condition(wake, waitMs, { summary: `wait ${state.intervalSeconds} s for the next sync` });
    else if (state.blocked && state.active && !account.realImportRunning() && patched(PATCHES.tokenRecheck))
      await account.recheckTokenLater(wake, input.tokenRecheckSeconds ?? TOKEN_RECHECK_SECONDS);
    else await condition(wake);
  }
}

const FATAL = [ErrorTypes.invalidToken, ErrorTypes.interfaceMissing] as const;

const { syncAccount } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Activities heartbeat every 3 s: a worker that died mid-sync is noticed within 10 s (the SDK sends at most
  // one heartbeat per 8 s, 80 % of this timeout).
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [...FATAL],
  },
});

// One attempt: whatever goes wrong is handed to the regular activity, which has the retries and heartbeats.
const { syncAccountQuick } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

type SyncInput = Parameters<Activities['syncAccount']>[0];

/**
 * One incremental sync: a quick local activity first (an unchanged account then costs one workflow task and no
 * activity task through the server), the regular activity when it hands over.
 */
async function sync(input: SyncInput): ReturnType<Activities['syncAccount']> {
  // The open invoices' re-read walks whole lists: always the regular activity.
  if (!input.recheckOpen && patched(PATCHES.localSync)) {
    try {
      const res = await syncAccountQuick(input);
      if (res.skipped !== 'needs-activity') return res;
    } catch (err) {
      const { type } = failureInfo(err);
      if (type === ErrorTypes.invalidToken || type === ErrorTypes.otherCompany) throw err;
      log.info('quick sync handed over', { accountId: input.accountId, type });
    }
  }
  return syncAccount.executeWithOptions({ summary: `sync sevDesk invoices of ${input.accountId}` }, [input]);
}

/**
 * One account in the workflow: `state`, the plain JSON carried across continue-as-new, and what follows from
 * it. The handlers and the loop change it; `syncing` and `nextSyncAt` belong to the loop, for this run only.
 */
class Account {
  syncing = false;
  nextSyncAt: string | null = null;
  /** The interface state last written to the search attributes. */
  private shownState: InterfaceState | null = null;

  constructor(
    readonly accountId: string,
    readonly state: AccountSyncState,
    private readonly tuning: Pick<AccountSyncInput, 'importPagesPerRun'>,
  ) {}

  importRunning(): boolean {
    const walkState = this.state.import?.state;
    return walkState === 'running' || walkState === 'paused';
  }

  realImportRunning(): boolean {
    return this.importRunning() && this.state.import?.dryRun === false;
  }

  canSync(): boolean {
    return this.state.active && this.state.blocked === null && !this.realImportRunning();
  }

  interfaceState(): InterfaceState {
    if (!this.state.active) return 'paused';
    if (this.state.blocked) return 'error';
    return this.syncing || this.realImportRunning() ? 'syncing' : 'idle';
  }

  /** A sync was asked for (sync-now, the API, the page's button) that no cycle has served yet. */
  owed(): boolean {
    return this.state.requestSeq > this.state.servedSeq;
  }

  /** One cycle: its counts or its failure go into the state (an invalid token blocks the account). */
  async syncCycle(openRecheckSeconds: number): Promise<void> {
    const { state } = this;
    state.lastOpenRecheckAt ??= new Date(Date.now()).toISOString();
    const recheckOpen = Date.now() - Date.parse(state.lastOpenRecheckAt) >= openRecheckSeconds * 1000;
    // A cycle someone asked for re-reads the contacts of every unassigned invoice: an e-mail just added in
    // sevDesk shows at once, not within the hourly turn.
    const requested = this.owed();
    try {
      const res = await sync({
        accountId: this.accountId,
        ...(recheckOpen ? { recheckOpen } : {}),
        ...(requested ? { requested } : {}),
      });
      if (res.skipped) return;
      if (recheckOpen) state.lastOpenRecheckAt = new Date(Date.now()).toISOString();
      state.tokenRechecks = 0;
      state.cycles += 1;
      state.lastCounts = res.counts;
      state.lastSyncAt = new Date(Date.now()).toISOString();
      state.lastError = null;
    } catch (err) {
      const info = failureInfo(err);
      if (info.type === ErrorTypes.invalidToken || info.type === ErrorTypes.otherCompany)
        state.blocked = info;
      else state.lastError = info;
      log.warn('sync cycle failed', { accountId: this.accountId, type: info.type });
    }
  }

  /**
   * A blocked token is tried again after 1 h, 6 h, then daily: a proxy's 401 or a token sevDesk blocked for a
   * while heals without anyone noticing. A message (new settings, activation) wakes the loop at once.
   */
  async recheckTokenLater(wake: () => boolean, schedule: readonly number[]): Promise<void> {
    const n = this.state.tokenRechecks ?? 0;
    const seconds = schedule[Math.min(n, schedule.length - 1)] ?? 86_400;
    const woken = await condition(wake, seconds * 1000, {
      summary: `re-check the rejected token in ${seconds} s`,
    });
    if (woken || !this.state.blocked) return;
    this.state.tokenRechecks = n + 1;
    this.state.lastError = this.state.blocked;
    this.state.blocked = null;
  }

  /** A walk the loop starts itself: if the child cannot start, the account says so and syncs on. */
  async startWalkOrRecord(kind: 'import' | 'reconcile'): Promise<void> {
    try {
      await this.startWalk(kind, false);
    } catch (err) {
      this.state.lastError = {
        type: ErrorTypes.importStartFailed,
        message: `the ${kind} could not start: ${String(err)}`,
      };
      log.warn('walk did not start', { kind, error: String(err) });
    }
  }

  /**
   * Starts a walk as a child (ABANDON: the parent's continue-as-new must not kill it). A stopped import
   * (state `error`) resumes from its checkpoint under the same import id. A start that fails puts the previous
   * import back: no phantom "running" import stays.
   */
  async startWalk(kind: 'import' | 'reconcile', dryRun: boolean): Promise<ImportProgress> {
    const prev = this.state.import;
    const resume = prev?.state === 'error' && (prev.kind ?? 'import') === kind && prev.dryRun === dryRun;
    const importId =
      resume && prev ? prev.importId : `${kind === 'reconcile' ? 'rec' : 'imp'}-${uuid4().slice(0, 8)}`;
    const workflowId = bulkImportWorkflowId(this.accountId, importId);
    // Set before the start (the loop sees "import running" at once), put back if the start fails.
    const started: ImportProgress = {
      importId,
      workflowId,
      state: 'running',
      done: resume && prev ? prev.done : 0,
      total: resume && prev ? prev.total : null,
      dryRun,
      kind,
      error: null,
    };
    this.state.import = started;
    try {
      await startChild(bulkImportWorkflow, {
        workflowId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `${kind === 'reconcile' ? 'Reconcile' : 'Bulk import'}${dryRun ? ' (dry run)' : ''} of account ${this.accountId}`,
        args: [
          {
            accountId: this.accountId,
            importId,
            kind,
            dryRun,
            parentWorkflowId: workflowInfo().workflowId,
            ...(this.tuning.importPagesPerRun ? { pagesPerRun: this.tuning.importPagesPerRun } : {}),
          },
        ],
      });
    } catch (err) {
      if (this.state.import === started) this.state.import = prev;
      throw err;
    }
    return this.state.import;
  }

  /** Shows the state: the search attributes and the Temporal UI's "current details". */
  show(): void {
    this.publish();
    setCurrentDetails(this.details());
  }

  /** Keeps the search attributes current (one upsert per change, not per cycle): "every account in error". */
  private publish(): void {
    // A cycle's "syncing" is too brief to show: before the quiet-cycles patch it cost two upserts a cycle.
    const brief = this.syncing && !this.realImportRunning() && this.interfaceState() === 'syncing';
    const shown = brief && patched(PATCHES.quietCycles) ? 'idle' : this.interfaceState();
    if (shown === this.shownState) return;
    // Runs started before the attributes existed replay without them.
    if (!patched(PATCHES.searchAttributes)) return;
    this.shownState = shown;
    upsertSearchAttributes([
      { key: accountSearchKey, value: this.accountId },
      { key: stateSearchKey, value: shown },
    ]);
  }

  status(): AccountStatus {
    const { state } = this;
    return {
      accountId: this.accountId,
      active: state.active,
      state: this.interfaceState(),
      error: state.blocked ?? state.lastError,
      lastSyncAt: state.lastSyncAt,
      nextSyncAt: this.canSync() ? this.nextSyncAt : null,
      cycles: state.cycles,
      lastCounts: state.lastCounts,
      import: state.import,
    };
  }

  /** Markdown for the Temporal UI's "current details": one line each, as a list. */
  private details(): string {
    const { state } = this;
    const walk = state.import;
    return [
      `**${this.interfaceState()}**${state.blocked ? `: ${state.blocked.message}` : ''}`,
      '',
      `- last sync: ${state.lastSyncAt ?? 'never'}`,
      `- next sync: ${this.canSync() ? (this.nextSyncAt ?? 'now') : '-'} (every ${state.intervalSeconds} s)`,
      state.lastCounts
        ? `- last cycle: ${state.lastCounts.fetched} fetched, ${state.lastCounts.written} written, ` +
          `${state.lastCounts.unassigned} unassigned, ${state.lastCounts.invalid} invalid`
        : '',
      walk
        ? `- ${walk.kind ?? 'import'} ${walk.importId}${walk.dryRun ? ' (dry run)' : ''}: ${walk.state}, ` +
          `${walk.done} of ${walk.total ?? '?'}${walk.error ? ` (${walk.error})` : ''}`
        : '',
      state.lastError ? `- last error: ${state.lastError.type}: ${state.lastError.message}` : '',
    ]
      .filter((line, i) => line !== '' || i === 1)
      .join('\n');
  }
}
