// An account with a sevDesk interface pointing at a sandbox, set up the way the app layer stores it, and its
// account workflow started on a test worker: for the workflow tests that drive messages directly.
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config';
import { requireSecretKey } from '../../src/config';
import type { Sql } from '../../src/db/client';
import { ensureAccount, insertInterface } from '../../src/db/interfaces';
import type { Sandbox } from '../../src/sandbox';
import { encryptToken, keyringOf } from '../../src/secrets';
import { accountSyncWorkflowId } from '../../src/shared';
import type { AccountSyncInput } from '../../src/workflows';
import { accountSyncWorkflow, statusQuery } from '../../src/workflows';
import { eventually, randomId } from './env';

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
