// The worker: workflows and activities on one task queue, plus what an operator needs to run it (a
// shutdown grace time, health and readiness, metrics, JSON logs, a fatal-error handler).
//
// Worker versioning: sevsync rolls workflow changes out with replay tests plus `patched()` (docs/deploys.md:
// patched(), then deprecatePatch(), then removal, a history set recorded with each step). Worker Deployments
// are not used: an account workflow never ends, so a pinned version would keep its fleet for ever, and
// auto-upgrade still needs every patch; docs/deploys.md says what was tried.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import net from 'node:net';
import { Context } from '@temporalio/activity';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { State, WorkflowBundleOption } from '@temporalio/worker';
import type { LimitFunction } from 'p-limit';
import { createActivities, type Activities } from './activities';
import type { Config, OpsConfig } from './config';
import { DEFAULT_OPS, requireKeyring } from './config';
import { createDb, statementsSent } from './db/client';
import { createLogger, redactText } from './log';
import { metrics, renderMetrics, statusClass } from './metrics';
import type { NamespaceServices } from './namespace';
import { NamespaceSetupError, NamespaceStatus, checkNamespaceAtStart, watchNamespace } from './namespace';
import { openInterfaceToken } from './secrets';
import { IMPORT_ACTIVITIES, importTaskQueue } from './shared';
import { workflowsPath } from './workflow-bundle';
import { closeDefaultDispatchers, createSevdeskClient, createWorkerLimit } from './sevdesk/client';

export interface WorkerHandle {
  worker: Worker;
  /** Runs until shutdown() (or a signal) and then releases the database, the connection and HTTP pools. */
  run(): Promise<void>;
  shutdown(): void;
  /** The SDK worker's state (RUNNING while it polls). */
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

/** The account an activity works for, so the sevDesk client factory can label its requests. */
const activityAccount = new AsyncLocalStorage<{ accountId: string }>();

function accountOf(arg: unknown): string {
  if (typeof arg === 'object' && arg !== null && 'accountId' in arg) {
    const a = (arg as { accountId: unknown }).accountId;
    if (typeof a === 'string') return a;
  }
  return 'unknown';
}

/** The activity's cancellation signal when called inside one (the client then stops with the activity). */
function currentCancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** Counts what an activity did from its result, in one place (see src/metrics.ts). */
function observe(name: string, account: string, result: unknown, arg: unknown): void {
  const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  if (name === 'syncAccountQuick' && r['skipped'] === 'needs-activity') return;
  if (name === 'syncAccount' || name === 'syncAccountQuick') {
    const counts = (r['counts'] ?? {}) as Record<string, unknown>;
    metrics.syncs.inc({ account, outcome: r['skipped'] ? 'skipped' : 'ok' });
    metrics.invoicesWritten.inc({ account, source: 'sync' }, num(counts['written']));
    metrics.recordsInvalid.inc({ account, source: 'sync' }, num(counts['invalid']));
  } else if (name === 'importPage' || name === 'importPages') {
    const k = typeof arg === 'object' && arg !== null && 'kind' in arg ? arg.kind : undefined;
    const kind = typeof k === 'string' ? k : 'import';
    metrics.importPages.inc({ account, kind }, name === 'importPages' ? num(r['pages']) : 1);
    metrics.importDone.set({ account, kind }, num(r['done']));
    if (typeof r['total'] === 'number') metrics.importTotal.set({ account, kind }, r['total']);
  } else if (name === 'finishImport') {
    metrics.invoicesWritten.inc({ account, source: 'import' }, num(r['written']));
    metrics.recordsInvalid.inc({ account, source: 'import' }, num(r['invalid']));
  }
}

/** Wraps every activity: account context for the sevDesk client, metrics from results and failures. */
function instrument(activities: Activities): Activities {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      const account = accountOf(args[0]);
      try {
        const result = await activityAccount.run({ accountId: account }, () => fn(...args));
        observe(name, account, result, args[0]);
        return result;
      } catch (err) {
        if (name === 'syncAccount' || name === 'syncAccountQuick')
          metrics.syncs.inc({ account, outcome: 'failed' });
        const type =
          typeof err === 'object' && err !== null && 'type' in err && typeof err.type === 'string'
            ? err.type
            : err instanceof Error
              ? err.name
              : 'unknown';
        metrics.activityFailures.inc({ activity: name, type });
        throw err;
      }
    };
  }
  return wrapped as Activities;
}

