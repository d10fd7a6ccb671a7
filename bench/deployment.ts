import path from 'node:path';
import type { Config } from '../src/config';
import type { WorkerQueue } from '../src/worker/queues';
import type { Child } from './infra';
import { freePort, startWorkerProcess } from './infra';
import type { Sample } from './worker-metrics';
import { scrapeMetrics } from './worker-metrics';

// The workers as deployed (docker-compose.yml, deploy/kubernetes): one process polls the sync and webhook
// task queues (`sevsync worker --queues sync,webhooks`), another the import queue (`--queues imports`), so
// that a bulk import's pages never share an event loop with the accounts' due syncs. The bench starts both,
// each with its own /metrics port (SEVSYNC_WORKER_HTTP_PORT), and measures them apart: their CPU shows in the
// per-process lists as "worker (sync)" and "worker (imports)".

export type WorkerRole = 'sync' | 'imports';

/** Process names in the CPU lists (proc-stats snapshotCpu): the keys of CpuShare.cpuSeconds and .cores. */
export const SYNC_WORKER = 'worker (sync)';
export const IMPORT_WORKER = 'worker (imports)';
export const WORKER_NAME: Record<WorkerRole, string> = { sync: SYNC_WORKER, imports: IMPORT_WORKER };

/** What each of the two processes polls, as in docker-compose.yml and deploy/kubernetes. */
export const DEPLOYED_QUEUES: Record<WorkerRole, WorkerQueue[]> = {
  sync: ['sync', 'webhooks'],
  imports: ['imports'],
};

export interface WorkerProcess {
  role: WorkerRole;
  /** SYNC_WORKER or IMPORT_WORKER. */
  name: string;
  queues: WorkerQueue[];
  child: Child;
  /** Its /metrics (and /healthz) port, SEVSYNC_WORKER_HTTP_PORT. */
  metricsPort: number;
  /** Its `--cpu-prof-dir`, when it runs under node --cpu-prof. */
  cpuProfileDir: string | undefined;
}

export interface Deployment {
  sync: WorkerProcess;
  imports: WorkerProcess;
  workers: WorkerProcess[];
  /** Both pids by process name, for snapshotCpu. */
  pids: Record<string, number>;
  /** Both workers' /metrics, scraped at once (an empty list for one that did not answer). */
  scrape(onError?: (err: unknown, w: WorkerProcess) => Sample[]): Promise<Record<WorkerRole, Sample[]>>;
  stop(): Promise<void>;
}

/**
 * The two worker processes of the deployment, started side by side. `env` goes to both (the same ConfigMap);
 * with cpuProfileDir each runs under --cpu-prof into `<dir>/sync` and `<dir>/imports`.
 */
export async function startDeployment(
  config: Config,
  opts: {
    env?: Record<string, string | undefined>;
    /** bench/worker-process.ts with this bundle instead of `sevsync worker` (it serves no /metrics). */
    prebuiltBundle?: string;
    cpuProfileDir?: string | undefined;
  } = {},
): Promise<Deployment> {
  const start = async (role: WorkerRole): Promise<WorkerProcess> => {
    const metricsPort = await freePort();
    const cpuProfileDir = opts.cpuProfileDir && path.join(opts.cpuProfileDir, role);
    const child = await startWorkerProcess(config, {
      queues: DEPLOYED_QUEUES[role],
      nodeArgs: cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
      ...(opts.prebuiltBundle ? { prebuiltBundle: opts.prebuiltBundle } : {}),
      env: { ...opts.env, SEVSYNC_WORKER_HTTP_PORT: String(metricsPort) },
    });
    return {
      role,
      name: WORKER_NAME[role],
      queues: DEPLOYED_QUEUES[role],
      child,
      metricsPort,
      cpuProfileDir,
    };
  };
  const started = await Promise.allSettled([start('sync'), start('imports')]);
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((w) => w.child.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const [sync, imports] = ok as [WorkerProcess, WorkerProcess];
  const workers = [sync, imports];
  return {
    sync,
    imports,
    workers,
    pids: { [sync.name]: sync.child.pid, [imports.name]: imports.child.pid },
    scrape: async (onError) => {
      const [s, i] = await Promise.all(
        workers.map((w) =>
          scrapeMetrics(w.metricsPort).catch((err: unknown) => (onError ? onError(err, w) : [])),
        ),
      );
      return { sync: s ?? [], imports: i ?? [] };
    },
    stop: async () => {
      await Promise.all(workers.map((w) => w.child.stop()));
    },
  };
}
