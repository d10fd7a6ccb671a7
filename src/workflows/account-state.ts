// The account workflow's state and what follows from it (the shape of the safe-message-handlers sample): the
// loop in account-sync.ts reads it, the handlers in account-handlers.ts change it.
import {
  ParentClosePolicy,
  patched,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AccountStatus, ImportProgress, InterfaceState } from '../shared';
import { bulkImportWorkflowId } from '../shared';
import { accountSearchKey, stateSearchKey } from '../shared/search-attributes';
import type { AccountSyncState, WalkTuning } from './account-messages';
import { PATCHES } from './account-messages';
import { bulkImportWorkflow } from './bulk-import';

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
    // A cycle's "syncing" is too brief to show: before the quiet-cycles patch it cost two upserts a cycle.
    const brief = this.syncing && !this.realImportRunning() && this.state() === 'syncing';
    const state = brief && patched(PATCHES.quietCycles) ? 'idle' : this.state();
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
}
