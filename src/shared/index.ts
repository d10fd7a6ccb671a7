// Plain TypeScript shared by the worker, the CLI and the workflow bundle: nothing here may touch I/O.

export const SOURCE_SEVDESK = 'sevdesk';

export const accountSyncWorkflowId = (accountId: string): string => `sevdesk-sync:${accountId}`;
export const bulkImportWorkflowId = (accountId: string, importId: string): string =>
  `sevdesk-import:${accountId}:${importId}`;

/**
 * The walks' activities run on a task queue of their own next to the workflows' one: a 100,000-invoice import
 * holds a few slots of its own and cannot take the ones the accounts' syncs need (and can be given its own
 * worker process).
 */
export const importTaskQueue = (taskQueue: string): string => `${taskQueue}-imports`;

/** The activities that run on the import task queue. */
export const IMPORT_ACTIVITIES = [
  'beginImport',
  'importPage',
  'importPages',
  'finishImport',
  'failImport',
] as const;

/** Failure types the workflows branch on (ApplicationFailure.type), never on message text. */
export const ErrorTypes = {
  invalidToken: 'SevdeskInvalidTokenError',
  /** The token reads another sevDesk company's data than the interface is bound to. */
  otherCompany: 'SevdeskOtherCompany',
  /** A list page shorter than sevDesk's own count before the end: transient until confirmed. */
  shortPage: 'SevdeskShortPage',
  interfaceMissing: 'InterfaceNotFoundError',
  interfaceInactive: 'InterfaceInactiveError',
  /** A walk's page found no checkpoint (the interface was removed meanwhile): the walk cannot go on. */
  checkpointMissing: 'ImportCheckpointMissing',
  /** A walk saw fewer invoices than sevDesk counts, pass after pass: stopped in error, resumable. */
  walkIncomplete: 'SevdeskWalkIncomplete',
  /** Recorded with a walk that ended although sevDesk's count and its rows disagree for good. */
  countMismatch: 'SevdeskCountMismatch',
  /** A sevDesk record that cannot be stored (domain/limits): reported as an invalid issue, never thrown on. */
  recordError: 'RecordError',
  /** A walk the account workflow starts itself could not start (its error is recorded; the sync goes on). */
  importStartFailed: 'ImportStartFailed',
} as const;

export type InterfaceState = 'idle' | 'syncing' | 'paused' | 'error';

export interface ErrorInfo {
  type: string;
  message: string;
}

/** What one sync (or one import page) did: counts and cursors only, never personal data. */
export interface SyncCounts {
  pages: number;
  fetched: number;
  written: number;
  unassigned: number;
  invalid: number;
}

export interface ImportProgress {
  importId: string;
  workflowId: string;
  /** `error`: stopped after bounded retries; `import start` resumes it from its checkpoint. */
  state: 'running' | 'paused' | 'done' | 'failed' | 'error';
  done: number;
  total: number | null;
  dryRun: boolean;
  /** Why an import stopped (state `error`). */
  error?: string | null;
  /** Which walk: the history import, or the reconcile walk that finds deleted invoices. */
  kind?: 'import' | 'reconcile';
}

/** A reconcile sweep not applied because it would remove too much: an operator confirms it. */
export interface HeldSweep {
  ids: string[];
  count: number;
  /** Invoices of the account when it was held. */
  total: number;
  heldAt: string;
}

/** What a walk did, kept in its checkpoint (plain JSON: decimal sums are strings). */
export interface ImportStats {
  invoices: number;
  assigned: number;
  unassigned: number;
  invalid: number;
  unassignedReasons: Record<string, number>;
  openSum: string;
  paidSum: string;
  written: number;
  deleted: number;
  /** Ids of the previous page's last rows, which the next page re-reads. */
  tailIds?: string[];
  /** Walk pass (1 first): a walk that saw fewer invoices than sevDesk counts walks again. */
  pass?: number;
  /** A page shorter than the total promised, seen once: confirmed by a second read before it counts. */
  shortPage?: { offset: number; rawCount: number; total: number } | null;
  /** How far the walk fell short of sevDesk's count, per pass: `${seen}/${total}`. */
  shortfalls?: string[];
  /** Recorded when sevDesk's count and the rows it serves disagree for good (the walk still ended). */
  discrepancy?: string | null;
  /** Reconcile: what the sweep did. */
  sweep?: {
    candidates: number;
    confirmedDeleted: number;
    stillThere: number;
    unconfirmed: number;
    skipped: string | null;
  };
  held?: HeldSweep & { confirmedAt?: string };
  error?: string;
}

export interface AccountStatus {
  accountId: string;
  active: boolean;
  state: InterfaceState;
  error: ErrorInfo | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  cycles: number;
  lastCounts: SyncCounts | null;
  import: ImportProgress | null;
}

export const emptyCounts = (): SyncCounts => ({
  pages: 0,
  fetched: 0,
  written: 0,
  unassigned: 0,
  invalid: 0,
});
