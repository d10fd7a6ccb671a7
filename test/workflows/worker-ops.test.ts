import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { addInterface, connectApp, getStatus, syncNow } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startSandbox } from '../../sandbox';
import { freeLoopbackPort } from '../../src/worker/free-port';
import { eventually, randomId, TEST_SECRET_KEY, testConfig } from '../helpers/env';

// The worker as an operator runs it: from the prebuilt workflow bundle, with /healthz, /readyz
// and /metrics on a small port, JSON logs, a clean SIGTERM, and a fatal error that exits non-zero.

const root = path.resolve(__dirname, '../..');

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.child.kill('SIGKILL');
});

function workerEnv(port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    SEVSYNC_TASK_QUEUE: randomId('tq-ops'),
    SEVSYNC_SECRET_KEY: TEST_SECRET_KEY.toString('base64'),
    SEVSYNC_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
    SEVSYNC_WORKER_HTTP_PORT: String(port),
    SEVSYNC_SHUTDOWN_GRACE_SECONDS: '5',
    SEVSYNC_LOG_FORMAT: 'auto',
  };
}

function spawnProc(args: string[], env: NodeJS.ProcessEnv): Proc {
  let out = '';
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const p = { child, output: () => out, exited };
  procs.push(p);
  return p;
}

const get = async (port: number, p: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, text: await res.text() };
};

describe('the worker process in production shape', () => {
  it(
    'starts from the prebuilt bundle, serves /healthz, /readyz and /metrics, logs JSON, stops cleanly on SIGTERM',
    { timeout: 120_000 },
    async () => {
      const port = await freeLoopbackPort();
      const env = workerEnv(port);
      // The environment is one loadConfig accepts, with the ops settings read.
      expect(loadConfig(env).ops).toMatchObject({ workerHttpPort: port, shutdownGraceSeconds: 5 });
      const w = spawnProc([path.join(root, 'bin/sevsync.cjs'), 'worker'], env);

      await eventually(async () => (await get(port, '/readyz')).status === 200, 60_000, '/readyz 200');
      const health = await get(port, '/healthz');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toEqual({ status: 'ok', worker: 'RUNNING' });
      expect(JSON.parse((await get(port, '/readyz')).text)).toEqual({
        ready: true,
        worker: 'RUNNING',
        database: true,
      });

      // sevsync's own counters, Node process metrics, and the SDK runtime's metrics (pollers start at once).
      const metrics = await eventually(
        async () => {
          const m = await get(port, '/metrics');
          return m.text.includes('temporal_') ? m : undefined;
        },
        30_000,
        'SDK metrics on /metrics',
      );
      expect(metrics.status).toBe(200);
      for (const name of [
        'sevsync_syncs_total',
        'sevsync_invoices_written_total',
        'sevsync_records_invalid_total',
        'sevsync_sevdesk_requests_total',
        'sevsync_sevdesk_rate_limited_total',
        'sevsync_import_invoices_done',
        'sevsync_process_resident_memory_bytes',
      ]) {
        expect(metrics.text, name).toContain(`# TYPE ${name}`);
      }
      expect(metrics.text).toMatch(/^temporal_\w+/m);
      expect((await get(port, '/nope')).status).toBe(404);

      // Not a terminal: one JSON object per line, the bundle named, no key in them.
      const lines = w
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      const polling = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => String(l['msg']).startsWith('worker polling task queue'));
      expect(polling).toMatchObject({
        level: 'INFO',
        workflowBundle: inject('workflowBundlePath'),
        httpPort: port,
      });
      expect(w.output()).not.toContain(TEST_SECRET_KEY.toString('base64'));

      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      expect(w.output()).toContain('worker stopped');
      await expect(get(port, '/healthz')).rejects.toThrow();
    },
  );

  it(
    'counts what a real account does, by account: sevDesk requests, import pages, invoices, syncs',
    { timeout: 180_000 },
    async () => {
      const port = await freeLoopbackPort();
      const env: NodeJS.ProcessEnv = { ...workerEnv(port), SEVSYNC_METRICS_PER_ACCOUNT: '1' };
      const w = spawnProc([path.join(root, 'bin/sevsync.cjs'), 'worker'], env);
      const sb = await startSandbox({ seed: 1401, data: { invoices: 120 } });
      const app = await connectApp(testConfig({ taskQueue: env.SEVSYNC_TASK_QUEUE! }));
      try {
        await eventually(async () => (await get(port, '/readyz')).status === 200, 60_000, '/readyz 200');
        const accountId = randomId('ops');
        await addInterface(app, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
        await eventually(
          async () => (await getStatus(app, accountId)).import?.state === 'done',
          120_000,
          'import done',
        );
        await syncNow(app, accountId, true);
        const text = (await get(port, '/metrics')).text;
        const value = (metric: string, labels: string) => {
          const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(labels));
          return line ? Number(line.split(' ').at(-1)) : 0;
        };
        const acct = `account="${accountId}"`;
        expect(value('sevsync_sevdesk_requests_total', `${acct},status="2xx"`)).toBeGreaterThan(0);
        expect(value('sevsync_import_pages_total', acct)).toBeGreaterThan(0);
        expect(value('sevsync_invoices_written_total', `${acct},source="import"`)).toBeGreaterThan(0);
        expect(value('sevsync_syncs_total', `${acct},outcome="ok"`)).toBeGreaterThanOrEqual(1);
        expect(value('sevsync_import_invoices_done', acct)).toBeGreaterThan(0);
        // The sandbox's own request log agrees that the requests were real ones.
        expect(sb.requests.count()).toBeGreaterThanOrEqual(
          value('sevsync_sevdesk_requests_total', `${acct},status="2xx"`),
        );
        expect(w.output()).not.toContain(sb.token);
      } finally {
        await app.close();
        await sb.close();
      }
    },
  );

  it('shuts down and exits non-zero after an uncaught error', { timeout: 120_000 }, async () => {
    const port = await freeLoopbackPort();
    const w = spawnProc(
      [
        path.join(root, 'node_modules/tsx/dist/cli.mjs'),
        path.join(root, 'test/helpers/ops-worker.ts'),
        '--crash-after-ready',
      ],
      workerEnv(port),
    );
    const code = await Promise.race([
      w.exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000)),
    ]);
    expect(code, w.output().slice(-3000)).toBe(1);
    expect(w.output()).toContain('fatal uncaughtException: shutting the worker down');
    expect(w.output()).toContain('simulated driver crash');
    // A clean shutdown, not a crash: the worker stopped and said so before the exit.
    expect(w.output()).toContain('worker stopped');
  });
});
