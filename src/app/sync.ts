import { randomUUID } from 'node:crypto';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ImportStats } from '../activities/bulk-import';
import type { ErrorInfo, ImportProgress, SyncCounts } from '../shared';
import { ErrorTypes, accountSyncWorkflowId, bulkImportWorkflowId } from '../shared';
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
  const stats = await follow(deps, workflowId, onProgress, opts);
  if (!stats) throw new Error(`the walk ${workflowId} was followed without a deadline and did not end`);
  return stats;
}

/**
 * `followImport` until `deadline` (ms since the epoch): undefined when the walk has not ended by then (its
 * long poll is cancelled, nothing keeps running).
 */
async function follow(
  deps: Pick<AppDeps, 'temporal'>,
  workflowId: string,
  onProgress: (p: ImportProgress) => void,
  opts: { pollMs?: number; deadline?: number },
): Promise<ImportStats | undefined> {
  const h = deps.temporal.workflow.getHandle<typeof bulkImportWorkflow>(workflowId);
  const stop = new AbortController();
  const result = deps.temporal.connection.withAbortSignal(stop.signal, () => h.result());
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
  try {
    while (!finished) {
      const p = await h.query(importProgressQuery).catch(() => undefined);
      if (p) onProgress(p);
      if (p?.state === 'error') throw stopped(p);
      const left = opts.deadline === undefined ? Infinity : opts.deadline - Date.now();
      if (left <= 0 && !finished) return undefined;
      await Promise.race([
        result.catch(() => undefined),
        new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 500, left))),
      ]);
    }
  } finally {
    if (!finished) stop.abort();
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

// Bounded waits: the HTTP API holds a request only so long; what has not ended by then is asked for again
// by its id (the Location of a 202).

/** A sync-now that someone waits for: its id, and its counts once it has run (null: still running). */
export interface SyncOutcome {
  syncId: string;
  workflowId: string;
  counts: SyncCounts | null;
}

/** The id of a requested sync: the update's id, and the run of the account workflow that accepted it. */
const SYNC_ID = /^([0-9a-f-]{36})(?:\.([0-9a-f-]{36}))?$/;

/** What an update's result is when the deadline passed first: undefined. */
async function updateResultBy<T>(
  deps: Pick<AppDeps, 'temporal'>,
  deadline: number,
  result: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await deps.temporal.connection.withDeadline(deadline, result);
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return undefined;
    const refusal = updateRefusal(err);
    if (refusal) throw new AppError(refusal.type, `sync-now was refused: ${refusal.message}`);
    throw err;
  }
}

/**
 * sync-now with a bounded wait: asks for a sync and waits at most `waitMs` for its counts. When the sync has
 * not run by then, `counts` is null and `syncSince(syncId)` tells later.
 */
export async function syncNowWithin(deps: AppDeps, accountId: string, waitMs: number): Promise<SyncOutcome> {
  const deadline = Date.now() + waitMs;
  const iface = await requireInterface(deps, accountId);
  if (!iface.active) throw deactivated(accountId);
  const updateId = randomUUID();
  const workflowId = accountSyncWorkflowId(accountId);
  const handle = await updateResultBy(deps, deadline, () =>
    withWorkflow(deps, iface, () =>
      accountHandle(deps, accountId).startUpdate(syncNowUpdate, {
        args: [{ reason: 'sync-now' }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        updateId,
      }),
    ),
  );
  // Not accepted in time (no worker polled): asked for by the update id alone, on the current run.
  if (!handle) return { syncId: updateId, workflowId, counts: null };
  const syncId = handle.workflowRunId ? `${updateId}.${handle.workflowRunId}` : updateId;
  const counts = await updateResultBy(deps, deadline, () => handle.result());
  return { syncId, workflowId, counts: counts ?? null };
}

/** A sync that `syncNowWithin` answered without its counts: waits at most `waitMs` for them. */
export async function syncSince(
  deps: AppDeps,
  accountId: string,
  syncId: string,
  waitMs: number,
): Promise<SyncOutcome> {
  const unknown = new AppError('not_found', `account ${accountId} has no sync ${syncId}`);
  const id = SYNC_ID.exec(syncId);
  if (!id) throw unknown;
  await requireInterface(deps, accountId);
  const workflowId = accountSyncWorkflowId(accountId);
  const handle = accountHandle(deps, accountId).getUpdateHandle<SyncCounts>(
    id[1]!,
    id[2] ? { workflowRunId: id[2] } : {},
  );
  try {
    const counts = await updateResultBy(deps, Date.now() + waitMs, () => handle.result());
    return { syncId, workflowId, counts: counts ?? null };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw unknown;
    throw err;
  }
}

/** An import or reconcile walk someone waits for: its final figures, or (not ended yet) its progress. */
export interface WalkOutcome {
  importId: string;
  workflowId: string;
  dryRun: boolean;
  /** null: the walk has not ended yet. */
  stats: ImportStats | null;
  progress: ImportProgress | null;
}

const IMPORT_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Waits at most `waitMs` for a walk of the account to end (`followImport` with a deadline). A walk that
 * stopped (state `error`) or failed is an AppError('failed') as with `followImport`.
 */
export async function walkWithin(
  deps: AppDeps,
  accountId: string,
  importId: string,
  waitMs: number,
): Promise<WalkOutcome> {
  const deadline = Date.now() + waitMs;
  const unknown = new AppError('not_found', `account ${accountId} has no import ${importId}`);
  if (!IMPORT_ID.test(importId)) throw unknown;
  const workflowId = bulkImportWorkflowId(accountId, importId);
  try {
    await deps.temporal.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw unknown;
    throw err;
  }
  let progress: ImportProgress | null = null;
  const stats = await follow(deps, workflowId, (p) => (progress = p), { deadline });
  const seen = progress as ImportProgress | null;
  return {
    importId,
    workflowId,
    dryRun: seen?.dryRun ?? false,
    stats: stats ?? null,
    progress: stats ? null : seen,
  };
}

/** How long after a sync asked for on the settings page another ask is refused (per account). */
export const SYNC_COOLDOWN_MS = 30_000;

/** When each account last asked for a sync on the page (this process; a short guard against double clicks). */
const lastAsked = new Map<string, number>();

export type SyncRequest = { requested: true } | { requested: false; retryAfterSeconds: number };

/**
 * The page's "Jetzt synchronisieren": asks for a sync (without waiting) unless this account asked within
 * `cooldownMs`; then nothing is asked and the answer says how long to wait.
 */
export async function requestSync(
  deps: AppDeps,
  accountId: string,
  cooldownMs = SYNC_COOLDOWN_MS,
): Promise<SyncRequest> {
  const now = Date.now();
  const last = lastAsked.get(accountId);
  if (last !== undefined && now - last < cooldownMs)
    return { requested: false, retryAfterSeconds: Math.ceil((cooldownMs - (now - last)) / 1000) };
  lastAsked.set(accountId, now);
  if (lastAsked.size > 10_000) lastAsked.delete(lastAsked.keys().next().value as string);
  try {
    await syncNow(deps, accountId, false);
  } catch (err) {
    lastAsked.delete(accountId);
    throw err;
  }
  return { requested: true };
}
