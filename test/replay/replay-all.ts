// Replays saved histories on one replay worker: the error (or none) of each, by file name.
import type { ReplayResult } from '@temporalio/worker';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils';

let quiet = false;

/**
 * The expected nondeterminism warnings and worker state changes would only clutter the output: a failing
 * replay carries its details in the error the test prints. Once per test process.
 */
export function quietRuntime(): void {
  if (quiet) return;
  quiet = true;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
}

export interface Replay {
  /** The key of the result (a history's file name, or a variant of it). */
  key: string;
  /** The workflow id the history is replayed under. */
  workflowId: string;
  history: History;
}

export async function replayAll(
  options: Parameters<typeof Worker.runReplayHistories>[0],
  replays: readonly Replay[],
): Promise<Map<string, ReplayResult['error']>> {
  const errors = new Map<string, ReplayResult['error']>();
  let i = 0;
  // Results come back one per history, in order.
  for await (const result of Worker.runReplayHistories(options, replays)) {
    const key = replays[i++]?.key;
    if (key !== undefined) errors.set(key, result.error);
  }
  if (errors.size !== replays.length) throw new Error(`${errors.size} results for ${replays.length} replays`);
  return errors;
}
