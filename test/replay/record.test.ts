// Records the histories that replay.test.ts replays; skipped unless RECORD_HISTORIES=1. Re-record with:
//
//   RECORD_HISTORIES=1 npx vitest run --project integration test/replay/record.test.ts
//
// Re-record only on purpose: after a workflow change that running workflows will never meet (otherwise guard
// the change with patched() and keep the old histories, adding new ones beside them if useful).
// Each scenario drives a real worker, the sandbox and the use cases of src/app, then
// saves every run of the workflow's continue-as-new chain as histories/<scenario>.run-<n>.json.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { describe, expect, it } from 'vitest';
import {
  setInterfaceActive,
  startImport,
  syncNow,
  updateInterfaceSettings,
  waitForImport,
} from '../../src/app';
import type { Sandbox } from '../../src/sandbox';
import type { AccountStatus } from '../../src/shared';
import { accountSyncWorkflowId } from '../../src/shared';
import { statusQuery } from '../../src/workflows';
import type { AppEnv } from '../helpers/app-env';
import { addSandboxInterface, useAppEnv } from '../helpers/app-env';
import { capturedLogs, eventually, randomId } from '../helpers/env';
import { historyToJson } from './history-json';
import type { Scenario } from './saved-histories';
import { HISTORIES_DIR, historyFileName, loadHistory } from './saved-histories';

/** Set in the describe below: its hooks run only when recording. */
let env: AppEnv;

async function add(sb: Sandbox, extra: Parameters<typeof addSandboxInterface>[3]) {
  const accountId = randomId('acct-rec');
  await addSandboxInterface(env.ops, accountId, sb, extra);
  return { accountId, handle: env.ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId)) };
}

function statusReaches(handle: WorkflowHandle, ok: (s: AccountStatus) => boolean, what: string) {
  return eventually(async () => ok(await handle.query(statusQuery)), 30_000, what);
}

/** Every run of the workflow, first to current, following continue-as-new. */
async function runsOf(client: Client, workflowId: string): Promise<History[]> {
  const latest = await client.workflow.getHandle(workflowId).fetchHistory();
  let runId = latest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId ?? undefined;
  if (!runId) throw new Error(`no first run id in the history of ${workflowId}`);
  const runs: History[] = [];
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    runId =
      history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (!runId) return runs;
  }
}

/** Every string in the JSON, plus what the base64 ones (payload data) decode to. */
function textsOf(json: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      out.push(v);
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(v)) out.push(Buffer.from(v, 'base64').toString('utf8'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(json));
  return out;
}

function save(scenario: Scenario, runs: History[], accountId: string): void {
  for (const f of readdirSync(HISTORIES_DIR)) {
    if (f.startsWith(`${scenario}.run-`)) rmSync(path.join(HISTORIES_DIR, f));
  }
  runs.forEach((history, i) => {
    const file = historyFileName(scenario, i + 1);
    const json = historyToJson(history);
    const texts = textsOf(json);
    // The scan finds the account id inside the (base64) input payload, so it would find a token there too.
    expect(texts.some((t) => t.includes(accountId))).toBe(true);
    for (const token of env.tokens)
      expect(
        texts.some((t) => t.includes(token)),
        `token in ${file}`,
      ).toBe(false);
    writeFileSync(path.join(HISTORIES_DIR, file), `${json}\n`);
    expect(loadHistory(file).history.events?.length).toBe(history.events?.length);
  });
}

describe.skipIf(!process.env.RECORD_HISTORIES)('record histories for the replay tests', () => {
  env = useAppEnv({
    beforeClose: async ({ tokens }) => {
      const logs = capturedLogs.join('\n');
      for (const token of tokens) expect(logs.includes(token)).toBe(false);
    },
  });
  const sandbox = (seed: number, invoices: number) => env.sandbox(seed, invoices);

  it('account-sync-lifecycle: update, signals, deactivate, settings, activate, a fired timer, continue-as-new', async () => {
    const sb = await sandbox(101, 60);
    // Five loop iterations per run, not two: enough for the first run to see the initial import, the update and
    // the signals before it continues as new (while deactivated); the second gets settings, activation, timers.
    const { accountId, handle } = await add(sb, { tuning: { maxCyclesPerRun: 5 } });
    await statusReaches(handle, (s) => s.cycles >= 1, 'first cycle');
    await syncNow(env.ops, accountId, true);
    await syncNow(env.ops, accountId, false);
    await statusReaches(handle, (s) => s.cycles >= 3, 'sync-now by signal');
    await setInterfaceActive(env.ops, accountId, false);
    await updateInterfaceSettings(env.ops, { accountId, intervalSeconds: 1 });
    // From here the 1 s timer drives the cycles; wait until the second run has continued as new too.
    await setInterfaceActive(env.ops, accountId, true);
    const runs = await eventually(
      async () => {
        const all = await runsOf(env.ops.temporal, handle.workflowId);
        return all.length >= 3 ? all.slice(0, 2) : undefined;
      },
      60_000,
      'two finished runs',
    );
    await handle.terminate('histories recorded');
    save('account-sync-lifecycle', runs, accountId);
  });

  it('account-sync-invalid-token: a rejected token blocks the interface, a new one recovers it', async () => {
    const sb = await sandbox(102, 30);
    const { accountId, handle } = await add(sb, {});
    await statusReaches(handle, (s) => s.cycles >= 1, 'first cycle');
    const newToken = randomBytes(16).toString('hex');
    env.tokens.push(newToken);
    sb.setToken(newToken);
    await syncNow(env.ops, accountId, false);
    await statusReaches(handle, (s) => s.state === 'error', 'state error');
    await setInterfaceActive(env.ops, accountId, false);
    await updateInterfaceSettings(env.ops, { accountId, token: newToken });
    await setInterfaceActive(env.ops, accountId, true);
    await statusReaches(handle, (s) => s.cycles >= 2 && s.state === 'idle' && !s.error, 'recovery');
    await handle.terminate('histories recorded');
    save('account-sync-invalid-token', await runsOf(env.ops.temporal, handle.workflowId), accountId);
  });

  it('account-sync-import and bulk-import: an import of 2,500 invoices, one page per run', async () => {
    const sb = await sandbox(103, 2500);
    const { accountId, handle } = await add(sb, { tuning: { importPagesPerRun: 1 } });
    await statusReaches(handle, (s) => s.cycles >= 1, 'first cycle');
    const started = await startImport(env.ops, accountId, { dryRun: false });
    const stats = await waitForImport(env.ops, started.workflowId, () => {});
    expect(stats.invoices).toBeGreaterThan(2000);
    // The import's finish signal makes the parent catch up once.
    await statusReaches(
      handle,
      (s) => s.import?.state === 'done' && s.cycles >= 2 && s.state === 'idle',
      'catch-up after the import',
    );
    await handle.terminate('histories recorded');
    save('account-sync-import', await runsOf(env.ops.temporal, handle.workflowId), accountId);
    const importRuns = await runsOf(env.ops.temporal, started.workflowId);
    expect(importRuns.length).toBe(3);
    save('bulk-import', importRuns, accountId);
  });
});
