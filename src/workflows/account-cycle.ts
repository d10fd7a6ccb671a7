// One incremental sync cycle of the account workflow: a quick local activity first (an unchanged account then
// costs one workflow task and no activity task through the server), the regular activity when it hands over.
import { log, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SyncInput, SyncResult } from '../activities/account-sync';
import { ErrorTypes } from '../shared';
import { PATCHES } from './account-messages';
import type { AccountState } from './account-state';
import { failureInfo } from './failure';

const FATAL = [ErrorTypes.invalidToken, ErrorTypes.interfaceMissing] as const;

const { syncAccount } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Activities heartbeat every 3 s: a worker that died mid-sync is noticed within 10 s (the SDK sends at most
  // one heartbeat per 8 s, 80 % of this timeout).
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [...FATAL],
  },
});

// One attempt: whatever goes wrong is handed to the regular activity, which has the retries and heartbeats.
const { syncAccountQuick } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

const summary = (accountId: string) => ({ summary: `sync sevDesk invoices of ${accountId}` });

async function sync(input: SyncInput): Promise<SyncResult> {
  // The open invoices' re-read walks whole lists: always the regular activity.
  if (!input.recheckOpen && patched(PATCHES.localSync)) {
    try {
      const res = await syncAccountQuick(input);
      if (res.skipped !== 'needs-activity') return res;
    } catch (err) {
      const { type } = failureInfo(err);
      if (type === ErrorTypes.invalidToken || type === ErrorTypes.otherCompany) throw err;
      log.info('quick sync handed over', { accountId: input.accountId, type });
    }
  }
  return syncAccount.executeWithOptions(summary(input.accountId), [input]);
}

export async function runCycle(a: AccountState, openRecheckSeconds: number): Promise<void> {
  const { s } = a;
  s.lastOpenRecheckAt ??= new Date(Date.now()).toISOString();
  const recheckOpen = Date.now() - Date.parse(s.lastOpenRecheckAt) >= openRecheckSeconds * 1000;
  // A cycle someone asked for (sync-now, the API, the page's button) re-reads the contacts of every
  // unassigned invoice: an e-mail just added in sevDesk shows at once, not within the hourly turn.
  const requested = a.owed();
  try {
    const res = await sync({
      accountId: a.accountId,
      ...(recheckOpen ? { recheckOpen } : {}),
      ...(requested ? { requested } : {}),
    });
    if (res.skipped) return;
    if (recheckOpen) s.lastOpenRecheckAt = new Date(Date.now()).toISOString();
    s.tokenRechecks = 0;
    s.cycles += 1;
    s.lastCounts = res.counts;
    s.lastSyncAt = new Date(Date.now()).toISOString();
    s.lastError = null;
  } catch (err) {
    const info = failureInfo(err);
    if (info.type === ErrorTypes.invalidToken || info.type === ErrorTypes.otherCompany) s.blocked = info;
    else s.lastError = info;
    log.warn('sync cycle failed', { accountId: a.accountId, type: info.type });
  }
}
