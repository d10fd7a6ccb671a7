import type { ActivityFailure } from '@temporalio/workflow';
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccountStatus, ErrorInfo, InterfaceState, SyncCounts } from '../shared';
import { ErrorTypes } from '../shared';

const { syncAccount } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [ErrorTypes.invalidToken, ErrorTypes.interfaceMissing],
  },
});

export const setActiveSignal = defineSignal<[{ active: boolean }]>('setActive');
/** `reason` is free text for the history, e.g. "cli". */
export const syncNowSignal = defineSignal<[{ reason?: string }]>('syncNow');
export const settingsChangedSignal = defineSignal<[{ intervalSeconds?: number }]>('settingsChanged');
export const syncNowUpdate = defineUpdate<SyncCounts, [{ reason?: string }]>('syncNowAndWait');
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
}

export interface AccountSyncInput {
  accountId: string;
  intervalSeconds: number;
  /** Continue-as-new after this many cycles even if the server does not suggest it (tests use tiny values). */
  maxCyclesPerRun?: number;
  state?: AccountSyncState;
}

export async function accountSyncWorkflow(input: AccountSyncInput): Promise<void> {
  const { accountId } = input;
  const s: AccountSyncState = input.state ?? {
    active: true,
    intervalSeconds: input.intervalSeconds,
    blocked: null,
    lastError: null,
    lastSyncAt: null,
    lastCounts: null,
    cycles: 0,
    requestSeq: 0,
    servedSeq: 0,
    settingsSeq: 0,
  };
  let syncing = false;
  let nextSyncAt: string | null = null;
  const canSync = () => s.active && s.blocked === null;
  const state = (): InterfaceState =>
    !s.active ? 'paused' : s.blocked ? 'error' : syncing ? 'syncing' : 'idle';

  setHandler(setActiveSignal, ({ active }) => {
    s.active = active;
  });
  setHandler(syncNowSignal, () => {
    s.requestSeq += 1;
  });
  setHandler(settingsChangedSignal, ({ intervalSeconds }) => {
    if (intervalSeconds) s.intervalSeconds = intervalSeconds;
    s.blocked = null;
    s.settingsSeq += 1;
  });
  setHandler(
    syncNowUpdate,
    async (_req) => {
      const mine = ++s.requestSeq;
      await condition(() => s.servedSeq >= mine);
      return s.lastCounts ?? { pages: 0, fetched: 0, written: 0, unassigned: 0, invalid: 0 };
    },
    {
      validator: (_req) => {
        if (!s.active) throw new Error('the interface is deactivated: activate it first');
        if (s.blocked) throw new Error(`the interface is in error: ${s.blocked.message}`);
      },
    },
  );
  setHandler(statusQuery, () => ({
    accountId,
    active: s.active,
    state: state(),
    error: s.blocked ?? s.lastError,
    lastSyncAt: s.lastSyncAt,
    nextSyncAt: canSync() ? nextSyncAt : null,
    cycles: s.cycles,
    lastCounts: s.lastCounts,
    import: null,
  }));

  const showDetails = () =>
    setCurrentDetails(
      [
        `**${state()}**${s.blocked ? `: ${s.blocked.message}` : ''}`,
        `last sync: ${s.lastSyncAt ?? 'never'}; next: ${canSync() ? (nextSyncAt ?? 'now') : '-'}`,
        s.lastCounts
          ? `last cycle: ${s.lastCounts.fetched} fetched, ${s.lastCounts.written} written, ` +
            `${s.lastCounts.unassigned} unassigned, ${s.lastCounts.invalid} invalid`
          : '',
        s.lastError ? `last error: ${s.lastError.type}: ${s.lastError.message}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );

  let runCycles = 0;
  for (;;) {
    if (canSync()) {
      const serving = s.requestSeq;
      syncing = true;
      showDetails();
      await runCycle();
      syncing = false;
      s.servedSeq = serving;
      runCycles += 1;
      if (s.requestSeq > s.servedSeq && canSync()) continue;
    }
    if (runCycles >= (input.maxCyclesPerRun ?? 500) || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof accountSyncWorkflow>({ ...input, state: s });
    }
    const seen = { settings: s.settingsSeq, active: s.active };
    const waitMs = s.intervalSeconds * 1000;
    nextSyncAt = new Date(Date.now() + waitMs).toISOString();
    showDetails();
    const wake = () =>
      (s.requestSeq > s.servedSeq && canSync()) ||
      s.settingsSeq !== seen.settings ||
      s.active !== seen.active ||
      workflowInfo().continueAsNewSuggested;
    if (canSync())
      await condition(wake, waitMs, { summary: `wait ${s.intervalSeconds} s for the next sync` });
    else await condition(wake);
  }

  async function runCycle(): Promise<void> {
    try {
      const res = await syncAccount.executeWithOptions(
        {
          summary: `sync sevDesk invoices of ${accountId}`,
          startToCloseTimeout: '30 minutes',
          heartbeatTimeout: '2 minutes',
        },
        [{ accountId }],
      );
      if (res.skipped) return;
      s.cycles += 1;
      s.lastCounts = res.counts;
      s.lastSyncAt = new Date(Date.now()).toISOString();
      s.lastError = null;
    } catch (err) {
      const cause = (err as ActivityFailure).cause;
      const type = cause instanceof ApplicationFailure ? cause.type : undefined;
      const info: ErrorInfo = { type: type ?? 'Error', message: cause?.message ?? String(err) };
      if (type === ErrorTypes.invalidToken) s.blocked = info;
      else s.lastError = info;
      log.warn('sync cycle failed', { accountId, type: info.type });
    }
  }
}
