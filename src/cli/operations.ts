import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../config';
import { requireSecretKey } from '../config';
import type { DbHandle } from '../db/client';
import { applyAmountBasis } from '../db/crm-writes';
import { createDb } from '../db/client';
import {
  deleteInterface,
  ensureAccount,
  insertInterface,
  loadInterface,
  setActive,
  updateInterface,
} from '../db/interfaces';
import type { InterfaceSettings } from '../db/schema';
import type { CustomerView, StatusFacts } from '../db/views';
import { listCustomers, statusFacts } from '../db/views';
import { encryptToken, isPlausibleToken } from '../secrets';
import type { SevdeskClient } from '../sevdesk/client';
import { createSevdeskClient } from '../sevdesk/client';
import { SevdeskInvalidTokenError, isSevdeskError } from '../sevdesk/errors';
import type { ImportStats } from '../activities/bulk-import';
import type { AccountStatus, ErrorInfo, ImportProgress, InterfaceState, SyncCounts } from '../shared';
import { accountSyncWorkflowId } from '../shared';
import type { AccountSyncInput } from '../workflows';
import type { bulkImportWorkflow } from '../workflows';
import {
  accountSyncWorkflow,
  importProgressQuery,
  setActiveSignal,
  startImportUpdate,
  settingsChangedSignal,
  statusQuery,
  syncNowSignal,
  syncNowUpdate,
} from '../workflows';

/** A failure the operator can act on: printed as is, exit code 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export interface OpsDeps {
  config: Config;
  db: DbHandle;
  temporal: Client;
  sevdesk: (opts: { baseUrl: string; token: string }) => SevdeskClient;
  close(): Promise<void>;
}

export async function connectOps(config: Config): Promise<OpsDeps> {
  const db = createDb(config.databaseUrl, { max: 2 });
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '5s' });
  } catch (err) {
    await db.close();
    throw new UserError(
      `cannot reach the Temporal server at ${config.temporalAddress} (TEMPORAL_ADDRESS): ${(err as Error).message}. ` +
        'Start one with `npm run temporal`.',
    );
  }
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  return {
    config,
    db,
    temporal,
    sevdesk: ({ baseUrl, token }) => createSevdeskClient({ baseUrl, token, retry: { attempts: 2 } }),
    close: async () => {
      await db.close();
      await connection.close();
    },
  };
}

async function checkToken(deps: OpsDeps, baseUrl: string, token: string): Promise<void> {
  if (!isPlausibleToken(token)) {
    throw new UserError(
      'the sevDesk API token must be 32 hexadecimal characters (sevDesk: Settings > Users > API token)',
    );
  }
  try {
    await deps.sevdesk({ baseUrl, token }).checkToken();
  } catch (err) {
    if (err instanceof SevdeskInvalidTokenError)
      throw new UserError(`sevDesk rejected the API token (HTTP 401) at ${baseUrl}`);
    if (isSevdeskError(err))
      throw new UserError(`could not check the token against sevDesk at ${baseUrl}: ${err.message}`);
    throw err;
  }
}

async function requireInterface(deps: OpsDeps, accountId: string) {
  const iface = await loadInterface(deps.db.sql, accountId);
  if (!iface)
    throw new UserError(
      `account ${accountId} has no sevDesk interface (add one: sevsync interface add --account ${accountId} --token …)`,
    );
  return iface;
}

const handle = (deps: OpsDeps, accountId: string) =>
  deps.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));

export interface AddInput {
  accountId: string;
  token: string;
  baseUrl?: string | undefined;
  intervalSeconds?: number | undefined;
  amountBasis?: 'gross' | 'net' | undefined;
  /** Add it deactivated: nothing is synced until `activate` (a dry-run import may preview it). */
  inactive?: boolean | undefined;
  /** Workflow tuning (tests use tiny thresholds to force continue-as-new). */
  tuning?: Pick<AccountSyncInput, 'maxCyclesPerRun' | 'importPagesPerRun' | 'reconcileIntervalSeconds'>;
}

