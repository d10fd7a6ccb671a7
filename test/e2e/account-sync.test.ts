import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  addInterface,
  getCustomers,
  getStatus,
  setInterfaceActive,
  syncNow,
  updateInterfaceSettings,
} from '../../src/app';
import type { Sandbox } from '../../sandbox';
import { accountSyncWorkflowId } from '../../src/shared';
import { setActiveSignal, statusQuery, syncNowSignal } from '../../src/workflows';
import type { AppEnv } from '../helpers/app-env';
import { useAppEnv } from '../helpers/app-env';
import { capturedLogs, eventually, randomId } from '../helpers/env';
import { historyTexts } from '../helpers/history-text';
import { truthOf, viewOf } from '../helpers/truth';

const workflowIds: string[] = [];

/** The token is a secret: no workflow history and no log line of this file may contain one. */
async function noTokenAnywhere({ ops, tokens }: AppEnv): Promise<void> {
  for (const id of workflowIds) {
    const runs = await collect(ops.temporal.workflow.list({ query: `WorkflowId = '${id}'` }));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      const history = await ops.temporal.workflow.getHandle(id, run.runId).fetchHistory();
      const text = historyTexts(history).join('\n');
      // The scan sees decoded payloads (the account id is only there), so it would see a token too.
      expect(text.includes(`"accountId":"${id.replace('sevdesk-sync:', '')}"`)).toBe(true);
      for (const t of tokens)
        expect(text.includes(t), `token found in history of ${id}/${run.runId}`).toBe(false);
    }
    await ops.temporal.workflow
      .getHandle(id)
      .terminate('test done')
      .catch(() => {});
  }
  const logs = capturedLogs.join('\n');
  expect(capturedLogs.length).toBeGreaterThan(10);
  for (const t of tokens) expect(logs.includes(t)).toBe(false);
}

const env = useAppEnv({ overlapSeconds: 300, beforeClose: noTokenAnywhere });
const { tokens } = env;
const sandbox = (seed: number, invoices = 200) => env.sandbox(seed, invoices);

async function view(accountId: string) {
  const status = await getStatus(env.ops, accountId);
  return viewOf(await getCustomers(env.ops, accountId), status.unassigned);
}

async function add(accountId: string, sb: Sandbox, extra: Partial<Parameters<typeof addInterface>[1]> = {}) {
  workflowIds.push(accountSyncWorkflowId(accountId));
  await addInterface(env.ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 2, ...extra });
}

