// The worker's wiring: database, Temporal connection, namespace check, activities, and up to three SDK workers
// (the workflows' task queue, the walks' own, and the webhook deliveries' own) run and stopped as one; which of
// them is the process's `--queues` (queues.ts). No Worker Deployments: docs/deploys.md, "Worker Versioning".
import { Context } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { State, WorkflowBundleOption } from '@temporalio/worker';
import type { LimitFunction } from 'p-limit';
import { createActivities, type Activities } from '../activities';
import type { Config, OpsConfig } from '../config';
import { ConfigError, DEFAULT_EVENTS, DEFAULT_OPS, requireKeyring } from '../config';
import { startEventRetention } from './event-retention';
import { createDb } from '../db/client';
import { openInterfaceToken } from '../secrets';
import { IMPORT_ACTIVITIES, importTaskQueue } from '../shared';
import { workflowsPath } from '../workflow-bundle';
import { closeDefaultDispatchers, createSevdeskClient, createWorkerLimit } from '../sevdesk/client';
import { temporalConnectionOptions } from '../temporal/connection';
import {
  bundlerConverterOptions,
  temporalDataConverter,
  warnIfBundleKeepsFailuresInClear,
} from '../temporal/data-converter';
import { createWebhookActivities } from '../webhooks/activities';
import { eventsConfigOf, webhookTaskQueueOf } from '../webhooks/settings';
import { countSevdeskRequests, instrument } from './instrument';
import type { NamespaceServices } from './namespace';
import { NamespaceStatus, checkNamespaceAtStart, watchNamespace } from './namespace';
import type { WorkerQueue } from './queues';
import { normalizeWorkerQueues } from './queues';

/** One queue the process serves: its SDK worker and the Temporal task queue that worker polls. */
export interface ServedQueue {
  queue: WorkerQueue;
  taskQueue: string;
  worker: Worker;
}

export interface WorkerHandle {
  /** The first SDK worker created: the sync queue's when it is served, else the imports', else the webhooks'. */
  worker: Worker;
  /** Every queue the process serves, in the order of WORKER_QUEUES. */
  served: readonly ServedQueue[];
  /** Runs until shutdown() (or a signal) and then releases the database, the connection and HTTP pools. */
  run(): Promise<void>;
  shutdown(): void;
  /** The worst state of the SDK workers (RUNNING while all of them poll). */
  state(): State;
  /** true when the database answers within a second. */
  databaseReachable(): Promise<boolean>;
  /** The namespace's search attributes as the running worker last saw them (/readyz). */
  namespace: NamespaceStatus;
  /** The namespace's problem, if it has one. */
  notReadyReason(): string | undefined;
}

export interface WorkerOptions {
  config: Config;
  /** The queues to serve; default config.ops.workerQueues (all three without `ops`). */
  queues?: readonly WorkerQueue[];
  /** A pre-built bundle (tests build once); else config.ops.workflowBundlePath; else bundled from source. */
  workflowBundle?: WorkflowBundleOption;
  overlapSeconds?: number;
  maxConcurrentActivityTaskExecutions?: number;
  /** Where the namespace check reports (what /readyz shows); else a status of the handle's own. */
  namespaceStatus?: NamespaceStatus;
  /** What the namespace check calls (default: the worker's connection); tests wrap it to refuse. */
  namespaceServices?: NamespaceServices;
  /** How often the running worker checks its namespace again (default 60 s; 0: never). */
  namespaceRecheckMs?: number;
}

const STOPPING = new Set<State>(['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED']);

/** The activity's cancellation signal when called inside one (the client then stops with the activity). */
function currentCancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** The activities' sevDesk clients: within the worker's limit, counted, stopped with their activity. */
function sevdeskFactory(workerLimit: LimitFunction) {
  return ({ baseUrl, token }: { baseUrl: string; token: string }) => {
    const signal = currentCancellationSignal();
    return createSevdeskClient({
      baseUrl,
      token,
      workerLimit,
      ...(signal ? { signal } : {}),
      onRequest: countSevdeskRequests(),
    });
  };
}

