import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppDeps } from '../../src/app';
import { addInterface, connectApp, getStatus, syncNow } from '../../src/app';
import { startSandbox } from '../../sandbox';
import { accountSyncWorkflowId } from '../../src/shared';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/shared/search-attributes';
import { WorkerStartup } from '../../src/worker/main';
import type { NamespaceServices } from '../../src/worker/namespace';
import { NamespaceSetupError } from '../../src/worker/namespace-problems';
import { startOpsServer } from '../../src/worker/ops-server';
import { statusQuery } from '../../src/workflows';
import type { BareTemporal } from '../helpers/bare-temporal';
import { startBareTemporal } from '../helpers/bare-temporal';
import { capturedLogs, eventually, randomId, startWorker, TEST_SECRET_KEY, testConfig } from '../helpers/env';
import { spawnWorkerProcess } from '../helpers/worker-process';

// A Temporal server an operator started themselves, without sevsync's search attributes. Before the worker
// checked its namespace, the first syncs worked and then every workflow task that records an account's state
// failed with BadSearchAttributes, retried for ever, and `sync-now --wait` failed.

const REFUSED = 'sevsync-refused';
const WRONG_TYPE = 'sevsync-wrong-type';
const DRIFT = 'sevsync-drift';
const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType
const TEXT = 1;
const { account: ACCOUNT_SA, state: STATE_SA } = SEARCH_ATTRIBUTE_NAMES;

let bare: BareTemporal;
/** The test config on the bare server, in one of its namespaces (`default` unless named). */
const onBare = (temporalNamespace?: string) =>
  testConfig({ temporalAddress: bare.address, ...(temporalNamespace ? { temporalNamespace } : {}) });

beforeAll(async () => {
  bare = await startBareTemporal({ namespaces: [REFUSED, WRONG_TYPE, DRIFT] });
  // What an earlier setup may have left: the state attribute registered as Text.
  await bare.connection.operatorService.addSearchAttributes({
    namespace: WRONG_TYPE,
    searchAttributes: { [STATE_SA]: TEXT },
  });
});
afterAll(async () => {
  await bare?.stop();
});

const custom = async (namespace: string) =>
  (await bare.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};

const get = async (port: number, p: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: JSON.parse(await res.text()) as Record<string, unknown> };
};

const permissionDenied = () =>
  Object.assign(new Error('7 PERMISSION_DENIED: Request unauthorized.'), { code: 7 });

/** The bare server's own services, with registration refused while `refuse()` says so. */
function refusingServices(refuse: () => boolean, onAdd?: () => Promise<void>): NamespaceServices {
  const op = bare.connection.operatorService;
  return {
    workflowService: bare.connection.workflowService,
    operatorService: {
      listSearchAttributes: (req) => op.listSearchAttributes(req),
      addSearchAttributes: async (req) => {
        await onAdd?.();
        if (refuse()) throw permissionDenied();
        return op.addSearchAttributes(req);
      },
    },
  };
}

