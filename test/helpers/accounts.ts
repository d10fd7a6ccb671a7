// An account with a sevDesk interface pointing at a sandbox, set up the way the app layer stores it, and its
// account workflow started on a test worker: for the workflow tests that drive messages directly.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config';
import { requireSecretKey } from '../../src/config';
import type { Sql } from '../../src/db/client';
import { ensureAccount, insertInterface } from '../../src/db/interfaces';
import type { Sandbox, SandboxOptions } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { encryptToken, keyringOf } from '../../src/secrets';
import type { AccountStatus } from '../../src/shared';
import { accountSyncWorkflowId } from '../../src/shared';
import type { AccountSyncInput } from '../../src/workflows';
import { accountSyncWorkflow, statusQuery } from '../../src/workflows';
import type { RunningWorker } from './env';
import { eventually, randomId, startWorker, temporalClient, testConfig, testDb } from './env';

/** Stores the sandbox's address and token for the account: a new interface, or a switched one. */
export async function pointInterfaceAt(
  sql: Sql,
  secretKey: Buffer,
  accountId: string,
  sb: Sandbox,
  opts: { insert: boolean } = { insert: true },
): Promise<void> {
  const t = encryptToken(keyringOf(secretKey), { accountId, provider: 'sevdesk', baseUrl: sb.url }, sb.token);
  if (opts.insert) {
    await ensureAccount(sql, accountId);
    await insertInterface(sql, {
      accountId,
      baseUrl: sb.url,
      ciphertext: t.ciphertext,
      keyId: t.keyId,
      settings: { intervalSeconds: 3600, amountBasis: 'gross' },
      active: true,
    });
  } else {
    await sql`
      update interfaces set base_url = ${sb.url}, token_ciphertext = ${t.ciphertext}, token_key_id = ${t.keyId}
      where account_id = ${accountId}`;
  }
}

/** A new account on the sandbox, its workflow started; waits for the first import unless told not to. */
export async function startSandboxAccount(
  ctx: { sql: Sql; config: Config; client: Client },
  sb: Sandbox,
  tuning: Partial<AccountSyncInput> = {},
  opts: { waitForImport?: boolean } = {},
) {
  const accountId = randomId('acct');
  await pointInterfaceAt(ctx.sql, requireSecretKey(ctx.config), accountId, sb);
  const h = await ctx.client.workflow.start(accountSyncWorkflow, {
    workflowId: accountSyncWorkflowId(accountId),
    taskQueue: ctx.config.taskQueue,
    args: [{ accountId, intervalSeconds: 3600, ...tuning }],
  });
  if (opts.waitForImport !== false) {
    await eventually(
      async () => {
        const s = await h.query(statusQuery);
        return s.import?.state === 'done' && s.state === 'idle' ? s : undefined;
      },
      60_000,
      'the first import',
    );
  }
  return { accountId, h };
}

/** Polls the account workflow's status query until `ok` holds; returns that status. */
export function statusWhen(
  h: WorkflowHandle,
  ok: (s: AccountStatus) => boolean,
  timeoutMs: number,
  what: string,
): Promise<AccountStatus> {
  return eventually(
    async () => {
      const s = await h.query(statusQuery);
      return ok(s) ? s : undefined;
    },
    timeoutMs,
    what,
  );
}

/**
 * A real worker, a Temporal client and the database for the workflow tests of one file; registers the suite's
 * hooks. Sandboxes started with `sandbox()` are closed after the suite.
 */
export function useWorkflowEnv(opts: { overlapSeconds?: number } = {}) {
  const config = testConfig();
  const db = testDb();
  let worker: RunningWorker | undefined;
  let temporal: { client: Client; close(): Promise<void> } | undefined;
  const sandboxes: Sandbox[] = [];
  const client = (): Client => {
    if (!temporal) throw new Error('the Temporal client is not connected yet (used before beforeAll?)');
    return temporal.client;
  };

  beforeAll(async () => {
    worker = await startWorker(config, opts.overlapSeconds ? { overlapSeconds: opts.overlapSeconds } : {});
    temporal = await temporalClient(config);
  });

  afterAll(async () => {
    await worker?.stop();
    await temporal?.close();
    await Promise.all(sandboxes.map((s) => s.close()));
    await db.close();
  });

  return {
    config,
    db,
    get client() {
      return client();
    },
    async sandbox(options: SandboxOptions): Promise<Sandbox> {
      const sb = await startSandbox(options);
      sandboxes.push(sb);
      return sb;
    },
    startAccount(
      sb: Sandbox,
      tuning: Partial<AccountSyncInput> = {},
      startOpts: { waitForImport?: boolean } = {},
    ) {
      return startSandboxAccount({ sql: db.sql, config, client: client() }, sb, tuning, startOpts);
    },
  };
}