export async function createWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const { config } = opts;
  const ops: OpsConfig = config.ops ?? DEFAULT_OPS;
  const queues = normalizeWorkerQueues(opts.queues ?? ops.workerQueues);
  if (queues.length === 0)
    throw new ConfigError('a worker serves at least one queue: sync, imports, webhooks');
  const serves = (q: WorkerQueue) => queues.includes(q);
  const keys = requireKeyring(config);
  // SEVSYNC_ENCRYPT_PAYLOADS: the codec and the failure converter of every worker (docs/temporal.md).
  const dataConverter = temporalDataConverter(config);
  const db = createDb(config.databaseUrl, {
    max: 10,
    statementTimeoutMs: ops.statementTimeoutMs,
    applicationName: 'sevsync-worker',
    countStatements: ops.countStatements,
  });
  // The webhook deliveries' own pool: a backlog being delivered never takes the connections a sync needs.
  const webhookDb = serves('webhooks')
    ? createDb(config.databaseUrl, {
        max: 4,
        statementTimeoutMs: ops.statementTimeoutMs,
        applicationName: 'sevsync-webhooks',
      })
    : undefined;
  let connection: NativeConnection | undefined;
  let webhookActivities: ReturnType<typeof createWebhookActivities> | undefined;
  const namespaceStatus = opts.namespaceStatus ?? new NamespaceStatus(config.temporalNamespace);
  try {
    connection = await NativeConnection.connect(
      temporalConnectionOptions(config.temporalAddress, config.temporal),
    );
    // Before anything polls: a namespace without the search attributes fails every workflow task that
    // records an account's state, for ever (namespace.ts).
    const namespaceServices = opts.namespaceServices ?? connection;
    const guard = {
      namespace: config.temporalNamespace,
      address: config.temporalAddress,
      status: namespaceStatus,
      logger: Runtime.instance().logger,
    };
    await checkNamespaceAtStart(namespaceServices, guard);
    // One bundle for both workers that run workflows; an imports-only process runs none and never bundles.
    const workflowBundle =
      serves('sync') || serves('webhooks') ? await bundleOf(opts, ops, guard.logger) : undefined;
    if (workflowBundle) warnIfBundleKeepsFailuresInClear(config, workflowBundle, guard.logger);
    const all =
      serves('sync') || serves('imports')
        ? instrument(
            createActivities({
              sql: db.sql,
              sevdesk: sevdeskFactory(createWorkerLimit(ops.sevdeskWorkerConcurrency)),
              decryptToken: (iface) => openInterfaceToken(keys, iface),
              importWindow: ops.importWindow,
              ...(opts.overlapSeconds === undefined ? {} : { overlapSeconds: opts.overlapSeconds }),
            }),
          )
        : undefined;
    const walkNames = new Set<keyof Activities>(IMPORT_ACTIVITIES);
    const walkActivities = (activities: Activities) =>
      Object.fromEntries(
        Object.entries(activities).filter(([name]) => walkNames.has(name as keyof Activities)),
      );
    const common = {
      connection,
      namespace: config.temporalNamespace,
      ...(dataConverter ? { dataConverter } : {}),
      // A deploy (SIGTERM) stops polling at once and lets running activities finish their current page
      // for this long; only then are they cancelled (and retried elsewhere from their checkpoint). A config
      // built by hand (tests, benches) has no `ops` and keeps the SDK's 0: a stopped test worker cancels at once.
      ...(config.ops ? { shutdownGraceTime: `${config.ops.shutdownGraceSeconds}s` } : {}),
    };
    const served: ServedQueue[] = [];
    if (serves('sync') && all && workflowBundle) {
      const taskQueue = config.taskQueue;
      const worker = await Worker.create({
        ...common,
        taskQueue,
        // Legacy histories schedule their walk activities here too (before the import queue existed).
        activities: all,
        workflowBundle,
        maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 20,
        // Quick syncs (local activities) of many accounts at once; sevDesk requests stay bounded by the
        // per-token and per-worker limits of the client.
        maxConcurrentLocalActivityExecutions: 50,
        ...(ops.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: ops.maxCachedWorkflows }),
        workflowThreadPoolSize: ops.workflowThreads,
        // The SDK caps this at the cache size (with a warning) when the cache is smaller.
        maxConcurrentWorkflowTaskExecutions:
          ops.maxCachedWorkflows === undefined || ops.maxCachedWorkflows === 0
            ? ops.maxConcurrentWorkflowTasks
            : Math.min(ops.maxConcurrentWorkflowTasks, ops.maxCachedWorkflows),
      });
      served.push({ queue: 'sync', taskQueue, worker });
    }
    if (serves('imports') && all) {
      // The walks' own queue: a few imports at a time, never the slots the syncs need.
      const taskQueue = importTaskQueue(config.taskQueue);
      const worker = await Worker.create({
        ...common,
        taskQueue,
        activities: walkActivities(all),
        maxConcurrentActivityTaskExecutions: ops.importConcurrency,
      });
      served.push({ queue: 'imports', taskQueue, worker });
    }
    if (webhookDb && workflowBundle) {
      // Webhook delivery: its own task queue, workflow slots, activity slots and database pool, so a slow
      // receiver or a backlog never slows a sync. A delivery run mostly waits (for an answer, for new
      // events), so its slots are many; the workflows are one per endpoint.
      const created: { webhooks?: Worker } = {};
      webhookActivities = createWebhookActivities({
        sql: webhookDb.sql,
        keys,
        events: eventsConfigOf(config),
        stopping: () => created.webhooks !== undefined && STOPPING.has(created.webhooks.getState()),
      });
      const taskQueue = webhookTaskQueueOf(config);
      const worker = (created.webhooks = await Worker.create({
        ...common,
        taskQueue,
        workflowBundle,
        activities: webhookActivities.activities,
        maxConcurrentActivityTaskExecutions: 200,
        maxConcurrentWorkflowTaskExecutions: 10,
        maxCachedWorkflows: 500,
        workflowThreadPoolSize: 1,
      }));
      served.push({ queue: 'webhooks', taskQueue, worker });
    }
    const workers = served.map((s) => s.worker);
    const closeWebhooks = webhookActivities?.close;
    const conn = connection;
    const recheckMs = opts.namespaceRecheckMs ?? 60_000;
    const watch =
      recheckMs > 0 ? watchNamespace(namespaceServices, { ...guard, intervalMs: recheckMs }) : undefined;
    return {
      worker: workers[0]!,
      served,
      namespace: namespaceStatus,
      notReadyReason: () => namespaceStatus.problem(),
      shutdown: () => {
        watch?.stop();
        for (const w of workers)
          if (w.getState() === 'RUNNING' || w.getState() === 'INITIALIZED') w.shutdown();
      },
      // The worst of them: a failed import or webhook worker is a failed process.
      state: () => workers.map((w) => w.getState()).find((st) => st !== 'RUNNING') ?? 'RUNNING',
      databaseReachable: async () => {
        try {
          await Promise.race([
            db.sql`select 1`,
            new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
          ]);
          return true;
        } catch {
          return false;
        }
      },
      run: async () => {
        // Old events leave the change feed in small batches, where webhooks are delivered (on their pool:
        // never a sync's connection).
        const retention = webhookDb
          ? startEventRetention({
              sql: webhookDb.sql,
              retentionDays: (config.events ?? DEFAULT_EVENTS).retentionDays,
              log: Runtime.instance().logger,
            })
          : undefined;
        try {
          // One stops (shutdown, or a fatal error): the others stop too, then all are awaited.
          await Promise.all(
            workers.map((w) =>
              w.run().finally(() => {
                for (const o of workers) if (o !== w && o.getState() === 'RUNNING') o.shutdown();
              }),
            ),
          );
        } finally {
          watch?.stop();
          await retention?.stop();
          await closeWebhooks?.();
          await db.close();
          await webhookDb?.close();
          await conn.close();
          await closeDefaultDispatchers();
        }
      },
    };
  } catch (err) {
    await webhookActivities?.close();
    await db.close();
    await webhookDb?.close();
    await connection?.close();
    throw err;
  }
}

/** The given bundle (tests build one), else SEVSYNC_WORKFLOW_BUNDLE, else bundled from source here (slow). */
async function bundleOf(opts: WorkerOptions, ops: OpsConfig, logger: Logger): Promise<WorkflowBundleOption> {
  if (opts.workflowBundle) return opts.workflowBundle;
  if (ops.workflowBundlePath) return { codePath: ops.workflowBundlePath };
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    logger,
    ...bundlerConverterOptions(opts.config),
  });
  return { code };
}