/** A new account on a new sandbox, synced once; and a contact of it with an e-mail address. */
async function syncedAccount(
  seed: number,
  invoices: number,
  extra: Partial<Parameters<typeof addInterface>[1]> = {},
) {
  const sb = await sandbox(seed, invoices);
  const accountId = randomId('acct');
  await add(accountId, sb, extra);
  await syncNow(env.ops, accountId, true);
  const withEmail = [...sb.store.contacts()].find((c) =>
    sb.store.communicationWays(c.id).some((w) => w.type === 'EMAIL'),
  )!;
  return { sb, accountId, withEmail };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('account sync on real Temporal, PostgreSQL and the sandbox', () => {
  it('adding an interface syncs every invoice to the right customer with exact values and statuses', async () => {
    const { sb, accountId } = await syncedAccount(42, 300);
    const truth = truthOf(sb.store);
    expect(Object.keys(truth.customers).length).toBeGreaterThan(10);
    expect(truth.unassigned.length).toBeGreaterThan(0);
    expect(await view(accountId)).toEqual(truth);
    const status = await getStatus(env.ops, accountId);
    expect(status).toMatchObject({ account: accountId, active: true, error: null });
    expect(status.unassigned.every((u) => u.reason.includes('no e-mail'))).toBe(true);
  });

  it('shows a new invoice, payments, a cancellation, drafts and a changed e-mail after sync-now and after the interval', async () => {
    const { sb, accountId, withEmail } = await syncedAccount(7, 120);
    const check = async () => expect(await view(accountId)).toEqual(truthOf(sb.store));

    const fresh = sb.store.addInvoice({ contactId: withEmail.id, sumNet: '100.10', taxRate: 19 });
    await syncNow(env.ops, accountId, true);
    await check();
    sb.store.payInvoice(fresh.id, '50.05');
    await syncNow(env.ops, accountId, true);
    await check();
    expect(sb.store.getInvoice(fresh.id)?.status).toBe('750');
    sb.store.payInvoice(fresh.id);
    await syncNow(env.ops, accountId, true);
    await check();
    const other = sb.store.addInvoice({ contactId: withEmail.id, sumNet: '10' });
    await syncNow(env.ops, accountId, true);
    sb.store.cancelInvoice(other.id);
    await syncNow(env.ops, accountId, true);
    await check();
    const draft = sb.store.addInvoice({ contactId: withEmail.id, status: '100', sumNet: '999' });
    await syncNow(env.ops, accountId, true);
    await check();
    sb.store.deleteInvoice(draft.id);
    await syncNow(env.ops, accountId, true);
    await check();
    const newEmail = `Neu.${randomId('x')}@Beispiel.de`;
    sb.store.setContactEmail(withEmail.id, newEmail);
    await syncNow(env.ops, accountId, true);
    await check();

    // Without sync-now: the interval (2 s) picks it up.
    const late = sb.store.addInvoice({ contactId: withEmail.id, sumNet: '33.33', taxRate: 7 });
    await eventually(
      async () => isDeepStrictEqual(await view(accountId), truthOf(sb.store)),
      20_000,
      'interval sync',
    );
    const lateLine = `${late.invoiceNumber}:open:35.66:0.00`; // 33.33 net at 7 %, nothing paid
    expect((await view(accountId)).customers[newEmail.toLowerCase()]?.list).toContain(lateLine);
  });

  it('deactivated: no request reaches sevDesk; a new token, then activation catches up; repeated messages change nothing', async () => {
    const { sb, accountId, withEmail } = await syncedAccount(11, 80);
    await setInterfaceActive(env.ops, accountId, false);
    await setInterfaceActive(env.ops, accountId, false);
    const before = sb.requests.count();
    sb.store.addInvoice({ contactId: withEmail.id, sumNet: '500' });
    // Two of its 2 s intervals pass (a witness account on the same worker syncs twice meanwhile).
    await env.cyclesPass(2, 2);
    expect(sb.requests.count()).toBe(before);
    expect((await getStatus(env.ops, accountId)).state).toBe('paused');
    await expect(syncNow(env.ops, accountId, true)).rejects.toThrow(/deactivated/);

    const newToken = 'abcdef0123456789abcdef0123456789';
    tokens.push(newToken);
    sb.setToken(newToken);
    await updateInterfaceSettings(env.ops, { accountId, token: newToken });
    expect(sb.requests.count()).toBe(before + 1); // the token check, and nothing else
    await setInterfaceActive(env.ops, accountId, true);
    await setInterfaceActive(env.ops, accountId, true);
    await eventually(
      async () => isDeepStrictEqual(await view(accountId), truthOf(sb.store)),
      20_000,
      'catch-up',
    );
    const status = await getStatus(env.ops, accountId);
    expect(status).toMatchObject({ active: true, error: null });
  });

  it('an invalid token gives state error within one cycle, a clear message, and at most 3 requests', async () => {
    const { sb, accountId } = await syncedAccount(13, 30);
    sb.setToken('0123456789abcdef0123456789abcdef');
    tokens.push('0123456789abcdef0123456789abcdef');
    const before = sb.requests.count();
    await env.ops.temporal.workflow
      .getHandle(accountSyncWorkflowId(accountId))
      .signal(syncNowSignal, { reason: 'test' });
    const status = await eventually(
      async () => {
        const s = await getStatus(env.ops, accountId);
        return s.state === 'error' ? s : undefined;
      },
      20_000,
      'state error',
    );
    expect(status.error?.type).toBe('SevdeskInvalidTokenError');
    expect(status.error?.message).toMatch(/rejected the API token/);
    expect(status.error?.message).toMatch(/interface update --account/);
    await env.cyclesPass(2, 2); // two more of its intervals pass (a witness syncs twice): blocked, no calls
    expect(sb.requests.count() - before).toBeLessThanOrEqual(3);
  });

  it('a forced continue-as-new keeps the state and loses no message', async () => {
    const { sb, accountId, withEmail } = await syncedAccount(17, 40, {
      intervalSeconds: 1,
      tuning: { maxCyclesPerRun: 1 },
    });
    const handle = env.ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
    for (let i = 0; i < 6; i++) {
      sb.store.addInvoice({ contactId: withEmail.id, sumNet: `${i + 1}.01` });
      const { runId } = await handle.describe();
      await handle.signal(syncNowSignal, { reason: `burst ${i}` });
      // One message per run: the next one goes out once this run has continued as new.
      await eventually(
        async () => (await handle.describe()).runId !== runId,
        20_000,
        `the run after burst ${i}`,
      );
    }
    // The last message must survive whatever continue-as-new is in flight.
    await handle.signal(setActiveSignal, { active: false });
    await eventually(async () => (await handle.query(statusQuery)).state === 'paused', 20_000, 'paused');
    await setInterfaceActive(env.ops, accountId, true);
    await syncNow(env.ops, accountId, true);
    expect(await view(accountId)).toEqual(truthOf(sb.store));
  });

  it('records a malformed invoice as an issue while the rest of the page goes on; retries 429 and 500 politely', async () => {
    const { sb, accountId, withEmail } = await syncedAccount(31, 60);
    for (let i = 0; i < 3; i++) sb.store.addInvoice({ contactId: withEmail.id, sumNet: `${10 + i}` });
    sb.faults.add({ kind: 'malformed', field: 'sumGross', path: '/Invoice' });
    const counts = await syncNow(env.ops, accountId, true);
    expect(counts?.invalid).toBe(1);
    const status = await getStatus(env.ops, accountId);
    expect(status.invalid).toHaveLength(1);
    expect(status.invalid[0]?.reason).toMatch(/sumGross/);
    // The other invoices of that page arrived; the malformed one is the only one missing.
    const truth = truthOf(sb.store);
    const shown = await view(accountId);
    const missing = Object.values(truth.customers)
      .flatMap((c) => c.list)
      .filter((x) => !Object.values(shown.customers).some((c) => c.list.includes(x)));
    expect(missing).toHaveLength(1);

    sb.faults.add({ kind: 'rate-limit', retryAfterSeconds: 1, times: 2, path: '/Invoice' });
    sb.faults.add({ kind: 'server-error-html', times: 1, path: '/Invoice' });
    await syncNow(env.ops, accountId, true);
    expect(await view(accountId)).toEqual(truthOf(sb.store));
    expect((await getStatus(env.ops, accountId)).invalid).toEqual([]);
  });

  it('keeps two accounts apart', async () => {
    const [a, b] = [await sandbox(21, 60), await sandbox(22, 60)];
    const [ida, idb] = [randomId('acct'), randomId('acct')];
    await add(ida, a);
    await add(idb, b);
    await Promise.all([syncNow(env.ops, ida, true), syncNow(env.ops, idb, true)]);
    expect(await view(ida)).toEqual(truthOf(a.store));
    expect(await view(idb)).toEqual(truthOf(b.store));
  });
});
