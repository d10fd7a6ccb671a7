// Plain TypeScript shared by the worker, the CLI and the workflow bundle: nothing here may touch I/O.

export const SOURCE_SEVDESK = 'sevdesk';

export const accountSyncWorkflowId = (accountId: string): string => `sevdesk-sync:${accountId}`;
export const bulkImportWorkflowId = (accountId: string, importId: string): string =>
  `sevdesk-import:${accountId}:${importId}`;

/** Failure types the workflows branch on (ApplicationFailure.type), never on message text. */
export const ErrorTypes = {
  invalidToken: 'SevdeskInvalidTokenError',
  interfaceMissing: 'InterfaceNotFoundError',
  interfaceInactive: 'InterfaceInactiveError',
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
  state: 'running' | 'paused' | 'done' | 'failed';
  done: number;
  total: number | null;
  dryRun: boolean;
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
