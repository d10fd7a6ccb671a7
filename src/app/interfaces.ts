import { WorkflowNotFoundError } from '@temporalio/client';
import { requireKeyring } from '../config';
import { applyAmountBasis } from '../db/customers';
import type { InterfaceRecord } from '../db/interfaces';
import {
  deleteInterface,
  ensureAccount,
  insertInterface,
  loadInterface,
  setActive,
  updateInterface,
} from '../db/interfaces';
import type { InterfaceSettings } from '../db/schema';
import { ErrorTypes } from '../shared';
import {
  accountSyncWorkflow,
  importProgressQuery,
  setActiveSignal,
  settingsChangedSignal,
  statusQuery,
} from '../workflows';
import type { AppDeps } from './deps';
import { AppError } from './errors';
import { checkToken, openStoredToken, requireBaseUrl, sealToken } from './tokens';
import type { Tuning } from './workflow';
import { accountHandle, ensureWorkflow, requireInterface, workflowStartOptions } from './workflow';

export type AmountBasis = InterfaceSettings['amountBasis'];

export interface AddInput {
  accountId: string;
  token: string;
  baseUrl?: string | undefined;
  intervalSeconds?: number | undefined;
  amountBasis?: AmountBasis | undefined;
  /** Add it deactivated: nothing is synced until `activate` (a dry-run import may preview it). */
  inactive?: boolean | undefined;
  /** Workflow tuning (tests use tiny thresholds to force continue-as-new). */
  tuning?: Tuning;
}

export interface AddResult {
  workflowId: string;
  /** False when the interface was there already with this token (a retry): the call only finished the job. */
  created: boolean;
}

const tokenHint = 'pass it on standard input (--token -), with --token-file F or in SEVDESK_TOKEN';

/**
 * Checks the token, stores the interface (token encrypted) and starts its sync. Idempotent: a retry with
 * the same token and settings after a failure halfway (row stored, workflow not started) finishes the job.
 */
export async function addInterface(deps: AppDeps, input: AddInput): Promise<AddResult> {
  requireKeyring(deps.config);
  const baseUrl = requireBaseUrl(input.baseUrl ?? deps.config.sevdeskBaseUrl);
  const existing = await loadInterface(deps.db.sql, input.accountId);
  if (existing) return finishAdd(deps, existing, { ...input, baseUrl });

  await checkToken(deps, baseUrl, input.token);
  const settings: InterfaceSettings = {
    intervalSeconds: input.intervalSeconds ?? deps.config.syncIntervalSeconds,
    amountBasis: input.amountBasis ?? 'gross',
  };
  await ensureAccount(deps.db.sql, input.accountId);
  const sealed = sealToken(deps, input.accountId, baseUrl, input.token);
  const inserted = await insertInterface(deps.db.sql, {
    accountId: input.accountId,
    baseUrl,
    ciphertext: sealed.ciphertext,
    keyId: sealed.keyId,
    settings,
    active: !input.inactive,
  });
  const iface = await loadInterface(deps.db.sql, input.accountId);
  if (!iface)
    throw new AppError('conflict', `the interface of account ${input.accountId} was removed meanwhile`);
  // Lost a race with a concurrent add: the same rules as a retry decide.
  if (!inserted) return finishAdd(deps, iface, { ...input, baseUrl });
  return { workflowId: await ensureWorkflow(deps, iface, input.tuning), created: true };
}

async function finishAdd(
  deps: AppDeps,
  iface: InterfaceRecord,
  input: AddInput & { baseUrl: string },
): Promise<AddResult> {
  const change = `change it with: sevsync interface update --account ${input.accountId}`;
  const differs =
    iface.baseUrl !== input.baseUrl
      ? 'another base URL'
      : openStoredToken(deps, iface) !== input.token
        ? 'another token'
        : input.intervalSeconds !== undefined && input.intervalSeconds !== iface.settings.intervalSeconds
          ? 'another interval'
          : input.amountBasis !== undefined && input.amountBasis !== iface.settings.amountBasis
            ? 'another amount basis'
            : undefined;
  if (differs) {
    throw new AppError(
      'conflict',
      `account ${input.accountId} already has a sevDesk interface with ${differs}; ${change}`,
    );
  }
  return { workflowId: await ensureWorkflow(deps, iface, input.tuning), created: false };
}

/**
 * Activates or deactivates (idempotent). The row is the truth; the workflow learns it by signal (and is
 * started from the row if it is not running). Deactivating waits until no sync or import page is running.
 */