export async function addInterface(deps: OpsDeps, input: AddInput): Promise<{ workflowId: string }> {
  const key = requireSecretKey(deps.config);
  const baseUrl = (input.baseUrl ?? deps.config.sevdeskBaseUrl).replace(/\/+$/, '');
  if (await loadInterface(deps.db.sql, input.accountId)) {
    throw new UserError(
      `account ${input.accountId} already has a sevDesk interface; change it with: sevsync interface update --account ${input.accountId}`,
    );
  }
  await checkToken(deps, baseUrl, input.token);
  const settings: InterfaceSettings = {
    intervalSeconds: input.intervalSeconds ?? deps.config.syncIntervalSeconds,
    amountBasis: input.amountBasis ?? 'gross',
  };
  await ensureAccount(deps.db.sql, input.accountId);
  const encrypted = encryptToken(key, input.token);
  const inserted = await insertInterface(deps.db.sql, {
    accountId: input.accountId,
    baseUrl,
    ciphertext: encrypted.ciphertext,
    keyId: encrypted.keyId,
    settings,
    active: !input.inactive,
  });
  if (!inserted) throw new UserError(`account ${input.accountId} already has a sevDesk interface`);
  const workflowId = accountSyncWorkflowId(input.accountId);
  await deps.temporal.workflow.start(accountSyncWorkflow, {
    workflowId,
    taskQueue: deps.config.taskQueue,
    args: [
      {
        accountId: input.accountId,
        intervalSeconds: settings.intervalSeconds,
        startActive: !input.inactive,
        ...input.tuning,
      },
    ],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `sevDesk invoice sync for account ${input.accountId}`,
  });
  return { workflowId };
}

/** Idempotent: setting the same value twice changes nothing. Waits until no sync is running any more. */
export async function setInterfaceActive(deps: OpsDeps, accountId: string, active: boolean): Promise<void> {
  await requireInterface(deps, accountId);
  await setActive(deps.db.sql, accountId, active);
  const h = handle(deps, accountId);
  await h.signal(setActiveSignal, { active });
  if (active) return;
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
  throw new UserError('the interface is deactivated, but a sync is still finishing; check `sevsync status`');
}

export interface UpdateInput {
  accountId: string;
  token?: string | undefined;
  baseUrl?: string | undefined;
  intervalSeconds?: number | undefined;
  amountBasis?: 'gross' | 'net' | undefined;
}

export async function updateInterfaceSettings(deps: OpsDeps, input: UpdateInput): Promise<void> {
  const iface = await requireInterface(deps, input.accountId);
  if (iface.active) {
    throw new UserError(
      `deactivate the interface before changing it: sevsync interface deactivate --account ${input.accountId}`,
    );
  }
  const baseUrl = input.baseUrl?.replace(/\/+$/, '');
  let encrypted: { ciphertext: string; keyId: string } | undefined;
  if (input.token !== undefined) {
    await checkToken(deps, baseUrl ?? iface.baseUrl, input.token);
    encrypted = encryptToken(requireSecretKey(deps.config), input.token);
  }
  const settings: InterfaceSettings = {
    intervalSeconds: input.intervalSeconds ?? iface.settings.intervalSeconds,
    amountBasis: input.amountBasis ?? iface.settings.amountBasis,
  };
  await updateInterface(deps.db.sql, input.accountId, {
    ...(baseUrl ? { baseUrl } : {}),
    ...(encrypted ?? {}),
    settings,
  });
  if (settings.amountBasis !== iface.settings.amountBasis) {
    await applyAmountBasis(deps.db.sql, input.accountId, settings.amountBasis);
  }
  await handle(deps, input.accountId).signal(settingsChangedSignal, {
    intervalSeconds: settings.intervalSeconds,
  });
}