function sevdeskFactory(workerLimit: LimitFunction) {
  return ({ baseUrl, token }: { baseUrl: string; token: string }) => {
    const account = activityAccount.getStore()?.accountId ?? 'unknown';
    const signal = currentCancellationSignal();
    return createSevdeskClient({
      baseUrl,
      token,
      workerLimit,
      ...(signal ? { signal } : {}),
      onRequest: (e) => {
        metrics.sevdeskRequests.inc({ account, status: statusClass(e.status) });
        if (e.rateLimited) metrics.sevdeskRateLimited.inc({ account });
      },
    });
  };
}

export async function createWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const { config } = opts;
  const ops: OpsConfig = config.ops ?? DEFAULT_OPS;
  const keys = requireKeyring(config);
  const db = createDb(config.databaseUrl, {
    max: 10,
    statementTimeoutMs: ops.statementTimeoutMs,
    applicationName: 'sevsync-worker',
    countStatements: ops.countStatements,
  });
  const workflowBundle =
    opts.workflowBundle ?? (ops.workflowBundlePath ? { codePath: ops.workflowBundlePath } : undefined);
  let connection: NativeConnection | undefined;
  const namespaceStatus = opts.namespaceStatus ?? new NamespaceStatus(config.temporalNamespace);
  try {
    connection = await NativeConnection.connect({ address: config.temporalAddress });
    // Before anything polls: a namespace without the search attributes fails every workflow task that
    // records an account's state, for ever (src/namespace.ts).
    const namespaceServices = opts.namespaceServices ?? connection;
    const guard = {
      namespace: config.temporalNamespace,
      address: config.temporalAddress,
      status: namespaceStatus,
      logger: Runtime.instance().logger,
    };
    await checkNamespaceAtStart(namespaceServices, guard);
    const activities = createActivities({
      sql: db.sql,
      sevdesk: sevdeskFactory(createWorkerLimit(ops.sevdeskWorkerConcurrency)),
      decryptToken: (iface) => openInterfaceToken(keys, iface),
      importWindow: ops.importWindow,
      ...(opts.overlapSeconds === undefined ? {} : { overlapSeconds: opts.overlapSeconds }),
    });
    const all = instrument(activities);
    const walkNames = new Set<string>(IMPORT_ACTIVITIES);
    const pick = (walks: boolean) =>
      Object.fromEntries(Object.entries(all).filter(([name]) => walkNames.has(name) === walks));
    const common = {
      connection,
      namespace: config.temporalNamespace,
      // A deploy (SIGTERM) stops polling at once and lets running activities finish their current page
      // for this long; only then are they cancelled (and retried elsewhere from their checkpoint). A config
      // built by hand (tests, benches) has no `ops` and keeps the SDK's 0: a stopped test worker cancels at once.
      ...(config.ops ? { shutdownGraceTime: `${config.ops.shutdownGraceSeconds}s` } : {}),
    };
    const worker = await Worker.create({
      ...common,
      taskQueue: config.taskQueue,
      // Legacy histories schedule their walk activities here too (before the import queue existed).
      activities: all,
      ...(workflowBundle ? { workflowBundle } : { workflowsPath: workflowsPath() }),
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
    // The walks' own queue: a few imports at a time, never the slots the syncs need.
    const walks = await Worker.create({
      ...common,
      taskQueue: importTaskQueue(config.taskQueue),
      activities: pick(true),
      maxConcurrentActivityTaskExecutions: ops.importConcurrency,
    });
    const workers = [worker, walks];
    const conn = connection;
    const recheckMs = opts.namespaceRecheckMs ?? 60_000;
    const watch =
      recheckMs > 0 ? watchNamespace(namespaceServices, { ...guard, intervalMs: recheckMs }) : undefined;
    return {
      worker,
      namespace: namespaceStatus,
      notReadyReason: () => namespaceStatus.problem(),
      shutdown: () => {
        watch?.stop();
        for (const w of workers)
          if (w.getState() === 'RUNNING' || w.getState() === 'INITIALIZED') w.shutdown();
      },
      // The worst of the two: a failed import worker is a failed process.
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
        try {
          // One stops (shutdown, or a fatal error): the other stops too, then both are awaited.
          await Promise.all(
            workers.map((w) =>
              w.run().finally(() => {
                for (const o of workers) if (o !== w && o.getState() === 'RUNNING') o.shutdown();
              }),
            ),
          );
        } finally {
          watch?.stop();
          await db.close();
          await conn.close();
          await closeDefaultDispatchers();
        }
      },
    };
  } catch (err) {
    await db.close();
    await connection?.close();
    throw err;
  }
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** What the ops server reports on: a running worker's handle, or a WorkerStartup while it starts. */
export interface OpsSource {
  state(): State;
  /** undefined: there is no database pool yet (the worker is starting). */
  databaseReachable(): Promise<boolean | undefined>;
  /** What keeps the worker from being ready whatever its state (its namespace); undefined: nothing. */
  notReadyReason?(): string | undefined;
}

/**
 * /healthz (liveness: the process answers and the worker has not failed), /readyz (the namespace has the
 * search attributes, the worker polls and the database answers; else 503 with a `reason`) and /metrics
 * (sevsync's counters, then the SDK's own when `sdkMetricsUrl` is set).
 */
export async function startOpsServer(
  handle: OpsSource,
  opts: { port: number; host: string; sdkMetricsUrl?: string; countStatements?: boolean },
): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, '{"error":"method not allowed"}');
      if (path === '/healthz') {
        const state = handle.state();
        const alive = state !== 'FAILED' && state !== 'STOPPED';
        return send(alive ? 200 : 503, JSON.stringify({ status: alive ? 'ok' : 'down', worker: state }));
      }
      if (path === '/readyz') {
        const blocked = handle.notReadyReason?.();
        const state = handle.state();
        const database = await handle.databaseReachable();
        const ready = blocked === undefined && state === 'RUNNING' && database === true;
        const reason = ready
          ? undefined
          : (blocked ??
            (state === 'INITIALIZED' || database === undefined
              ? 'the worker is starting'
              : state !== 'RUNNING'
                ? `the worker is not polling (${state})`
                : 'the database does not answer'));
        return send(ready ? 200 : 503, JSON.stringify({ ready, worker: state, database, reason }));
      }
      if (path === '/metrics') {
        let text = await renderMetrics();
        if (opts.countStatements)
          text +=
            '# HELP sevsync_db_statements_total SQL statements the worker sent to PostgreSQL\n' +
            `# TYPE sevsync_db_statements_total counter\nsevsync_db_statements_total ${statementsSent()}\n`;
        if (opts.sdkMetricsUrl) text += await fetchText(opts.sdkMetricsUrl);
        return send(200, text, 'text/plain; version=0.0.4; charset=utf-8');
      }
      send(404, '{"error":"not found"}');
    })().catch((err: unknown) => send(500, JSON.stringify({ error: String(err) })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? `\n${await res.text()}` : '';
  } catch {
    // The SDK exporter starts with the first worker; until then there is nothing to add.
    return '';
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class WorkerFatalError extends Error {
  override readonly name = 'WorkerFatalError';
}

/**
 * The worker process from its first moment: the ops server reports on this while the worker starts (the
 * namespace check, the workflow bundle), with the reason it is not ready yet, then on the running worker.
 */
export class WorkerStartup implements OpsSource {
  readonly namespace: NamespaceStatus;
  private handle: WorkerHandle | undefined;
  private failure: string | undefined;

  constructor(namespace: string) {
    this.namespace = new NamespaceStatus(namespace);
  }

  /** createWorker, reporting to this startup; a failed start leaves the reason on /readyz. */
  async start(opts: WorkerOptions): Promise<WorkerHandle> {
    try {
      this.handle = await createWorker({ ...opts, namespaceStatus: this.namespace });
      return this.handle;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.failure =
        err instanceof NamespaceSetupError
          ? err.summary
          : `the worker did not start: ${redactText(message.split('\n')[0] ?? '')}`;
      throw err;
    }
  }

  notReadyReason(): string | undefined {
    return this.handle ? this.handle.notReadyReason() : (this.failure ?? this.namespace.problem());
  }

  state(): State {
    return this.handle?.state() ?? (this.failure !== undefined ? 'FAILED' : 'INITIALIZED');
  }

  databaseReachable(): Promise<boolean | undefined> {
    return this.handle ? this.handle.databaseReachable() : Promise.resolve(undefined);
  }
}

/**
 * `sevsync worker`: the process entry point. Installs the Temporal Runtime (logger, SDK metrics), a
 * fatal-error handler, the ops HTTP server, and runs the worker until SIGINT/SIGTERM. An uncaught error
 * or unhandled rejection shuts the worker down cleanly (running activities get the grace time) and the
 * process then exits non-zero for its supervisor (compose `restart:`, Kubernetes) to start it again.
 */
export async function runWorkerMain(config: Config): Promise<void> {
  const ops = config.ops ?? DEFAULT_OPS;
  const log = createLogger({
    level: ops.logLevel,
    format: ops.logFormat,
    base: { service: 'sevsync-worker' },
  });
  const sdkMetricsPort = ops.workerHttpPort !== undefined ? await freeLoopbackPort() : undefined;
  Runtime.install({
    logger: log,
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(sdkMetricsPort !== undefined
        ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } }
        : {}),
    },
  });

  const current: { handle?: WorkerHandle } = {};
  let fatal: unknown;
  const onFatal = (kind: string) => (err: unknown) => {
    if (fatal !== undefined) return;
    fatal = err ?? new Error(kind);
    log.error(`fatal ${kind}: shutting the worker down`, { error: err });
    current.handle?.shutdown();
    // If the clean shutdown itself hangs, the supervisor still gets its exit.
    setTimeout(() => process.exit(1), (ops.shutdownGraceSeconds + 15) * 1000).unref();
    if (!current.handle) process.exit(1);
  };
  process.on('uncaughtException', onFatal('uncaughtException'));
  process.on('unhandledRejection', onFatal('unhandledRejection'));

  const started = performance.now();
  // The ops server answers from the start: /readyz says why the worker is not ready yet.
  const startup = new WorkerStartup(config.temporalNamespace);
  const server =
    ops.workerHttpPort !== undefined
      ? await startOpsServer(startup, {
          port: ops.workerHttpPort,
          host: ops.workerHttpHost,
          countStatements: ops.countStatements,
          ...(sdkMetricsPort !== undefined
            ? { sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics` }
            : {}),
        })
      : undefined;
  let handle: WorkerHandle;
  try {
    handle = await startup.start({ config });
  } catch (err) {
    // A namespace the workflows cannot run in: no polling, the commands that fix it, a non-zero exit.
    if (err instanceof NamespaceSetupError)
      log.error(`worker not started: ${err.summary}`, {
        namespace: config.temporalNamespace,
        problem: err.type,
        commands: err.commands,
      });
    await server?.close();
    throw err;
  }
  current.handle = handle;
  // `worker polling task queue` is what scripts (chaos, bench) wait for: keep the words.
  log.info(`worker polling task queue ${config.taskQueue}`, {
    taskQueue: config.taskQueue,
    namespace: config.temporalNamespace,
    workflowBundle: ops.workflowBundlePath ?? null,
    startMs: Math.round(performance.now() - started),
    httpPort: server?.port ?? null,
  });
  try {
    await handle.run();
  } finally {
    await server?.close();
    log.info('worker stopped', { fatal: fatal !== undefined });
  }
  if (fatal !== undefined) {
    throw new WorkerFatalError(
      `the worker stopped after a fatal error: ${redactText(fatal instanceof Error ? fatal.message : String(fatal))}`,
    );
  }
}
