import { WorkflowNotFoundError } from '@temporalio/client';
import type { InterfaceRecord } from '../db/interfaces';
import { loadInterface } from '../db/interfaces';
import { accountSyncWorkflowId } from '../shared';
import type { AccountSyncInput } from '../workflows';
import { accountSyncWorkflow } from '../workflows';
import type { AppDeps } from './deps';
import { AppError } from './errors';

// The account workflow is derived from the interface row: whenever the use cases need it and it is not
// running (never started, or a failure between the row and the start), it is started from the row.

export type Tuning = Pick<
  AccountSyncInput,
  'maxCyclesPerRun' | 'importPagesPerRun' | 'reconcileIntervalSeconds'
>;

export const accountHandle = (deps: Pick<AppDeps, 'temporal'>, accountId: string) =>
  deps.temporal.workflow.getHandle<typeof accountSyncWorkflow>(accountSyncWorkflowId(accountId));

export async function requireInterface(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
): Promise<InterfaceRecord> {
  const iface = await loadInterface(deps.db.sql, accountId);
  if (!iface)
    throw new AppError(
      'not_found',
      `account ${accountId} has no sevDesk interface (add one: sevsync interface add --account ${accountId} --token -)`,
    );
  return iface;
}

export function workflowStartOptions(deps: AppDeps, iface: InterfaceRecord, tuning?: Tuning) {
  return {
    workflowId: accountSyncWorkflowId(iface.accountId),
    taskQueue: deps.config.taskQueue,
    args: [
      {
        accountId: iface.accountId,
        intervalSeconds: iface.settings.intervalSeconds,
        startActive: iface.active,
        ...tuning,
      },
    ] as [AccountSyncInput],
    staticSummary: `sevDesk invoice sync for account ${iface.accountId}`,
    staticDetails:
      `**sevDesk invoice sync** of OneCockpit account \`${iface.accountId}\`\n\n` +
      `- every ${iface.settings.intervalSeconds} s: invoices changed in sevDesk, to the customer with the contact's e-mail\n` +
      '- first load and "Massenimport": a child walk `sevdesk-import:…`; daily reconcile walk `…:rec-…`\n' +
      '- list accounts by state: `SevsyncState = "error"` (search attributes `SevsyncAccount`, `SevsyncState`)',
  };
}

/** Starts the account workflow from the row unless it is running already (then nothing happens). */
export async function ensureWorkflow(
  deps: AppDeps,
  iface: InterfaceRecord,
  tuning?: Tuning,
): Promise<string> {
  const opts = workflowStartOptions(deps, iface, tuning);
  try {
    await deps.temporal.workflow.start(accountSyncWorkflow, {
      ...opts,
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (err) {
    throw new AppError(
      'unavailable',
      `the interface of account ${iface.accountId} is stored, but its sync could not be started ` +
        `(${(err as Error).message}); run the same command again to finish`,
    );
  }
  return opts.workflowId;
}

/** Runs `fn` against the account workflow; if it is not running, starts it from the row and tries once more. */
export async function withWorkflow<T>(
  deps: AppDeps,
  iface: InterfaceRecord,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await ensureWorkflow(deps, iface);
    return fn();
  }
}