// Each test starts workers against the bare server: a minute each at most.
describe('a Temporal namespace without the search attributes', { timeout: 60_000 }, () => {
  it(
    'the worker registers them at start; the account workflow then syncs with no failed workflow task',
    { timeout: 120_000 },
    async () => {
      expect(await custom('default')).not.toHaveProperty(ACCOUNT_SA);
      expect(await custom('default')).not.toHaveProperty(STATE_SA);
      const config = onBare();
      const worker = await startWorker(config);
      const sb = await startSandbox({ seed: 4711, data: { invoices: 40 } });
      let app: AppDeps | undefined;
      try {
        expect(await custom('default')).toMatchObject({ [ACCOUNT_SA]: KEYWORD, [STATE_SA]: KEYWORD });
        expect(capturedLogs.join('\n')).toContain(
          `registered the search attributes ${ACCOUNT_SA}, ${STATE_SA} in Temporal namespace default`,
        );

        app = await connectApp(config);
        const accountId = randomId('bare');
        await addInterface(app, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
        await eventually(
          async () => {
            const s = await getStatus(app!, accountId);
            return s.import?.state === 'done' && s.state === 'idle';
          },
          90_000,
          'the first import',
        );
        // `sync-now --wait` is a Workflow Update: it failed while the state's upsert failed the task.
        sb.store.addInvoice({ contactId: [...sb.store.contacts()][0]!.id, sumNet: '100', taxRate: 19 });
        const first = await syncNow(app, accountId, true);
        expect(first?.fetched).toBeGreaterThanOrEqual(1);
        await syncNow(app, accountId, true);
        const handle = app.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
        const status = await handle.query(statusQuery);
        expect(status.state).toBe('idle');
        expect(status.error).toBeNull();
        expect(status.cycles).toBeGreaterThanOrEqual(2);
        expect(status.import?.state).toBe('done');
        const desc = await handle.describe();
        expect(desc.searchAttributes[ACCOUNT_SA]).toEqual([accountId]);
        expect(desc.searchAttributes[STATE_SA]).toEqual(['idle']);
        for (const workflowId of [accountSyncWorkflowId(accountId), status.import!.workflowId]) {
          const history = await app.temporal.workflow.getHandle(workflowId).fetchHistory();
          const failed = history.events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? [];
          expect(
            failed.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message),
            workflowId,
          ).toEqual([]);
          if (workflowId === accountSyncWorkflowId(accountId)) {
            // The upserts the bare namespace used to fail are there, each completed.
            const upserts = history.events?.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes);
            expect(upserts?.length ?? 0).toBeGreaterThanOrEqual(1);
          }
        }
        expect(capturedLogs.join('\n')).not.toContain('BadSearchAttributes');
      } finally {
        await app?.close();
        await sb.close();
        await worker.stop();
      }
    },
  );

  it('refuses to start where it may not register them: the commands in the error, the reason on /readyz', async () => {
    const config = onBare(REFUSED);
    let asked!: () => void;
    const addAsked = new Promise<void>((r) => (asked = r));
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    const services = refusingServices(
      () => true,
      async () => {
        asked();
        await answered;
      },
    );
    const startup = new WorkerStartup(REFUSED);
    const ops = await startOpsServer(startup, { port: 0, host: '127.0.0.1' });
    try {
      const started = startup.start({
        config,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        namespaceServices: services,
      });
      const outcome = started.then(
        () => undefined,
        (err: unknown) => err,
      );
      await addAsked;
      // While it registers: alive, not ready, and why.
      expect((await get(ops.port, '/healthz')).status).toBe(200);
      const pending = await get(ops.port, '/readyz');
      expect(pending.status).toBe(503);
      expect(pending.body).toEqual({
        ready: false,
        worker: 'INITIALIZED',
        reason: `registering the search attributes ${ACCOUNT_SA}, ${STATE_SA} in Temporal namespace ${REFUSED}`,
      });

      answer();
      const err = await outcome;
      expect(err).toBeInstanceOf(NamespaceSetupError);
      const e = err as NamespaceSetupError;
      expect(e.type).toBe('search_attribute_missing');
      expect(e.message).toContain('PERMISSION_DENIED: Request unauthorized.');
      for (const name of [ACCOUNT_SA, STATE_SA])
        expect(e.message).toContain(
          `temporal operator search-attribute create --address ${bare.address} --namespace ${REFUSED} --name ${name} --type Keyword`,
        );
      expect(e.message).toContain(
        `tcld namespace search-attributes add --namespace ${REFUSED} --search-attribute ${ACCOUNT_SA}=Keyword --search-attribute ${STATE_SA}=Keyword`,
      );

      const failed = await get(ops.port, '/readyz');
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ ready: false, worker: 'FAILED', reason: e.summary });
      expect(e.summary).toBe(
        `Temporal namespace ${REFUSED} lacks the search attributes ${ACCOUNT_SA}, ${STATE_SA} and the worker ` +
          'could not register them (PERMISSION_DENIED: Request unauthorized.)',
      );
      // Nothing registered, and nothing polls the task queue.
      expect(await custom(REFUSED)).toEqual({});
      const queue = await bare.connection.workflowService.describeTaskQueue({
        namespace: REFUSED,
        taskQueue: { name: config.taskQueue },
        taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
      });
      expect(queue.pollers ?? []).toEqual([]);
    } finally {
      await ops.close();
    }
  });

  it('`sevsync worker` exits non-zero on an attribute registered with another type, saying so', async () => {
    const config = onBare(WRONG_TYPE);
    const w = spawnWorkerProcess(config);
    const code = await Promise.race([
      w.exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 45 s'), 45_000).unref()),
    ]);
    if (code !== 1) w.child.kill('SIGKILL');
    const out = w.output();
    expect(code, out.slice(-3000)).toBe(1);
    expect(out).toContain(
      `error: Temporal namespace ${WRONG_TYPE} has a search attribute of the wrong type: ` +
        `${STATE_SA} is registered as Text, sevsync needs Keyword`,
    );
    expect(out).toContain(
      `temporal operator search-attribute remove --address ${bare.address} --namespace ${WRONG_TYPE} --name ${STATE_SA} --yes`,
    );
    expect(out).toContain(
      `temporal operator search-attribute create --address ${bare.address} --namespace ${WRONG_TYPE} --name ${STATE_SA} --type Keyword`,
    );
    expect(out).toContain(
      `temporal operator search-attribute create --address ${bare.address} --namespace ${WRONG_TYPE} --name ${ACCOUNT_SA} --type Keyword`,
    );
    expect(out).toContain('worker not started');
    expect(out).not.toContain('worker polling task queue');
    expect(out).not.toContain(TEST_SECRET_KEY.toString('base64'));
    // It registered nothing next to the wrong one: fixing it is the operator's call.
    expect(await custom(WRONG_TYPE)).toEqual({ [STATE_SA]: TEXT });
  });

  it('a running worker whose attribute is removed registers it again, or says so on /readyz and in the log', async () => {
    const config = onBare(DRIFT);
    let refuse = false;
    const worker = await startWorker(config, {
      namespaceServices: refusingServices(() => refuse),
      namespaceRecheckMs: 100,
    });
    const ops = await startOpsServer(worker.handle, { port: 0, host: '127.0.0.1' });
    const remove = () =>
      bare.connection.operatorService.removeSearchAttributes({
        namespace: DRIFT,
        searchAttributes: [STATE_SA],
      });
    try {
      await eventually(async () => (await get(ops.port, '/readyz')).status === 200, 30_000, 'ready');

      await remove();
      await eventually(async () => (await custom(DRIFT))[STATE_SA] === KEYWORD, 30_000, 'registered again');
      await eventually(
        async () => capturedLogs.some((l) => l.includes(`the search attributes ${STATE_SA} were gone from`)),
        10_000,
        'the warning',
      );

      refuse = true;
      await remove();
      const notReady = await eventually(
        async () => {
          const r = await get(ops.port, '/readyz');
          return r.status === 503 ? r.body : undefined;
        },
        30_000,
        '/readyz 503',
      );
      expect(notReady).toMatchObject({ ready: false, worker: 'RUNNING', database: true });
      expect(notReady['reason']).toBe(
        `Temporal namespace ${DRIFT} lacks the search attributes ${STATE_SA} and the worker could not ` +
          'register them (PERMISSION_DENIED: Request unauthorized.)',
      );
      const error = capturedLogs.find((l) => l.startsWith('ERROR') && l.includes(`namespace ${DRIFT} lacks`));
      expect(error).toContain(
        `temporal operator search-attribute create --address ${bare.address} --namespace ${DRIFT} --name ${STATE_SA} --type Keyword`,
      );

      refuse = false;
      await eventually(async () => (await get(ops.port, '/readyz')).status === 200, 30_000, 'ready again');
      expect((await custom(DRIFT))[STATE_SA]).toBe(KEYWORD);
    } finally {
      await ops.close();
      await worker.stop();
    }
  });
});
