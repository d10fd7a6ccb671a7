// The account workflow's state and message handlers (the shape of the safe-message-handlers sample): the
// loop in account-sync.ts reads this state; handlers only change it, or start a walk.
import {
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AccountStatus, ErrorInfo, ImportProgress, InterfaceState, SyncCounts } from '../shared';
import { ErrorTypes, bulkImportWorkflowId, emptyCounts } from '../shared';
import { accountSearchKey, stateSearchKey } from '../shared/search-attributes';
import { bulkImportWorkflow, importActiveSignal, importFinishedSignal } from './bulk-import';

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
  /** When open and partly paid invoices were last re-read (payments without an `update` bump). */
  lastOpenRecheckAt?: string | null;
  /** How often a blocked token has been re-checked since it was blocked (1 h, 6 h, then daily). */
  tokenRechecks?: number;
}

/** patched() ids: each guards a change that running workflows (and the saved histories) would not survive. */
export const PATCHES = {
  searchAttributes: 'sevsync-search-attributes',
  tokenRecheck: 'sevsync-token-recheck',
} as const;

/** Re-checks of a token sevDesk rejected: a proxy's 401 or a token blocked for a while may heal. */
export const TOKEN_RECHECK_SECONDS = [3600, 6 * 3600, 24 * 3600] as const;

export interface WalkTuning {
  importPagesPerRun?: number;
}

export const initialState = (intervalSeconds: number, active: boolean): AccountSyncState => ({
  active,
  intervalSeconds,
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
});

/** The account's state and what follows from it; `syncing` and `nextSyncAt` belong to the loop. */
export class AccountState {
  syncing = false;
  nextSyncAt: string | null = null;
  private shownState: InterfaceState | null = null;

  constructor(
    readonly accountId: string,
    readonly s: AccountSyncState,
    private readonly tuning: WalkTuning,
  ) {}

  importRunning(): boolean {
    const st = this.s.import?.state;
    return st === 'running' || st === 'paused';
  }

  realImportRunning(): boolean {
    return this.importRunning() && this.s.import?.dryRun === false;
  }

  canSync(): boolean {
    return this.s.active && this.s.blocked === null && !this.realImportRunning();
  }

  state(): InterfaceState {
    if (!this.s.active) return 'paused';
    if (this.s.blocked) return 'error';
    return this.syncing || this.realImportRunning() ? 'syncing' : 'idle';
  }

  owed(): boolean {
    return this.s.requestSeq > this.s.servedSeq;
  }

  /** Keeps the search attributes current (one upsert per change, not per cycle): "every account in error". */
  publish(): void {
    const state = this.state();
    if (state === this.shownState) return;
    // Runs started before the attributes existed replay without them.
    if (!patched(PATCHES.searchAttributes)) return;
    this.shownState = state;
    upsertSearchAttributes([
      { key: accountSearchKey, value: this.accountId },
      { key: stateSearchKey, value: state },
    ]);
  }

  /**
   * Starts a walk as a child (ABANDON: the parent's continue-as-new must not kill it). A stopped import
   * (state `error`) resumes from its checkpoint under the same import id. A start that fails puts the previous
   * import back: no phantom "running" import stays.
   */
  async startWalk(kind: 'import' | 'reconcile', dryRun: boolean): Promise<ImportProgress> {
    const prev = this.s.import;
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
    this.s.import = started;
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
      if (this.s.import === started) this.s.import = prev;
      throw err;
    }
    return this.s.import;
  }

  status(): AccountStatus {
    const { s } = this;
    return {
      accountId: this.accountId,
      active: s.active,
      state: this.state(),
      error: s.blocked ?? s.lastError,
      lastSyncAt: s.lastSyncAt,
      nextSyncAt: this.canSync() ? this.nextSyncAt : null,
      cycles: s.cycles,
      lastCounts: s.lastCounts,
      import: s.import,
    };
  }

  /** Markdown for the Temporal UI's "current details": one line each, as a list. */
  details(): string {
    const { s } = this;
    const imp = s.import;
    return [
      `**${this.state()}**${s.blocked ? `: ${s.blocked.message}` : ''}`,
      '',
      `- last sync: ${s.lastSyncAt ?? 'never'}`,
      `- next sync: ${this.canSync() ? (this.nextSyncAt ?? 'now') : '-'} (every ${s.intervalSeconds} s)`,
      s.lastCounts
        ? `- last cycle: ${s.lastCounts.fetched} fetched, ${s.lastCounts.written} written, ` +
          `${s.lastCounts.unassigned} unassigned, ${s.lastCounts.invalid} invalid`
        : '',
      imp
        ? `- ${imp.kind ?? 'import'} ${imp.importId}${imp.dryRun ? ' (dry run)' : ''}: ${imp.state}, ` +
          `${imp.done} of ${imp.total ?? '?'}${imp.error ? ` (${imp.error})` : ''}`
        : '',
      s.lastError ? `- last error: ${s.lastError.type}: ${s.lastError.message}` : '',
    ]
      .filter((line, i) => line !== '' || i === 1)
      .join('\n');
  }

  installHandlers(): void {
    const { s } = this;
    setHandler(setActiveSignal, async ({ active }) => {
      s.active = active;
      const imp = s.import;
      if (!imp || !this.realImportRunning()) return;
      imp.state = active ? 'running' : 'paused';
      try {
        await getExternalWorkflowHandle(imp.workflowId).signal(importActiveSignal, { active });
      } catch (err) {
        // The child may have finished a moment ago: its own end signal settles the state.
        log.warn('import not reachable', { error: String(err) });
      }
    });
    setHandler(syncNowSignal, () => {
      s.requestSeq += 1;
    });
    setHandler(settingsChangedSignal, ({ intervalSeconds }) => {
      if (intervalSeconds) s.intervalSeconds = intervalSeconds;
      s.blocked = null;
      s.tokenRechecks = 0;
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
    setHandler(
      startImportUpdate,
      async ({ dryRun, kind }) => this.startWalk(kind ?? 'import', dryRun ?? false),
      {
        validator: ({ dryRun }) => {
          // A dry run writes nothing, so it may preview an interface that is not active yet.
          if (!s.active && !dryRun) throw new Error('the interface is deactivated: activate it first');
          if (s.blocked) throw new Error(`the interface is in error: ${s.blocked.message}`);
          if (s.import && this.importRunning()) {
            throw new Error(
              `an import is already running for account ${this.accountId} (${s.import.importId}, ` +
                `${s.import.done} of ${s.import.total ?? '?'}): wait for it to finish`,
            );
          }
        },
      },
    );
    setHandler(importFinishedSignal, ({ importId, state, stats, error }) => {
      if (s.import?.importId !== importId) return;
      s.import.state = state;
      s.import.error = error;
      if (stats) s.import.done = s.import.total = stats.invoices;
      // What happened while a real import ran is caught up at once.
      if (!s.import.dryRun) s.requestSeq += 1;
    });
    setHandler(statusQuery, () => this.status());
  }
}
