import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from './activities';
import type { Config } from './config';
import { requireSecretKey } from './config';
import { createDb } from './db/client';
import { decryptToken } from './secrets';
import { createSevdeskClient } from './sevdesk/client';

export interface WorkerHandle {
  worker: Worker;
  /** Runs until shutdown() (or a signal) and then releases the database and the connection. */
  run(): Promise<void>;
  shutdown(): void;
}

export interface WorkerOptions {
  config: Config;
  /** A pre-built bundle (tests build once); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkflowBundleOption;
  overlapSeconds?: number;
  maxConcurrentActivityTaskExecutions?: number;
}

export async function createWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const { config } = opts;
  const key = requireSecretKey(config);
  const db = createDb(config.databaseUrl, { max: 10 });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const activities = createActivities({
    sql: db.sql,
    sevdesk: ({ baseUrl, token }) => createSevdeskClient({ baseUrl, token }),
    decryptToken: (iface) =>
      decryptToken(key, { ciphertext: iface.tokenCiphertext, keyId: iface.tokenKeyId }),
    ...(opts.overlapSeconds === undefined ? {} : { overlapSeconds: opts.overlapSeconds }),
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    activities,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 20,
  });
  return {
    worker,
    shutdown: () => worker.shutdown(),
    run: async () => {
      try {
        await worker.run();
      } finally {
        await db.close();
        await connection.close();
      }
    },
  };
}
