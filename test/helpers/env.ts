import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Config } from '../../src/config';
import { createDb } from '../../src/db/client';
import type { DbHandle } from '../../src/db/client';
import { createWorker } from '../../src/worker/create';
import type { WorkerHandle, WorkerOptions } from '../../src/worker/create';

/** A fixed test key (never a production one); tokens in tests are random per test. */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7);

export const randomId = (prefix: string): string => `${prefix}-${randomBytes(5).toString('hex')}`;

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    databaseUrl: inject('databaseUrl'),
    temporalAddress: inject('temporalAddress'),
    temporalNamespace: 'default',
    taskQueue: randomId('tq'),
    secretKey: TEST_SECRET_KEY,
    sevdeskBaseUrl: 'http://127.0.0.1:9/api/v1',
    syncIntervalSeconds: 300,
    ...overrides,
  };
}

/** Everything the SDK and our activities/workflows logged in this test process (checked for secrets). */
export const capturedLogs: string[] = [];
let runtimeInstalled = false;

function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry) => {
      const line = `${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`;
      capturedLogs.push(line);
      if (entry.level === 'ERROR') console.error(line);
    }),
  });
}

export interface RunningWorker {
  handle: WorkerHandle;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** A real worker with the project's workflow bundle (built once per run in global setup). */
export async function startWorker(
  config: Config,
  opts: Pick<WorkerOptions, 'overlapSeconds' | 'namespaceServices' | 'namespaceRecheckMs'> = {},
): Promise<RunningWorker> {
  installRuntime();
  const handle = await createWorker({
    config,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...opts,
  });
  const done = handle.run();
  return {
    handle,
    done,
    stop: async () => {
      handle.shutdown();
      await done;
    },
  };
}

export async function temporalClient(config: Config): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  return {
    client: new Client({ connection, namespace: config.temporalNamespace }),
    close: () => connection.close(),
  };
}

export function testDb(): DbHandle {
  return createDb(inject('databaseUrl'), { max: 4 });
}

/** Polls until `fn` returns a truthy value (real servers, real timers: no fixed sleeps in assertions). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
