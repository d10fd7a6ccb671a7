// Records a new set of the histories that replay.test.ts replays; skipped unless RECORD_HISTORIES=1:
//
//   npm run test:record-histories
//
// Record a set with every change of the workflow code (guard.test.ts fails until there is one): the set shows
// what workflows started under that code do, and every later version must still replay it. A recording adds
// a set and never touches an older one (saved-histories.ts has the naming); a set is deleted only together
// with the last code able to replay it, i.e. when a patch is finally removed (docs/deploys.md).
// Each scenario drives a real worker, the sandbox and the use cases of src/app, then saves every run of the
// workflow's continue-as-new chain. The manifest that makes the set complete is written after the last
// scenario; a recording that failed half-way leaves files without one, which the next recording replaces.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  setInterfaceActive,
  startImport,
  startReconcile,
  syncNow,
  updateInterfaceSettings,
  waitForImport,
} from '../../src/app';
import type { Sandbox } from '../../sandbox';
import { addWebhook, enableWebhook, listWebhooks } from '../../src/app/webhooks';
import { DEFAULT_EVENTS } from '../../src/config';
import { deleteWebhookEndpoint } from '../../src/db/webhooks';
import { webhookWorkflowId } from '../../src/webhooks/settings';
import { orderProblem, startReceiver } from '../webhooks/receiver';
import type { AccountStatus } from '../../src/shared';
import { accountSyncWorkflowId } from '../../src/shared';
import type { AccountSyncInput } from '../../src/workflows';
import { statusQuery } from '../../src/workflows';
import type { AppEnv } from '../helpers/app-env';
import { addSandboxInterface, useAppEnv } from '../helpers/app-env';
import { capturedLogs, eventually, randomId, testConfig } from '../helpers/env';
import { historyToJson } from './history-json';
import type { Scenario, SetManifest } from './saved-histories';
import {
  HISTORIES_DIR,
  SCENARIOS,
  fileSha256,
  historyFileName,
  loadHistory,
  manifestFileName,
  manifestTags,
  nextFreeTag,
  parseHistoryFileName,
} from './saved-histories';
import { workflowCodeFingerprint } from './workflow-code';

/** Set in the describe below: its hooks run only when recording. */
let env: AppEnv;

type AppTuning = NonNullable<NonNullable<Parameters<typeof addSandboxInterface>[3]>['tuning']>;
/** Workflow input fields beyond the app's tuning: `addInterface` passes its tuning into the input whole. */
type Tuning = AppTuning & Partial<Pick<AccountSyncInput, 'openRecheckSeconds' | 'tokenRecheckSeconds'>>;

async function add(sb: Sandbox, tuning: Tuning = {}) {
  const accountId = randomId('acct-rec');
  const appTuning: AppTuning = tuning;
  await addSandboxInterface(env.ops, accountId, sb, { tuning: appTuning });
  return { accountId, handle: env.ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId)) };
}

