import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ImportStats } from '../activities/bulk-import';
import type { ErrorInfo, ImportProgress, SyncCounts } from '../shared';
import { ErrorTypes } from '../shared';
import type { bulkImportWorkflow } from '../workflows';
import {
  accountSyncWorkflow,
  importProgressQuery,
  startImportUpdate,
  statusQuery,
  syncNowSignal,
  syncNowUpdate,
} from '../workflows';
import type { AppDeps } from './deps';
import type { AppErrorType } from './errors';
import { AppError } from './errors';
import { accountHandle, requireInterface, withWorkflow, workflowStartOptions } from './workflow';

export type WalkKind = 'import' | 'reconcile';

/** The message (and our error type) of a refused or failed update, without casts. */
function updateRefusal(err: unknown): { type: AppErrorType; message: string } | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  const message = cause?.message ?? err.message;
  const inactive =
    (cause instanceof ApplicationFailure && cause.type === ErrorTypes.interfaceInactive) ||
    /deactivated|in error/.test(message);
  return { type: inactive ? 'inactive' : 'conflict', message };
}

const deactivated = (accountId: string) =>
  new AppError('inactive', `the interface is deactivated: sevsync interface activate --account ${accountId}`);

/** Asks for a sync now; with `wait`, returns the counts of the sync that ran for it. */
export async function syncNow(deps: AppDeps, accountId: string, wait: boolean): Promise<SyncCounts | null> {
  const iface = await requireInterface(deps, accountId);
  if (!iface.active) throw deactivated(accountId);
  if (!wait) {
    await deps.temporal.workflow.signalWithStart(accountSyncWorkflow, {
      ...workflowStartOptions(deps, iface),
      signal: syncNowSignal,
      signalArgs: [{ reason: 'sync-now' }],
    });
    return null;
  }
  try {
    return await withWorkflow(deps, iface, () =>
      accountHandle(deps, accountId).executeUpdate(syncNowUpdate, { args: [{ reason: 'sync-now' }] }),
    );
  } catch (err) {
    const refusal = updateRefusal(err);
    if (refusal) throw new AppError(refusal.type, `sync-now was refused: ${refusal.message}`);
    throw err;
  }
}

export interface WalkStart extends ImportProgress {
  /** True when this call found the walk already running and returns it (follow it instead of failing). */
  alreadyRunning: boolean;
}

const isRunning = (p: ImportProgress | null | undefined): p is ImportProgress =>
  !!p && (p.state === 'running' || p.state === 'paused');
const kindOf = (p: ImportProgress): WalkKind => {
  const k = (p as { kind?: unknown }).kind;
  return k === 'reconcile' || (k === undefined && p.importId.startsWith('rec-')) ? 'reconcile' : 'import';
};

/** The walk the account workflow reports as running, with the child's own (fresher) progress. */
async function runningWalk(deps: AppDeps, accountId: string): Promise<ImportProgress | undefined> {
  const s = await accountHandle(deps, accountId)
    .query(statusQuery)
    .catch(() => undefined);
  if (!isRunning(s?.import)) return undefined;
  const own = await deps.temporal.workflow
    .getHandle(s.import.workflowId)
    .query(importProgressQuery)
    .catch(() => undefined);
  return { ...s.import, ...own };
}

function joinOrRefuse(running: ImportProgress, want: { dryRun: boolean; kind: WalkKind }): WalkStart {
  const kind = kindOf(running);
  if (running.dryRun === want.dryRun && kind === want.kind) return { ...running, alreadyRunning: true };
  const what = running.dryRun ? 'a dry run' : kind === 'reconcile' ? 'a reconcile walk' : 'an import';
  throw new AppError(
    'conflict',
    `${what} is already running (${running.importId}, ${running.done} of ${running.total ?? '?'}): ` +
      'wait for it to finish',
  );
}

/**
 * Starts the bulk import (or a reconcile walk). One walk at a time per account: if the same kind is already
 * running, that one is returned with `alreadyRunning` (a second click is not an error). A walk that stopped
 * in state `error` is resumed from its checkpoint by the workflow.
 */
export async function startImport(
  deps: AppDeps,
  accountId: string,
  opts: { dryRun: boolean; kind?: WalkKind },
): Promise<WalkStart> {
  const want = { dryRun: opts.dryRun, kind: opts.kind ?? 'import' };
  const iface = await requireInterface(deps, accountId);
  // A dry run writes nothing, so it may preview an interface that is not active yet.
  if (!iface.active && !opts.dryRun) throw deactivated(accountId);
  const running = await runningWalk(deps, accountId);
  if (running) return joinOrRefuse(running, want);
  try {
    const started = await withWorkflow(deps, iface, () =>
      accountHandle(deps, accountId).executeUpdate(startImportUpdate, { args: [want] }),
    );
    return { ...started, alreadyRunning: false };
  } catch (err) {
    const refusal = updateRefusal(err);
    if (!refusal) throw err;
    // Someone else started one between our look and our start.
    const now = /already running/.test(refusal.message) ? await runningWalk(deps, accountId) : undefined;
    if (now) return joinOrRefuse(now, want);
    throw new AppError(refusal.type, refusal.message);
  }
}

/** A reconcile walk on demand: finds invoices deleted in sevDesk (a large sweep is held for confirmation). */
export const startReconcile = (deps: AppDeps, accountId: string): Promise<WalkStart> =>
  startImport(deps, accountId, { dryRun: false, kind: 'reconcile' });

/**
 * Follows an import (or reconcile walk) until it ends, reporting progress; returns its final figures.
 * A walk that stopped in state `error` ends the wait with a 'failed' error saying how to resume it.
 */
export async function followImport(
  deps: Pick<AppDeps, 'temporal'>,
  workflowId: string,
  onProgress: (p: ImportProgress) => void,
  opts: { pollMs?: number } = {},
): Promise<ImportStats> {
  const h = deps.temporal.workflow.getHandle<typeof bulkImportWorkflow>(workflowId);
  const result = h.result();
  let finished = false;
  void result
    .finally(() => {
      finished = true;
    })
    .catch(() => {});
  const stopped = (p: ImportProgress | undefined) => {
    const what = p?.kind === 'reconcile' || p?.importId.startsWith('rec-') ? 'reconcile walk' : 'import';
    const error = (p as { error?: unknown } | undefined)?.error;
    const why = typeof error === 'string' ? error : (error as ErrorInfo | null | undefined)?.message;
    return new AppError(
      'failed',
      `the ${what} stopped${why ? `: ${why}` : ''}; start it again to resume from its checkpoint`,
    );
  };
  while (!finished) {
    const p = await h.query(importProgressQuery).catch(() => undefined);
    if (p) onProgress(p);
    if (p?.state === 'error') throw stopped(p);
    await Promise.race([
      result.catch(() => undefined),
      new Promise((r) => setTimeout(r, opts.pollMs ?? 500)),
    ]);
  }
  const last = await h.query(importProgressQuery).catch(() => undefined);
  if (last) onProgress({ ...last, state: last.state === 'running' ? 'done' : last.state });
  let stats: ImportStats | null;
  try {
    stats = await result;
  } catch (err) {
    const cause = (err as Error).cause;
    const inner = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause : cause) : undefined;
    throw new AppError('failed', `the import failed: ${inner?.message ?? (err as Error).message}`);
  }
  // A walk that stopped (state `error`) ends without figures.
  if (!stats) throw stopped(last);
  return stats;
}
