import { IMPORT_WORKER, SYNC_WORKER } from './deployment';
import type { Run } from './histories';
import { eventMs, workflowTaskTimes } from './histories';
import type { Sample } from './worker-metrics';
import { growth } from './worker-metrics';

// What one account-cycle of the steady state costs in CPU, per process of the deployment, and where the sync
// worker's and Temporal's parts go. Measured over the steady window: each process's CPU (from /proc) divided
// by the sync cycles that started in the window. The cycles are nearly all idle ones (accounts without
// changes); the few others (sync-now samples, first full syncs near the window) are in the same CPU, so the
// figure is an upper bound for an idle cycle, and the table says how many there were.

/** The processes that make up the deployment's cost (not the sandbox, which stands in for sevDesk). */
export const DEPLOYMENT_PROCESSES = [SYNC_WORKER, IMPORT_WORKER, 'temporal', 'postgres'] as const;

export interface CycleCost {
  /** Sync cycles that started in the window, all accounts; of them, of accounts without changes. */
  cycles: number;
  idleCycles: number;
  /** CPU ms per cycle by process (CpuShare names; the bench's own process left out). */
  cpuMsPerCycle: Record<string, number>;
  /** Sum over DEPLOYMENT_PROCESSES: both workers, Temporal, PostgreSQL. */
  totalMs: number;
  /** Where the sync worker's part goes (wall times of its threads, not CPU: they overlap and wait). */
  syncWorker: {
    /** Workflow tasks completed in the window, per cycle (from the histories). */
    workflowTasks: number | null;
    /** Of its workflow tasks, those that found their workflow cached and those that replayed its history (SDK). */
    cachedTasks: number | null;
    replayedTasks: number | null;
    /** The SDK's time on workflow tasks (receipt to completion, the local activity included), ms per cycle. */
    workflowTaskMs: number | null;
    /** The SDK's time replaying histories (tasks after a cache miss), ms per cycle. */
    replayMs: number | null;
    /** The quick local activity (syncAccountQuick, inside a workflow task): runs and ms per cycle (SDK). */
    localActivities: number | null;
    localActivityMs: number | null;
  };
  temporal: {
    /** History events written in the window (every account's), per cycle. */
    historyEvents: number | null;
    /** Temporal's CPU per history event written (ms). */
    cpuMsPerHistoryEvent: number | null;
  };
}

/** Growth of one of the SDK's counters over a window, whatever prefix and suffix its exporter gives it. */
export function sdkCounter(before: Sample[], after: Sample[], metric: string): number | null {
  const name = after.find((m) => new RegExp(`(^|_)${metric}(_total)?$`).test(m.name))?.name;
  if (name !== undefined) return growth(before, after, name);
  // The SDK exports a counter from its first increment on: none of it next to its other metrics is 0.
  return after.some((m) => m.name.startsWith('temporal_')) ? 0 : null;
}

/**
 * Growth of one of the SDK's histograms over a window (all label sets): its count and the sum of its values
 * in ms (the SDK's Prometheus exporter writes milliseconds unless the name says seconds).
 */
export function sdkHistogram(
  before: Sample[],
  after: Sample[],
  metric: string,
): { count: number; ms: number } | null {
  const sum = after.find((m) =>
    new RegExp(`(^|_)${metric}(_seconds|_milliseconds)?_sum$`).test(m.name),
  )?.name;
  if (sum === undefined) return null;
  const count = growth(before, after, sum.replace(/_sum$/, '_count'));
  const total = growth(before, after, sum);
  if (count === null || total === null) return null;
  return { count, ms: /_seconds_sum$/.test(sum) ? total * 1000 : total };
}

export function cycleCost(opts: {
  all: Run[][];
  t0: number;
  t1: number;
  cpuSeconds: Record<string, number>;
  /** The sync worker's /metrics at the window's start and end. */
  metrics: Record<'before' | 'after', Sample[]>;
  cycles: number;
  idleCycles: number;
}): CycleCost {
  const { all, t0, t1, cycles } = opts;
  const per = (x: number | null | undefined) =>
    x === null || x === undefined || cycles === 0 ? null : x / cycles;
  const cpuMsPerCycle: Record<string, number> = {};
  for (const [name, s] of Object.entries(opts.cpuSeconds))
    if (name !== 'bench' && cycles > 0) cpuMsPerCycle[name] = (s * 1000) / cycles;
  const totalMs = DEPLOYMENT_PROCESSES.reduce((a, p) => a + (cpuMsPerCycle[p] ?? 0), 0);
  const tasks = all.map((runs) => workflowTaskTimes(runs, t0, t1).processing.length);
  let events = 0;
  for (const runs of all)
    for (const r of runs)
      for (const e of r.events) {
        const t = eventMs(e);
        if (t >= t0 && t < t1) events += 1;
      }
  const { before, after } = opts.metrics;
  const replay = sdkHistogram(before, after, 'workflow_task_replay_latency');
  const task = sdkHistogram(before, after, 'workflow_task_execution_latency');
  const local = sdkHistogram(before, after, 'local_activity_execution_latency');
  const temporalMs = (opts.cpuSeconds['temporal'] ?? 0) * 1000;
  return {
    cycles,
    idleCycles: opts.idleCycles,
    cpuMsPerCycle,
    totalMs,
    syncWorker: {
      workflowTasks: per(tasks.reduce((a, n) => a + n, 0)),
      cachedTasks: per(sdkCounter(before, after, 'sticky_cache_hit')),
      replayedTasks: per(sdkCounter(before, after, 'sticky_cache_miss')),
      workflowTaskMs: per(task?.ms),
      replayMs: per(replay?.ms),
      localActivities: per(local?.count),
      localActivityMs: per(local?.ms),
    },
    temporal: {
      historyEvents: per(events),
      cpuMsPerHistoryEvent: events > 0 ? temporalMs / events : null,
    },
  };
}
