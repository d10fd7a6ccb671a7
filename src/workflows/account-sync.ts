import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import { installHandlers } from './account-handlers';
import type { AccountSyncState } from './account-messages';
import { PATCHES, SHORT_RUN_CYCLES, TOKEN_RECHECK_SECONDS, initialState } from './account-messages';
import { runCycle } from './account-cycle';
import { AccountState } from './account-state';

export * from './account-messages';
export { AccountState } from './account-state';

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

/** One per account: sync, then wait for the interval or a message; continue-as-new now and then. */
export async function accountSyncWorkflow(input: AccountSyncInput): Promise<void> {
  const s = input.state ?? initialState(input.intervalSeconds, input.startActive ?? true);
  s.lastReconcileAt ??= new Date(Date.now()).toISOString();
  const a = new AccountState(input.accountId, s, input);
  installHandlers(a);
  // Short runs: an account evicted from the worker's cache replays only its current run (a few hundred events).
  const short = patched(PATCHES.shortRuns);
  const maxCycles = short ? SHORT_RUN_CYCLES : 500;
  // A continued run first waits out the rest of the interval: continue-as-new costs no extra sync.
  let rest = short && input.state !== undefined && s.lastSyncAt !== null;
  const show = () => {
    a.publish();
    setCurrentDetails(a.details());
  };

  for (let iterations = 1; ; iterations += 1) {
    const resting = rest && !a.owed();
    rest = false;
    if (a.canSync() && !s.initialImportStarted && !a.importRunning()) {
      s.initialImportStarted = true;
      await startWalkOrRecord(a, 'import');
    }
    if (a.canSync() && !resting) {
      const serving = s.requestSeq;
      a.syncing = true;
      show();
      await runCycle(a, input.openRecheckSeconds ?? 3600);
      a.syncing = false;
      s.servedSeq = serving;
      if (a.owed() && a.canSync()) continue;
      const reconcileMs = (input.reconcileIntervalSeconds ?? 86_400) * 1000;
      if (a.canSync() && Date.now() - Date.parse(s.lastReconcileAt) >= reconcileMs) {
        s.lastReconcileAt = new Date(Date.now()).toISOString();
        await startWalkOrRecord(a, 'reconcile');
      }
    }
    // A sync still owed to a sync-now caller runs first: its handler could not finish before continue-as-new.
    const owed = a.owed() && (a.canSync() || a.realImportRunning());
    const due = iterations >= (input.maxCyclesPerRun ?? maxCycles) || workflowInfo().continueAsNewSuggested;
    if (due && !owed && !resting) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof accountSyncWorkflow>({ ...input, state: s });
    }
    const seen = { settings: s.settingsSeq, active: s.active, importing: a.realImportRunning() };
    const sinceSync = resting ? Date.now() - Date.parse(s.lastSyncAt ?? '') : 0;
    const waitMs = Math.max(0, s.intervalSeconds * 1000 - sinceSync);
    a.nextSyncAt = new Date(Date.now() + waitMs).toISOString();
    show();
    const wake = () =>
      (a.owed() && a.canSync()) ||
      s.settingsSeq !== seen.settings ||
      s.active !== seen.active ||
      a.realImportRunning() !== seen.importing ||
      workflowInfo().continueAsNewSuggested;
    if (a.canSync())
      await condition(wake, waitMs, { summary: `wait ${s.intervalSeconds} s for the next sync` });
    else if (s.blocked && s.active && !a.realImportRunning() && patched(PATCHES.tokenRecheck))
      await recheckTokenLater(a, wake, input.tokenRecheckSeconds ?? TOKEN_RECHECK_SECONDS);
    else await condition(wake);
  }
}

/** A walk the loop starts itself: if the child cannot start, the account says so and syncs on. */
async function startWalkOrRecord(a: AccountState, kind: 'import' | 'reconcile'): Promise<void> {
  try {
    await a.startWalk(kind, false);
  } catch (err) {
    a.s.lastError = { type: 'ImportStartFailed', message: `the ${kind} could not start: ${String(err)}` };
    log.warn('walk did not start', { kind, error: String(err) });
  }
}

/**
 * A blocked token is tried again after 1 h, 6 h, then daily: a proxy's 401 or a token sevDesk blocked for a
 * while heals without anyone noticing. A message (new settings, activation) wakes the loop at once.
 */
async function recheckTokenLater(
  a: AccountState,
  wake: () => boolean,
  schedule: readonly number[],
): Promise<void> {
  const n = a.s.tokenRechecks ?? 0;
  const seconds = schedule[Math.min(n, schedule.length - 1)] ?? 86_400;
  const woken = await condition(wake, seconds * 1000, {
    summary: `re-check the rejected token in ${seconds} s`,
  });
  if (woken || !a.s.blocked) return;
  a.s.tokenRechecks = n + 1;
  a.s.lastError = a.s.blocked;
  a.s.blocked = null;
}