export async function setInterfaceActive(deps: AppDeps, accountId: string, active: boolean): Promise<void> {
  const iface = await requireInterface(deps, accountId);
  await setActive(deps.db.sql, accountId, active);
  await deps.temporal.workflow.signalWithStart(accountSyncWorkflow, {
    ...workflowStartOptions(deps, { ...iface, active }),
    signal: setActiveSignal,
    signalArgs: [{ active }],
  });
  if (active) return;
  const h = accountHandle(deps, accountId);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const s = await h.query(statusQuery).catch(() => undefined);
    const child =
      s?.import && !s.import.dryRun && (s.import.state === 'running' || s.import.state === 'paused')
        ? await deps.temporal.workflow
            .getHandle(s.import.workflowId)
            .query(importProgressQuery)
            .catch(() => undefined)
        : undefined;
    if (!s || (s.state === 'paused' && (!child || child.state === 'paused'))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new AppError(
    'unavailable',
    'the interface is deactivated, but a sync is still finishing; check `sevsync status`',
  );
}

export interface UpdateInput {
  accountId: string;
  token?: string | undefined;
  baseUrl?: string | undefined;
  intervalSeconds?: number | undefined;
  amountBasis?: AmountBasis | undefined;
}

/**
 * A reconnect: only a new token, for an active interface in error because sevDesk rejected the stored one
 * (the row, or the workflow's live view when the row is not written yet). The one change allowed while active:
 * `settingsChanged` then clears the workflow's error and it syncs at once.
 */
async function isReconnect(deps: AppDeps, iface: InterfaceRecord, input: UpdateInput): Promise<boolean> {
  const onlyToken =
    input.token !== undefined &&
    input.baseUrl === undefined &&
    input.intervalSeconds === undefined &&
    input.amountBasis === undefined;
  if (!onlyToken) return false;
  const rejected = (state: string | undefined, error: { type: string } | null | undefined) =>
    state === 'error' && error?.type === ErrorTypes.invalidToken;
  if (rejected(iface.state, iface.lastError)) return true;
  const live = await deps.temporal.connection
    .withDeadline(Date.now() + 3000, () => accountHandle(deps, iface.accountId).query(statusQuery))
    .catch(() => undefined);
  return rejected(live?.state, live?.error);
}

/**
 * Changes token, base URL, interval or amount basis, only while deactivated; while active only a reconnect
 * (a new token after sevDesk rejected the stored one, see isReconnect). A new base URL needs the
 * token again (checked there): the stored ciphertext is bound to the origin it was checked against.
 */
export async function updateInterfaceSettings(deps: AppDeps, input: UpdateInput): Promise<void> {
  const iface = await requireInterface(deps, input.accountId);
  if (iface.active && !(await isReconnect(deps, iface, input))) {
    throw new AppError(
      'conflict',
      `deactivate the interface before changing it: sevsync interface deactivate --account ${input.accountId} ` +
        '(only a new token for an interface whose token sevDesk rejected is taken while active)',
    );
  }
  const baseUrl = input.baseUrl === undefined ? iface.baseUrl : requireBaseUrl(input.baseUrl);
  if (baseUrl !== iface.baseUrl && input.token === undefined) {
    throw new AppError(
      'invalid_input',
      `changing the base URL needs the sevDesk API token again, to check it there: ${tokenHint}`,
    );
  }
  let sealed: { ciphertext: string; keyId: string } | undefined;
  if (input.token !== undefined) {
    await checkToken(deps, baseUrl, input.token);
    sealed = sealToken(deps, input.accountId, baseUrl, input.token);
  }
  const settings: InterfaceSettings = {
    intervalSeconds: input.intervalSeconds ?? iface.settings.intervalSeconds,
    amountBasis: input.amountBasis ?? iface.settings.amountBasis,
  };
  await updateInterface(deps.db.sql, input.accountId, {
    ...(sealed ? { baseUrl, ...sealed } : {}),
    settings,
  });
  if (settings.amountBasis !== iface.settings.amountBasis) {
    await applyAmountBasis(deps.db.sql, input.accountId, settings.amountBasis);
  }
  await deps.temporal.workflow.signalWithStart(accountSyncWorkflow, {
    ...workflowStartOptions(deps, { ...iface, settings }),
    signal: settingsChangedSignal,
    signalArgs: [{ intervalSeconds: settings.intervalSeconds }],
  });
}

/** Stops the sync (and a running import) and deletes the interface; `purge` also deletes synced invoices. */
export async function removeInterface(deps: AppDeps, accountId: string, purge: boolean): Promise<void> {
  await requireInterface(deps, accountId);
  const h = accountHandle(deps, accountId);
  // A running import is abandoned by its parent on purpose (continue-as-new must not kill it): stop it too.
  const live = await h.query(statusQuery).catch(() => undefined);
  const running = live?.import && (live.import.state === 'running' || live.import.state === 'paused');
  for (const id of running && live.import ? [live.import.workflowId, h.workflowId] : [h.workflowId]) {
    try {
      await deps.temporal.workflow.getHandle(id).terminate('sevDesk interface removed');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  await deleteInterface(deps.db.sql, accountId, purge);
}
