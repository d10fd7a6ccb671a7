// The account workflow's message handlers: they change the state, or start a walk; the loop does the rest.
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  setHandler,
} from '@temporalio/workflow';
import { ErrorTypes, emptyCounts } from '../shared';
import {
  setActiveSignal,
  settingsChangedSignal,
  startImportUpdate,
  statusQuery,
  syncNowSignal,
  syncNowUpdate,
} from './account-messages';
import type { AccountState } from './account-state';
import { importActiveSignal, importFinishedSignal } from './bulk-import';

export function installHandlers(a: AccountState): void {
  const { s } = a;
  setHandler(setActiveSignal, async ({ active }) => {
    s.active = active;
    const imp = s.import;
    if (!imp || !a.realImportRunning()) return;
    imp.state = active ? 'running' : 'paused';
    try {
      await getExternalWorkflowHandle(imp.workflowId).signal(importActiveSignal, { active });
    } catch (err) {
      // The child may have finished a moment ago: its own end signal settles the state.
      log.warn('import not reachable', { error: String(err) });
    }
  });
  setHandler(syncNowSignal, () => {
    s.requestSeq += 1;
  });
  setHandler(settingsChangedSignal, ({ intervalSeconds }) => {
    if (intervalSeconds) s.intervalSeconds = intervalSeconds;
    s.blocked = null;
    s.tokenRechecks = 0;
    s.settingsSeq += 1;
  });
  setHandler(
    syncNowUpdate,
    async (_req) => {
      const mine = ++s.requestSeq;
      await condition(() => s.servedSeq >= mine || !s.active || s.blocked !== null);
      if (s.servedSeq < mine) {
        throw ApplicationFailure.create({
          type: ErrorTypes.interfaceInactive,
          message: s.blocked
            ? `the interface is in error: ${s.blocked.message}`
            : 'the interface was deactivated before the sync ran',
        });
      }
      return s.lastCounts ?? emptyCounts();
    },
    {
      validator: (_req) => {
        if (!s.active) throw new Error('the interface is deactivated: activate it first');
        if (s.blocked) throw new Error(`the interface is in error: ${s.blocked.message}`);
      },
    },
  );
  setHandler(startImportUpdate, async ({ dryRun, kind }) => a.startWalk(kind ?? 'import', dryRun ?? false), {
    validator: ({ dryRun }) => {
      // A dry run writes nothing, so it may preview an interface that is not active yet.
      if (!s.active && !dryRun) throw new Error('the interface is deactivated: activate it first');
      if (s.blocked) throw new Error(`the interface is in error: ${s.blocked.message}`);
      if (s.import && a.importRunning()) {
        throw new Error(
          `an import is already running for account ${a.accountId} (${s.import.importId}, ` +
            `${s.import.done} of ${s.import.total ?? '?'}): wait for it to finish`,
        );
      }
    },
  });
  setHandler(importFinishedSignal, ({ importId, state, stats, error }) => {
    if (s.import?.importId !== importId) return;
    s.import.state = state;
    s.import.error = error;
    if (stats) s.import.done = s.import.total = stats.invoices;
    // What happened while a real import ran is caught up at once.
    if (!s.import.dryRun) s.requestSeq += 1;
  });
  setHandler(statusQuery, () => a.status());
}
