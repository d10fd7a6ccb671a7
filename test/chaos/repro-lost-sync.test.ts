import { afterEach, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app';
import { connectApp, startImport, syncNow } from '../../src/app';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { accountSyncWorkflowId } from '../../src/shared';
import { addSandboxInterface, importSettled } from '../helpers/app-env';
import { eventually, randomId, testConfig } from '../helpers/env';
import { spawnWorkerProcess } from '../helpers/worker-process';

// Found by the fault campaign (worker-kill recoveries of 88-122 s): when the worker dies while an account's
// incremental sync or an import's contact load (beginImport) is in flight, that account does nothing
// (and a waiting `sync-now` hangs) until Temporal gives up on the lost attempt. syncAccount, beginImport
// and finishImport have a 2-minute heartbeat timeout; syncAccount heartbeats only after a page and the
// other two never do. An import page, by contrast, is retried 20 s after a crash.

const RECOVERY_BOUND_MS = 60_000;

describe('a worker crash', () => {
  let sb: Sandbox | undefined;
  let ops: AppDeps | undefined;
  let accountId = '';
  const cleanups: (() => void)[] = [];

  afterEach(async () => {
    await ops?.temporal.workflow
      .getHandle(accountSyncWorkflowId(accountId))
      .terminate()
      .catch(() => {});
    for (const cleanup of cleanups.splice(0)) cleanup();
    await sb?.close();
    await ops?.close();
  });

  /** An account after its initial import, and a worker whose next sevDesk request never gets an answer. */
  async function accountWithHungWorker(seed: number, hangPath: string) {
    const cfg = testConfig();
    sb = await startSandbox({ seed, data: { invoices: 300 } });
    accountId = randomId('acct');
    const first = spawnWorkerProcess(cfg);
    cleanups.push(() => first.child.kill('SIGKILL'));
    ops = await connectApp(cfg);
    await addSandboxInterface(ops, accountId, sb);
    await importSettled(ops, accountId, 120_000, 'initial import done');
    sb.faults.add({ kind: 'hang', path: hangPath });
    return {
      /** Once a request hangs: SIGKILL, faults off, a new worker; returns the moment of the kill. */
      crash: async () => {
        await eventually(
          async () => sb!.requests.entries().some((e) => e.status === 0),
          30_000,
          'a hung request',
        );
        first.child.kill('SIGKILL');
        await first.exited;
        const killedAt = Date.now();
        sb!.faults.clear();
        const second = spawnWorkerProcess(cfg);
        cleanups.push(() => second.child.kill('SIGKILL'));
        return killedAt;
      },
    };
  }

  /** Milliseconds, or why there is no number within the bound (never an unhandled rejection later). */
  const within = (p: Promise<number>): Promise<number | string> =>
    Promise.race([
      p.catch((err: unknown) => `failed: ${String(err)}`),
      new Promise<string>((r) =>
        setTimeout(() => r(`nothing within ${RECOVERY_BOUND_MS} ms`), RECOVERY_BOUND_MS),
      ),
    ]);

  it(
    `during an incremental sync delays the account's next sync by less than ${RECOVERY_BOUND_MS / 1000} s`,
    { timeout: 240_000 },
    async () => {
      const { crash } = await accountWithHungWorker(707, '/Contact');
      await syncNow(ops!, accountId, false);
      const killedAt = await crash();
      const served = await within(syncNow(ops!, accountId, true).then(() => Date.now() - killedAt));
      expect(served, 'ms from the kill until a sync-now was served').toBeTypeOf('number');
    },
  );

  it(
    `while an import loads the contacts delays the import by less than ${RECOVERY_BOUND_MS / 1000} s`,
    { timeout: 240_000 },
    async () => {
      const { crash } = await accountWithHungWorker(708, '/Contact');
      const imp = await startImport(ops!, accountId, { dryRun: false });
      const killedAt = await crash();
      const paged = await within(
        eventually(
          async () => {
            const [cp] = await ops!.db.sql<{ pages: number }[]>`
              select pages from import_checkpoints where account_id = ${accountId} and import_id = ${imp.importId}`;
            return (cp?.pages ?? 0) > 0 ? Date.now() - killedAt : undefined;
          },
          RECOVERY_BOUND_MS + 5000,
          'a first import page',
        ),
      );
      expect(paged, 'ms from the kill until the import wrote its first page').toBeTypeOf('number');
    },
  );
});
