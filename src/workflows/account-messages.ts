// What the account workflow's runs share with each other: the plain JSON a run hands to the next one by
// continue-as-new, and the patch ids its recorded histories hold (docs/deploys.md, "What needs a patch"). Plain
// data, no workflow code. The messages are defined beside their handlers, in account-sync.ts.
import type { ErrorInfo, ImportProgress, SyncCounts } from '../shared';

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