export async function removeInterface(deps: OpsDeps, accountId: string, purge: boolean): Promise<void> {
  await requireInterface(deps, accountId);
  const h = handle(deps, accountId);
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

export async function syncNow(deps: OpsDeps, accountId: string, wait: boolean): Promise<SyncCounts | null> {
  const iface = await requireInterface(deps, accountId);
  if (!iface.active)
    throw new UserError(`the interface is deactivated: sevsync interface activate --account ${accountId}`);
  const h = handle(deps, accountId);
  if (!wait) {
    await h.signal(syncNowSignal, { reason: 'cli' });
    return null;
  }
  try {
    return await h.executeUpdate(syncNowUpdate, { args: [{ reason: 'cli' }] });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new UserError(`sync-now was refused: ${cause?.message ?? (err as Error).message}`);
  }
}

export interface StatusView {
  account: string;
  active: boolean;
  state: InterfaceState;
  error: ErrorInfo | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  counts: StatusFacts['counts'];
  unassigned: StatusFacts['unassigned'];
  conflicts: StatusFacts['conflicts'];
  invalid: StatusFacts['invalid'];
  import: { state: string; done: number; total: number | null } | null;
  /** False when the worker did not answer: state and timing then come from the database. */
  live: boolean;
}

export async function getStatus(deps: OpsDeps, accountId: string): Promise<StatusView> {
  const iface = await requireInterface(deps, accountId);
  const facts = await statusFacts(deps.db.sql, accountId);
  const live: AccountStatus | undefined = await Promise.race([
    handle(deps, accountId)
      .query(statusQuery)
      .catch(() => undefined),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref()),
  ]);
  // A running import reports its own progress; the parent only learns the end.
  const parentView = live?.import ?? null;
  const imp =
    parentView && (parentView.state === 'running' || parentView.state === 'paused')
      ? ((await deps.temporal.workflow
          .getHandle(parentView.workflowId)
          .query(importProgressQuery)
          .catch(() => undefined)) ?? parentView)
      : parentView;
  return {
    account: accountId,
    active: iface.active,
    state: live?.state ?? (iface.active ? iface.state : 'paused'),
    error: live?.error ?? iface.lastError,
    lastSyncAt: iface.lastSyncedAt?.toISOString() ?? live?.lastSyncAt ?? null,
    nextSyncAt: live?.nextSyncAt ?? null,
    counts: facts.counts,
    unassigned: facts.unassigned,
    conflicts: facts.conflicts,
    invalid: facts.invalid,
    import: imp ? { state: imp.state, done: imp.done, total: imp.total } : null,
    live: live !== undefined,
  };
}

export async function getCustomers(deps: Pick<OpsDeps, 'db'>, accountId: string): Promise<CustomerView[]> {
  const [known] = await deps.db.sql`select 1 as x from accounts where id = ${accountId}`;
  if (!known)
    throw new UserError(`account ${accountId} is unknown (it gets created by: sevsync interface add)`);
  return listCustomers(deps.db.sql, accountId);
}

export async function startImport(
  deps: OpsDeps,
  accountId: string,
  opts: { dryRun: boolean; kind?: 'import' | 'reconcile' },
): Promise<ImportProgress> {
  const iface = await requireInterface(deps, accountId);
  // A dry run writes nothing, so it may preview an interface that is not active yet.
  if (!iface.active && !opts.dryRun) {
    throw new UserError(`the interface is deactivated: sevsync interface activate --account ${accountId}`);
  }
  try {
    return await handle(deps, accountId).executeUpdate(startImportUpdate, {
      args: [{ dryRun: opts.dryRun, kind: opts.kind ?? 'import' }],
    });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new UserError(cause?.message ?? (err as Error).message);
  }
}

/** Follows an import until it ends, reporting progress; returns its final figures. */
export async function waitForImport(
  deps: OpsDeps,
  workflowId: string,
  onProgress: (p: ImportProgress) => void,
): Promise<ImportStats> {
  const h = deps.temporal.workflow.getHandle<typeof bulkImportWorkflow>(workflowId);
  const result = h.result();
  let finished = false;
  void result
    .finally(() => {
      finished = true;
    })
    .catch(() => {});
  while (!finished) {
    const p = await h.query(importProgressQuery).catch(() => undefined);
    if (p) onProgress(p);
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
  }
  const last = await h.query(importProgressQuery).catch(() => undefined);
  if (last) onProgress({ ...last, state: last.state === 'running' ? 'done' : last.state });
  try {
    return await result;
  } catch (err) {
    const cause = (err as { cause?: { cause?: Error; message?: string } }).cause;
    throw new UserError(
      `the import failed: ${cause?.cause?.message ?? cause?.message ?? (err as Error).message}`,
    );
  }
}
