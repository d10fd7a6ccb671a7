import type { Client, WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

export interface Run {
  runId: string;
  events: HistoryEvent[];
  startMs: number;
  endMs: number;
}

export function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
}

/**
 * Every run of a workflow id (continue-as-new makes one per run), oldest first, with its full history: the
 * latest run, then back along each run's continuedExecutionRunId (no visibility query: 10,000 accounts'
 * histories are read in one pass of direct fetches).
 */
export async function runsOf(client: Client, workflowId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let runId: string | undefined;
  for (;;) {
    const h = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = h.events ?? [];
    const first = events[0];
    runs.push({
      runId: runId ?? first?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '?',
      events,
      startMs: eventMs(first ?? {}),
      endMs: eventMs(events[events.length - 1] ?? {}),
    });
    runId = first?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) break;
  }
  return runs.sort((a, b) => a.startMs - b.startMs);
}

export interface ActivityTiming {
  type: string;
  run: number;
  scheduledMs: number;
  startedMs: number | null;
  completedMs: number | null;
  attempt: number;
  /** A local activity (recorded by a marker, never queued on the server). */
  local?: boolean;
}

const MARKER_LOCAL_ACTIVITY = 'core_local_activity';

function timestampMs(t: unknown): number | null {
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : null;
  }
  if (t && typeof t === 'object') {
    const o = t as { seconds?: number | string; nanos?: number };
    if (o.seconds === undefined) return null;
    return Number(o.seconds) * 1000 + (o.nanos ?? 0) / 1e6;
  }
  return null;
}

/** The local activity a marker records (the SDK core's JSON "data" detail): its type and completion time. */
function localActivityOf(
  e: HistoryEvent,
): { type: string; completedMs: number | null; attempt: number } | null {
  const m = e.markerRecordedEventAttributes;
  if (!m || m.markerName !== MARKER_LOCAL_ACTIVITY) return null;
  const raw = m.details?.['data']?.payloads?.[0]?.data;
  if (!raw) return { type: '?', completedMs: null, attempt: 1 };
  try {
    const d = JSON.parse(Buffer.from(raw).toString('utf8')) as {
      activity_type?: string;
      complete_time?: unknown;
      attempt?: number;
    };
    return {
      type: d.activity_type ?? '?',
      completedMs: timestampMs(d.complete_time),
      attempt: d.attempt ?? 1,
    };
  } catch {
    return { type: '?', completedMs: null, attempt: 1 };
  }
}

/**
 * Activities in history order, with the times the server recorded for scheduling, start and completion.
 * Local activities (a MarkerRecorded each) count too: they run inside the workflow task before their marker,
 * so their schedule and start are that task's start, their completion the time in the marker (else the
 * marker's own time); `local` tells them apart.
 */
export function activityTimings(runs: Run[]): ActivityTiming[] {
  const out: ActivityTiming[] = [];
  runs.forEach((run, r) => {
    const bySchedId = new Map<string, ActivityTiming>();
    let taskStartedMs: number | null = null;
    for (const e of run.events) {
      const id = String(e.eventId ?? '');
      if (e.workflowTaskStartedEventAttributes) taskStartedMs = eventMs(e);
      const la = e.markerRecordedEventAttributes ? localActivityOf(e) : null;
      if (la) {
        const at = taskStartedMs ?? eventMs(e);
        out.push({
          type: la.type,
          run: r,
          scheduledMs: at,
          startedMs: at,
          completedMs: la.completedMs ?? eventMs(e),
          attempt: la.attempt,
          local: true,
        });
      } else if (e.activityTaskScheduledEventAttributes) {
        const a: ActivityTiming = {
          type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?',
          run: r,
          scheduledMs: eventMs(e),
          startedMs: null,
          completedMs: null,
          attempt: 1,
        };
        bySchedId.set(id, a);
        out.push(a);
      } else if (e.activityTaskStartedEventAttributes) {
        const a = bySchedId.get(String(e.activityTaskStartedEventAttributes.scheduledEventId ?? ''));
        if (a) {
          a.startedMs = eventMs(e);
          a.attempt = e.activityTaskStartedEventAttributes.attempt ?? 1;
        }
      } else if (e.activityTaskCompletedEventAttributes) {
        const a = bySchedId.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId ?? ''));
        if (a) a.completedMs = eventMs(e);
      }
    }
  });
  return out;
}

/**
 * Workflow tasks scheduled in [fromMs, toMs): queue time (Started minus Scheduled) and processing time
 * (Completed minus Started: the worker running the workflow code and answering), in ms.
 */
export function workflowTaskTimes(
  runs: Run[],
  fromMs = 0,
  toMs = Infinity,
): { queue: number[]; processing: number[] } {
  const queue: number[] = [];
  const processing: number[] = [];
  for (const run of runs) {
    const scheduled = new Map<string, number>();
    const started = new Map<string, number>();
    for (const e of run.events) {
      if (e.workflowTaskScheduledEventAttributes) scheduled.set(String(e.eventId), eventMs(e));
      else if (e.workflowTaskStartedEventAttributes) {
        const s = scheduled.get(String(e.workflowTaskStartedEventAttributes.scheduledEventId ?? ''));
        if (s !== undefined && s >= fromMs && s < toMs) {
          queue.push(eventMs(e) - s);
          started.set(String(e.eventId), eventMs(e));
        }
      } else if (e.workflowTaskCompletedEventAttributes) {
        const st = started.get(String(e.workflowTaskCompletedEventAttributes.startedEventId ?? ''));
        if (st !== undefined) processing.push(eventMs(e) - st);
      }
    }
  }
  return { queue, processing };
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: an observed value, never an interpolation between two.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** The middle value; of an even count, the mean of the two middle ones (0 of none). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return 0;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const mean = (values: number[]): number | null =>
  values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;

export const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** Runs async jobs with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

/**
 * How late timers fired: TimerFired minus (TimerStarted + its startToFireTimeout), for timers that were due in
 * [fromMs, toMs). Shows the server's share of a late sync, apart from the worker's.
 */
export function timerLateness(runs: Run[], fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (const run of runs) {
    const due = new Map<string, number>();
    for (const e of run.events) {
      const started = e.timerStartedEventAttributes;
      if (started) {
        const d = started.startToFireTimeout;
        const ms = Number(d?.seconds ?? 0) * 1000 + (d?.nanos ?? 0) / 1e6;
        due.set(String(e.eventId), eventMs(e) + ms);
      } else if (e.timerFiredEventAttributes) {
        const d = due.get(String(e.timerFiredEventAttributes.startedEventId ?? ''));
        if (d !== undefined && d >= fromMs && d < toMs) out.push(eventMs(e) - d);
      }
    }
  }
  return out;
}
