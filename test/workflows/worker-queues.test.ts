import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppDeps } from '../../src/app';
import { connectApp, getStatus } from '../../src/app';
import { configEnv } from '../../src/config';
import { bulkImportWorkflowId, importTaskQueue } from '../../src/shared';
import { startSandbox } from '../../sandbox';
import { webhookTaskQueueOf } from '../../src/webhooks/settings';
import type { WorkerHandle, WorkerOptions } from '../../src/worker/create';
import { createWorker } from '../../src/worker/create';
import { freeLoopbackPort } from '../../src/worker/free-port';
import { addSandboxInterface, importSettled } from '../helpers/app-env';
import { eventually, randomId, temporalClient, testConfig } from '../helpers/env';

// The worker split by `--queues`: an imports-only process polls `<queue>-imports` and nothing else (and needs
// no workflow bundle), a `sync,webhooks` one never polls it; the import runs across the two.

const BUNDLE = { codePath: inject('workflowBundlePath') };
/** A bundle that is not there: a worker that runs workflows fails to start with it. */
const MISSING_BUNDLE = { codePath: path.join(__dirname, 'no-such-workflow-bundle.js') };
const WORKFLOW = 1; // TASK_QUEUE_TYPE_WORKFLOW
const ACTIVITY = 2; // TASK_QUEUE_TYPE_ACTIVITY

let temporal: { client: Client; close(): Promise<void> };
const running: { handle: WorkerHandle; done: Promise<void> }[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  temporal = await temporalClient(testConfig());
});
afterAll(async () => {
  for (const r of running) r.handle.shutdown();
  await Promise.all(running.map((r) => r.done));
  await temporal.close();
});

async function start(opts: WorkerOptions): Promise<WorkerHandle> {
  const handle = await createWorker({ namespaceRecheckMs: 0, ...opts });
  running.push({ handle, done: handle.run() });
  return handle;
}

async function pollers(taskQueue: string, taskQueueType: number): Promise<number> {
  const r = await temporal.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType,
  });
  return r.pollers?.length ?? 0;
}

const describeServed = (h: WorkerHandle) =>
  h.served.map((s) => ({ queue: s.queue, taskQueue: s.taskQueue, polls: s.worker.options.taskQueue }));

describe('worker --queues', () => {
  it('imports only: polls `<queue>-imports` and nothing else, without a workflow bundle', async () => {
    const config = testConfig();
    const tq = config.taskQueue;
    // The missing bundle is fatal where workflows run...
    await expect(
      createWorker({ config, queues: ['sync'], workflowBundle: MISSING_BUNDLE, namespaceRecheckMs: 0 }),
    ).rejects.toThrow(/no-such-workflow-bundle/);
    // ...and never read by an imports-only worker.
    const imports = await start({ config, queues: ['imports'], workflowBundle: MISSING_BUNDLE });
    expect(describeServed(imports)).toEqual([
      { queue: 'imports', taskQueue: `${tq}-imports`, polls: `${tq}-imports` },
    ]);
    expect(imports.worker).toBe(imports.served[0]?.worker);
    await eventually(
      async () => (await pollers(importTaskQueue(tq), ACTIVITY)) > 0,
      30_000,
      'import pollers',
    );
    expect(imports.state()).toBe('RUNNING');
    expect(await imports.databaseReachable()).toBe(true);
    expect(await pollers(tq, WORKFLOW)).toBe(0);
    expect(await pollers(tq, ACTIVITY)).toBe(0);
    expect(await pollers(webhookTaskQueueOf(config), WORKFLOW)).toBe(0);
    expect(await pollers(webhookTaskQueueOf(config), ACTIVITY)).toBe(0);
  });

  describe('sync,webhooks and imports as two workers', () => {
    const config = testConfig();
    const tq = config.taskQueue;
    let ops: AppDeps;
    let sb: Awaited<ReturnType<typeof startSandbox>>;
    beforeAll(async () => {
      ops = await connectApp(config);
      sb = await startSandbox({ seed: 4242, data: { invoices: 300 } });
    });
    afterAll(async () => {
      await ops.close();
      await sb.close();
    });

    it('an import waits on `<queue>-imports` until the imports worker runs, then finishes there', async () => {
      const main = await start({ config, queues: ['webhooks', 'sync'], workflowBundle: BUNDLE });
      expect(describeServed(main)).toEqual([
        { queue: 'sync', taskQueue: tq, polls: tq },
        { queue: 'webhooks', taskQueue: webhookTaskQueueOf(config), polls: webhookTaskQueueOf(config) },
      ]);
      expect(main.worker.options.taskQueue).toBe(tq);
      await eventually(async () => (await pollers(tq, WORKFLOW)) > 0, 30_000, 'workflow pollers');

      const accountId = randomId('split');
      await addSandboxInterface(ops, accountId, sb);
      // The walk's first activity is scheduled on the import queue, and nobody takes it.
      const pending = async () => {
        const imp = (await getStatus(ops, accountId)).import;
        if (!imp) return undefined;
        const d = await temporal.client.workflow
          .getHandle(bulkImportWorkflowId(accountId, imp.importId))
          .describe();
        return d.raw.pendingActivities?.length ? { imp, activities: d.raw.pendingActivities } : undefined;
      };
      const first = await eventually(pending, 30_000, 'the import activity scheduled');
      await new Promise((r) => setTimeout(r, 2_000));
      const still = await pending();
      expect(still?.activities.map((a) => Number(a.state))).toEqual([1]); // PENDING_ACTIVITY_STATE_SCHEDULED
      expect(still?.activities[0]?.attempt).toBe(1);
      expect(still?.imp.done).toBe(0);
      expect(first.imp.state).toBe('running');
      expect(await pollers(importTaskQueue(tq), ACTIVITY)).toBe(0);

      const imports = await start({ config, queues: ['imports'] });
      expect(describeServed(imports)).toEqual([
        { queue: 'imports', taskQueue: `${tq}-imports`, polls: `${tq}-imports` },
      ]);
      const done = await importSettled(ops, accountId, 120_000);
      expect(done.import?.done).toBeGreaterThan(0);
      expect(done.counts.invoices).toBeGreaterThan(0);
      expect(await pollers(importTaskQueue(tq), ACTIVITY)).toBeGreaterThan(0);
    });
  });

  it('`sevsync worker --queues imports`: the process says what it serves and is ready', async () => {
    const config = testConfig();
    const port = await freeLoopbackPort();
    let out = '';
    const child = spawn(
      process.execPath,
      [path.resolve(__dirname, '../../bin/sevsync.cjs'), 'worker', '--queues', 'imports'],
      {
        env: {
          ...process.env,
          ...configEnv(config),
          // The flag wins over the variable; the missing bundle is never read.
          SEVSYNC_WORKER_QUEUES: 'sync,imports,webhooks',
          SEVSYNC_WORKFLOW_BUNDLE: MISSING_BUNDLE.codePath,
          SEVSYNC_WORKER_HTTP_PORT: String(port),
          SEVSYNC_SHUTDOWN_GRACE_SECONDS: '1',
          SEVSYNC_LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually(
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
        60_000,
        '/readyz 200',
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; the worker's output:\n${out.slice(-2000)}`);
      });
      const polling = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => String(l['msg']).startsWith('worker polling task queue'));
      expect(polling).toMatchObject({
        msg: `worker polling task queue ${config.taskQueue}-imports`,
        queues: ['imports'],
        taskQueues: [`${config.taskQueue}-imports`],
        workflowBundle: null,
      });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      expect(await pollers(config.taskQueue, WORKFLOW)).toBe(0);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