async function statusReaches(handle: WorkflowHandle, ok: (s: AccountStatus) => boolean, what: string) {
  try {
    return await eventually(async () => ok(await handle.query(statusQuery)), 30_000, what);
  } catch (err) {
    throw new Error(`${String(err)}; status: ${JSON.stringify(await handle.query(statusQuery))}`, {
      cause: err,
    });
  }
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

/** How many events of the history have these attributes (e.g. 'timerFiredEventAttributes'). */
const count = (history: History, attributes: keyof NonNullable<History['events']>[number]) =>
  (history.events ?? []).filter((e) => e[attributes]).length;

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

describe.skipIf(!process.env.RECORD_HISTORIES)('record a history set for the replay tests', () => {
  const today = new Date().toISOString().slice(0, 10);
  const tag = process.env.HISTORY_SET_TAG ?? nextFreeTag(today, manifestTags());
  const fingerprint = workflowCodeFingerprint();
  const saved = new Map<Scenario, string[]>();

  function save(scenario: Scenario, runs: History[], accountId: string): void {
    const files: string[] = [];
    runs.forEach((history, i) => {
      const file = historyFileName(scenario, tag, i + 1);
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
      files.push(file);
    });
    saved.set(scenario, files);
  }

  beforeAll(() => {
    if (manifestTags().includes(tag))
      throw new Error(`a history set ${tag} exists already: sets are never replaced`);
    // Left by a recording of this tag that failed half-way (it wrote no manifest): not a set yet.
    for (const f of readdirSync(HISTORIES_DIR))
      if (parseHistoryFileName(f)?.tag === tag) rmSync(path.join(HISTORIES_DIR, f));
  });

  const config = testConfig();
  env = useAppEnv({
    // Webhook endpoints give up after 3.6 s (instead of 72 h), on a webhook task queue of this recording's own.
    config: {
      ...config,
      events: {
        ...DEFAULT_EVENTS,
        webhookTaskQueue: `${config.taskQueue}-webhooks`,
        webhookGiveUpHours: 0.001,
        webhookTimeoutMs: 1000,
      },
    },
    beforeClose: async ({ tokens }) => {
      const logs = capturedLogs.join('\n');
      for (const token of tokens) expect(logs.includes(token)).toBe(false);
    },
  });

  afterAll(() => {
    const missing = SCENARIOS.filter((s) => !saved.has(s));
    if (missing.length > 0) {
      console.warn(`history set ${tag} is incomplete (${missing.join(', ')}): no manifest written`);
      return;
    }
    if (workflowCodeFingerprint().hash !== fingerprint.hash) {
      console.warn(`the workflow code changed while set ${tag} was recorded: no manifest written`);
      return;
    }
    const files = Object.fromEntries(
      [...saved.values()]
        .flat()
        .sort()
        .map((f) => [f, fileSha256(f)]),
    );
    const manifest: SetManifest = {
      tag,
      recordedAt: new Date().toISOString(),
      workflowCode: fingerprint,
      files,
    };
    writeFileSync(path.join(HISTORIES_DIR, manifestFileName(tag)), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`history set ${tag}: ${Object.keys(files).length} histories`);
  });

  const sandbox = (seed: number, invoices: number) => env.sandbox(seed, invoices);

  it('account-sync-lifecycle: sync-now, signals, deactivate, settings, activate, quick and full cycles, timers, continue-as-new', async () => {
    const sb = await sandbox(101, 60);
    // Five loop iterations per run: the first run sees the initial import, the update and the signals before
    // it continues as new (while deactivated); the second gets settings and activation, the third rests first
    // (short runs: a continued run waits out the interval). Open invoices are re-read every 2 s: those cycles
    // take the regular activity, the others the quick local one.
    const { accountId, handle } = await add(sb, { maxCyclesPerRun: 5, openRecheckSeconds: 2 });
    await statusReaches(handle, (s) => s.cycles >= 1, 'first cycle');
    // A requested cycle: sync-now by update (waits for the cycle), then by signal.
    await syncNow(env.ops, accountId, true);
    await syncNow(env.ops, accountId, false);
    await statusReaches(handle, (s) => s.cycles >= 3, 'sync-now by signal');
    await setInterfaceActive(env.ops, accountId, false);
    await updateInterfaceSettings(env.ops, { accountId, intervalSeconds: 1 });
    // From here the 1 s timer drives the cycles; wait until the third run has continued as new too.
    await setInterfaceActive(env.ops, accountId, true);
    const runs = await eventually(
      async () => {
        const all = await runsOf(env.ops.temporal, handle.workflowId);
        return all.length >= 4 ? all.slice(0, 3) : undefined;
      },
      60_000,
      'three finished runs',
    );
    await handle.terminate('histories recorded');
    save('account-sync-lifecycle', runs, accountId);
  });

  it('account-sync-invalid-token: a rejected token is re-checked on its schedule, heals, and a new one recovers it', async () => {
    const sb = await sandbox(102, 30);
    const storedToken = sb.token;
    // Re-checks after 1 s, then every 2 s (instead of 1 h, 6 h, daily).
    const { accountId, handle } = await add(sb, { tokenRecheckSeconds: [1, 2] });
    await statusReaches(handle, (s) => s.cycles >= 1, 'first cycle');
    const otherToken = randomBytes(16).toString('hex');
    env.tokens.push(otherToken);
    sb.setToken(otherToken);
    await syncNow(env.ops, accountId, false);
    await statusReaches(handle, (s) => s.state === 'error', 'state error');
    // A re-check that is still rejected (its timer fired, the cycle failed again), then sevDesk takes the
    // stored token again and the next re-check unblocks the account by itself.
    await eventually(
      async () => count(await handle.fetchHistory(), 'timerFiredEventAttributes') >= 1 || undefined,
      30_000,
      'a re-check timer',
    );
    sb.setToken(storedToken);
    await statusReaches(
      handle,
      (s) => s.state === 'idle' && !s.error && s.cycles >= 2,
      'healed by a re-check',
    );
    // Rejected again; this time a new token in the settings recovers it (the re-check wait is cut short).
    sb.setToken(otherToken);
    await syncNow(env.ops, accountId, false);
    await statusReaches(handle, (s) => s.state === 'error', 'state error again');
    await setInterfaceActive(env.ops, accountId, false);
    await updateInterfaceSettings(env.ops, { accountId, token: otherToken });
    await setInterfaceActive(env.ops, accountId, true);
    await statusReaches(handle, (s) => s.cycles >= 3 && s.state === 'idle' && !s.error, 'recovery');
    await handle.terminate('histories recorded');
    const runs = await runsOf(env.ops.temporal, handle.workflowId);
    expect(count(runs[0]!, 'timerFiredEventAttributes')).toBeGreaterThanOrEqual(2);
    save('account-sync-invalid-token', runs, accountId);
  });

  it('account-sync-import and bulk-import: a windowed import of 2,500 invoices, one page per run', async () => {
    const sb = await sandbox(103, 2500);
    const { accountId, handle } = await add(sb, { importPagesPerRun: 1 });
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

  it('account-sync-walks, bulk-reconcile-held, bulk-import-stopped: a held reconcile sweep, an import that stops', async () => {
    // Two sandboxes of the same company: switched to the small one, most invoices seem gone at once (what
    // another login's token looks like), so the reconcile sweep is held for an operator.
    const a = await sandbox(104, 120);
    const b = await sandbox(105, 20);
    const { accountId, handle } = await add(a);
    await statusReaches(handle, (s) => s.cycles >= 1 && s.import?.state === 'done', 'first import and cycle');
    await setInterfaceActive(env.ops, accountId, false);
    await updateInterfaceSettings(env.ops, { accountId, baseUrl: b.url, token: b.token });
    await setInterfaceActive(env.ops, accountId, true);
    await statusReaches(handle, (s) => s.cycles >= 2 && s.state === 'idle', 'a cycle on the other sandbox');
    const { cycles } = await handle.query(statusQuery);
    const reconcile = await startReconcile(env.ops, accountId);
    const swept = await waitForImport(env.ops, reconcile.workflowId, () => {});
    expect(swept.sweep?.skipped).toMatch(/^held/);
    // The walk's end signal makes the account catch up once.
    await statusReaches(
      handle,
      (s) => s.cycles > cycles && s.state === 'idle',
      'catch-up after the reconcile',
    );
    // The walk's contact load is refused once: a fatal failure, so the walk stops (failImport) at once.
    b.faults.add({ kind: 'invalid-token', path: '/Contact', times: 1 });
    const stopped = await startImport(env.ops, accountId, { dryRun: false });
    await statusReaches(handle, (s) => s.import?.state === 'error' && s.state === 'idle', 'import stopped');
    await handle.terminate('histories recorded');
    save('account-sync-walks', await runsOf(env.ops.temporal, handle.workflowId), accountId);
    save('bulk-reconcile-held', await runsOf(env.ops.temporal, reconcile.workflowId), accountId);
    save('bulk-import-stopped', await runsOf(env.ops.temporal, stopped.workflowId), accountId);
  });

  it('webhook-delivery: failures and retry timers, disabled after the give-up time, enabled again, continue-as-new, removed', async () => {
    const receiver = await startReceiver();
    try {
      const accountId = randomId('acct-rec-wh');
      let up = false;
      receiver.behave('/hook', () => (up ? 200 : 500));
      // Retries after 200 and 400 ms, runs of 1.5 s, three runs per execution.
      const ep = await addWebhook(env.ops, {
        url: receiver.url('/hook'),
        accountId,
        tuning: { retryScheduleMs: [200, 400], runBudgetMs: 1500, maxRunsPerExecution: 3 },
      });
      env.tokens.push(ep.secret);
      receiver.secret('/hook', ep.secret);
      const emit = (n: number, from: number) =>
        env.ops.db.sql`select sevsync_emit(${accountId}, ${JSON.stringify(
          Array.from({ length: n }, (_, i) => ({ type: 'invoice.created', data: { n: from + i } })),
        )}::jsonb)`;
      const view = async () => (await listWebhooks(env.ops)).find((w) => w.id === ep.id)!;
      await emit(3, 1);
      await eventually(async () => (await view()).state === 'disabled', 30_000, 'the endpoint disabled');
      up = true;
      await enableWebhook(env.ops, ep.id);
      const seqs = () =>
        receiver
          .received('/hook')
          .filter((r) => r.status === 200)
          .map((r) => r.event!.seq);
      await eventually(async () => seqs().includes(3), 30_000, 'delivered after enable');
      await emit(2, 4);
      await eventually(async () => seqs().includes(5), 30_000, 'new events delivered');
      const workflowId = webhookWorkflowId(ep.id);
      await eventually(
        async () => (await runsOf(env.ops.temporal, workflowId)).length >= 3,
        60_000,
        'two runs continued as new',
      );
      // Removed from the database only: the next delivery run finds it gone and the workflow ends by itself.
      await deleteWebhookEndpoint(env.ops.db.sql, ep.id);
      await env.ops.temporal.workflow.getHandle(workflowId).result();
      expect(orderProblem(seqs(), 1, 5)).toBeUndefined();
      save('webhook-delivery', await runsOf(env.ops.temporal, workflowId), ep.id);
    } finally {
      await receiver.close();
    }
  });
});
