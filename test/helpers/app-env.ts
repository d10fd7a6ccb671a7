// The use cases of src/app on a real worker, the dev server, PostgreSQL and sandboxes: the set-up the end-to-end
// tests share. `useAppEnv()` registers the hooks of the suite it is called in (file or describe).
import { afterAll, beforeAll } from 'vitest';
import type { AppDeps } from '../../src/app';
import { addInterface, connectApp, getStatus, setInterfaceActive } from '../../src/app';
import type { Config } from '../../src/config';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { accountSyncWorkflowId } from '../../src/shared';
import { statusQuery } from '../../src/workflows';
import type { RunningWorker } from './env';
import { eventually, randomId, startWorker, testConfig } from './env';

type InterfaceInput = Parameters<typeof addInterface>[1];

/** Adds an interface on the sandbox (hourly unless told otherwise). */
export function addSandboxInterface(
  ops: AppDeps,
  accountId: string,
  sb: Sandbox,
  extra: Partial<InterfaceInput> = {},
): ReturnType<typeof addInterface> {
  return addInterface(ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600, ...extra });
}

/** Waits until the account's import has ended and the account is idle; returns that status. */
export function importSettled(ops: AppDeps, accountId: string, timeoutMs = 120_000, what = 'import done') {
  return eventually(
    async () => {
      const s = await getStatus(ops, accountId);
      return s.import?.state === 'done' && s.state === 'idle' ? s : undefined;
    },
    timeoutMs,
    what,
  );
}

export interface AppEnv {
  readonly config: Config;
  /** The connected use cases (from beforeAll on). */
  readonly ops: AppDeps;
  readonly worker: RunningWorker;
  /** Every sandbox's token, and any a test adds: none may show up in a history or a log line. */
  readonly tokens: string[];
  /** A sandbox closed after the suite. */
  sandbox(seed: number, invoices: number): Promise<Sandbox>;
  /**
   * Resolves once a witness account on the same worker, syncing every `intervalSeconds`, has finished `n` more
   * sync cycles: `n` intervals have observably passed for every account of the worker.
   */
  cyclesPass(n: number, intervalSeconds?: number): Promise<void>;
}

export function useAppEnv(
  opts: { overlapSeconds?: number; config?: Config; beforeClose?: (env: AppEnv) => Promise<void> } = {},
): AppEnv {
  const config = opts.config ?? testConfig();
  let worker: RunningWorker | undefined;
  let ops: AppDeps | undefined;
  const sandboxes: Sandbox[] = [];
  const tokens: string[] = [];
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not started yet (used before beforeAll?)`);
    return v;
  };

  const env: AppEnv = {
    config,
    tokens,
    get ops() {
      return ready(ops, 'the app');
    },
    get worker() {
      return ready(worker, 'the worker');
    },
    async sandbox(seed, invoices) {
      const sb = await startSandbox({ seed, data: { invoices } });
      sandboxes.push(sb);
      tokens.push(sb.token);
      return sb;
    },
    async cyclesPass(n, intervalSeconds = 1) {
      const sb = await env.sandbox(990 + n, 5);
      const accountId = randomId('witness');
      await addSandboxInterface(env.ops, accountId, sb, { intervalSeconds });
      await importSettled(env.ops, accountId, 60_000, 'the witness import');
      const handle = env.ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
      const start = (await handle.query(statusQuery)).cycles;
      await eventually(
        async () => (await handle.query(statusQuery)).cycles >= start + n,
        (n * intervalSeconds + 30) * 1000,
        `${n} witness cycles`,
      );
      await setInterfaceActive(env.ops, accountId, false);
    },
  };

  beforeAll(async () => {
    worker = await startWorker(config, opts.overlapSeconds ? { overlapSeconds: opts.overlapSeconds } : {});
    ops = await connectApp(config);
  });

  afterAll(async () => {
    try {
      if (ops) await opts.beforeClose?.(env);
    } finally {
      await ops?.close();
      await worker?.stop();
      await Promise.all(sandboxes.map((s) => s.close()));
    }
  });

  return env;
}
