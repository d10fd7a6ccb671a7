// The account workflow's messages and the plain state it carries across continue-as-new.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AccountStatus, ErrorInfo, ImportProgress, SyncCounts } from '../shared';

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
  /** A cycle tries a local activity first. */
  localSync: 'sevsync-local-sync',
  /** The search attribute shows no transient "syncing" for a regular cycle (two upserts per cycle before). */
  quietCycles: 'sevsync-quiet-cycles',
  /** Continue-as-new after SHORT_RUN_CYCLES cycles instead of 500. */
  shortRuns: 'sevsync-short-runs',
} as const;

/** Cycles per run (then continue-as-new): 50 cycles are about 350 history events with quick syncs. */
export const SHORT_RUN_CYCLES = 50;

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
