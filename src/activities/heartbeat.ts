import { Context } from '@temporalio/activity';

/**
 * Heartbeats every few seconds while `fn` runs, with the latest details it reported. A worker that dies
 * mid-activity is then noticed within the heartbeat timeout (seconds), however long one sevDesk call takes.
 */
export async function withHeartbeat<T>(
  fn: (report: (details: unknown) => void) => Promise<T>,
  everyMs = 3000,
): Promise<T> {
  const ctx = Context.current();
  let details: unknown = ctx.info.heartbeatDetails;
  const beat = () => ctx.heartbeat(details);
  const timer = setInterval(beat, everyMs);
  try {
    beat();
    return await fn((d) => {
      details = d;
      beat();
    });
  } finally {
    clearInterval(timer);
  }
}
