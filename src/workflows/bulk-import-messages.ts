// The walk workflow's messages and input (plain JSON carried across continue-as-new).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ImportProgress, ImportStats } from '../shared';
import { ErrorTypes } from '../shared';

export const importActiveSignal = defineSignal<[{ active: boolean }]>('importActive');
export const importProgressQuery = defineQuery<ImportProgress>('importProgress');
/** Sent by the import to its parent (by workflow id, so it reaches whichever run of the parent is current). */
export const importFinishedSignal = defineSignal<
  [
    {
      importId: string;
      state: 'done' | 'failed' | 'error';
      stats: ImportStats | null;
      error: string | null;
    },
  ]
>('importFinished');

/** Failures a walk does not retry: it stops in state `error` at once (resumable by `import start`). */
export const WALK_FATAL = [
  ErrorTypes.invalidToken,
  ErrorTypes.interfaceMissing,
  ErrorTypes.otherCompany,
  ErrorTypes.walkIncomplete,
  ErrorTypes.checkpointMissing,
] as const;

/** patched() ids of the walk: each guards a change that running walks would not survive (docs/deploys.md). */
export const IMPORT_PATCHES = { importWindow: 'sevsync-import-window' } as const;

export interface BulkImportInput {
  accountId: string;
  importId: string;
  parentWorkflowId: string;
  kind: 'import' | 'reconcile';
  dryRun: boolean;
  /** Continue-as-new after this many pages (keeps each run's history short); also caps one activity's pages. */
  pagesPerRun?: number;
  state?: {
    offset: number;
    done: number;
    total: number | null;
    active: boolean;
    begun: boolean;
    pass?: number;
  };
}
