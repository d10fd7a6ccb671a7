// Retention of the change feed: every hour (and once at start) the worker removes events older than
// SEVSYNC_EVENT_RETENTION_DAYS, a few thousand rows per transaction with a pause between them, so that the
// table stays bounded without one huge delete (and the vacuum storm after it). Several workers may run it
// at once: they only remove the same rows.
import type { Logger } from '@temporalio/common';
import type { Sql } from '../db/client';
import { pruneEvents } from '../db/events';

export interface EventRetention {
  stop(): Promise<void>;
}

export function startEventRetention(opts: {
  sql: Sql;
  retentionDays: number;
  log: Logger;
  everyMs?: number;
  batch?: number;
  pauseMs?: number;
}): EventRetention {
  const every = opts.everyMs ?? 3_600_000;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const once = async () => {
    let deleted = 0;
    try {
      // One batch at a time, a pause between: other writers keep the disk.
      while (!stopped) {
        const r = await pruneEvents(opts.sql, {
          retentionDays: opts.retentionDays,
          batch: opts.batch ?? 5000,
          maxBatches: 1,
        });
        deleted += r.deleted;
        if (r.deleted === 0) break;
        await new Promise((res) => setTimeout(res, opts.pauseMs ?? 200));
      }
      if (deleted > 0) opts.log.info('events.pruned', { deleted, retentionDays: opts.retentionDays });
    } catch (err) {
      opts.log.warn('events.prune_failed', { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = once().then(schedule);
    }, every);
    timer.unref();
  };
  running = once().then(schedule);
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
