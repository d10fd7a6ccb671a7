import { Context } from '@temporalio/activity';

export interface HeartbeatTools {
  /** Records the latest progress (heartbeat details) and beats at once; throws if the activity is cancelled. */
  report: (details: unknown) => void;
  /**
   * Aborts when Temporal cancels the activity (a purge, a terminate, a deploy past shutdownGraceTime).
   * The worker's sevDesk clients already use it; pass it to anything else that waits (e.g. fetch).
   */
  signal: AbortSignal;
  /** Throws the cancellation (a CancelledFailure) if the activity has been cancelled: call between steps. */
  throwIfCancelled: () => void;
}

/**
 * Heartbeats every few seconds while `fn` runs, with the latest details it reported. A worker that dies
 * mid-activity is then noticed within the heartbeat timeout (seconds), however long one sevDesk call takes.
 * Heartbeats are also how a cancellation reaches the activity: when it arrives, `signal` aborts (in-flight
 * sevDesk requests stop), the next `report()` throws, and so does the end of `fn` if it got that far, so a
 * cancelled page is never reported as done.
 */
export async function withHeartbeat<T>(
  fn: (report: (details: unknown) => void, tools: HeartbeatTools) => Promise<T>,
  everyMs = 3000,
): Promise<T> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  let details: unknown = ctx.info.heartbeatDetails;
  const beat = () => ctx.heartbeat(details);
  const throwIfCancelled = () => {
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
  };
  const report = (d: unknown) => {
    throwIfCancelled();
    details = d;
    beat();
  };
  throwIfCancelled();
  const timer = setInterval(beat, everyMs);
  try {
    beat();
    const result = await fn(report, { report, signal, throwIfCancelled });
    throwIfCancelled();
    return result;
  } finally {
    clearInterval(timer);
  }
}
