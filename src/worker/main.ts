// `sevsync worker` as a process: the Temporal Runtime (JSON logs, SDK metrics), the ops server from the
// first moment, the worker (the queues of `--queues`) until SIGINT/SIGTERM, and a fatal-error handler that
// shuts it down cleanly.
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type { State } from '@temporalio/worker';
import type { Config } from '../config';
import { DEFAULT_OPS } from '../config';
import { createLogger, redactText } from '../log';
import { describeTemporalSecurity } from '../temporal/connection';
import type { WorkerHandle, WorkerOptions } from './create';
import { createWorker } from './create';
import { freeLoopbackPort } from './free-port';
import { NamespaceStatus } from './namespace';
import { NamespaceSetupError } from './namespace-problems';
import type { OpsSource } from './ops-server';
import { startOpsServer } from './ops-server';

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
  const taskQueues = handle.served.map((s) => s.taskQueue);
  log.info(`worker polling task queue${taskQueues.length > 1 ? 's' : ''} ${taskQueues.join(', ')}`, {
    queues: handle.served.map((s) => s.queue),
    taskQueues,
    taskQueue: config.taskQueue,
    namespace: config.temporalNamespace,
    temporal: describeTemporalSecurity(config.temporal),
    encryptPayloads: config.temporal?.encryptPayloads ?? false,
    // An imports-only process runs no workflows: no bundle.
    workflowBundle: handle.served.some((s) => s.queue !== 'imports')
      ? (ops.workflowBundlePath ?? null)
      : null,
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
