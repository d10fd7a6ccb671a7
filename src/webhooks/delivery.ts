// Delivering one endpoint's events: from its stored position, in the feed's order (per account: seq order),
// one POST at a time, each waiting for a 2xx before the next. The position is saved after every page (and
// before a failure is recorded), so a run that stops anywhere redelivers at most a page: at least once, never
// a gap. A failure ends the run with the wait before the next attempt (the workflow's timer), or, once the
// endpoint has failed for the give-up time, disables it. When it has caught up, the run waits for new events
// (LISTEN, with a poll) until its time budget is spent.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@temporalio/common';
import type { Sql } from '../db/client';
import type { ChangeEvent } from '../db/events';
import { EventsGoneError, accountEvents, globalEvents } from '../db/events';
import type { WebhookEndpointRecord, WebhookPosition } from '../db/webhooks';
import {
  claimWebhookRunner,
  disableWebhookEndpoint,
  loadWebhookEndpoint,
  recordWebhookFailure,
  saveWebhookProgress,
} from '../db/webhooks';
import { metrics } from '../metrics';
import type { EventNotifier } from './notify';
import type { WebhookSender } from './send';
import { webhookHeaders, webhookKey } from './sign';
import { displayUrl } from './url';

/** Waits after 1, 2, 3, … failures in a row: seconds at first, then hours (the last one repeats). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  3_600_000,
  2 * 3_600_000,
  4 * 3_600_000,
];

/** How long one run (one activity) delivers and waits for new events before it hands back to the workflow. */
export const DEFAULT_RUN_BUDGET_MS = 4 * 60_000;

/** Events read per page (and the most redelivered after a crash). */
export const PAGE_SIZE = 100;

/** The shortest wait before another attempt (a timer of its own in the workflow). */
const MIN_RETRY_MS = 100;

/** How often a run that has caught up looks for new events without a notification. */
const POLL_MS = 1000;

export interface DeliveryDeps {
  sql: Sql;
  sender: WebhookSender;
  notifier: EventNotifier;
  /** The endpoint's `whsec_…` secret (decrypted here, never handed further than the signer). */
  openSecret: (e: WebhookEndpointRecord) => string;
  /** An endpoint failing for this long is disabled (SEVSYNC_WEBHOOK_GIVE_UP_HOURS). */
  giveUpHours: number;
  log: Logger;
  /** True while the process shuts down: a run that is waiting hands back at once. */
  stopping?: () => boolean;
}

export interface DeliveryControl {
  /** Cancels the run (the activity's cancellation): in-flight requests stop, the run throws. */
  signal?: AbortSignal;
  /** Called after each page and each wait (the activity heartbeats; throws when cancelled). */
  beat?: () => void;
  budgetMs?: number;
  retryScheduleMs?: readonly number[];
}

export type DeliveryOutcome =
  /** The budget is spent, or another run took over: call again. */
  | { outcome: 'continue'; delivered: number }
  /** A delivery failed: call again after `delayMs`. */
  | { outcome: 'retry'; delivered: number; delayMs: number }
  /** The endpoint is disabled (it gave up now, or earlier): wait until it is enabled. */
  | { outcome: 'disabled'; delivered: number }
  /** The endpoint was removed: stop. */
  | { outcome: 'removed'; delivered: number };

interface Page {
  events: ChangeEvent[];
  next: WebhookPosition;
  /** As many events as asked for: there may be more right away. */
  full: boolean;
}

const samePosition = (a: WebhookPosition, b: WebhookPosition) =>
  'cursor' in a && 'cursor' in b
    ? a.cursor === b.cursor
    : 'afterSeq' in a && 'afterSeq' in b && a.afterSeq === b.afterSeq;

/** Where an endpoint stands now. */
export function positionOf(e: WebhookEndpointRecord): WebhookPosition {
  return e.accountId === null ? { cursor: e.cursor ?? '' } : { afterSeq: e.afterSeq ?? 0 };
}

/** The wait after `attempts` failures in a row. */
export function retryDelayMs(
  attempts: number,
  schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS,
): number {
  return schedule[Math.min(Math.max(attempts, 1), schedule.length) - 1] ?? 60_000;
}

export async function deliverPending(
  deps: DeliveryDeps,
  endpointId: string,
  ctl: DeliveryControl = {},
): Promise<DeliveryOutcome> {
  const { sql } = deps;
  const started = Date.now();
  const budgetMs = ctl.budgetMs ?? DEFAULT_RUN_BUDGET_MS;
  let delivered = 0;
  const ep = await loadWebhookEndpoint(sql, endpointId);
  if (!ep) return { outcome: 'removed', delivered };
  if (!ep.enabled) return { outcome: 'disabled', delivered };
  // A retry that is not due yet (the activity itself was retried early, e.g. after a worker restart).
  const notYet = (ep.nextAttemptAt?.getTime() ?? 0) - Date.now();
  if (notYet > 1000) return { outcome: 'retry', delivered, delayMs: notYet };
  const runner = randomUUID();
  if (!(await claimWebhookRunner(sql, endpointId, runner))) return { outcome: 'removed', delivered };
  const endpointLabel = { endpoint: endpointId };
  // The failures in a row so far; a 2xx in this run ends the streak (the save records that).
  let streak = { since: ep.failingSince, attempts: ep.attempts };

  const fail = async (status: number | null, error: string): Promise<DeliveryOutcome> => {
    metrics.webhookDeliveries.inc({ ...endpointLabel, outcome: 'failed' });
    const now = new Date();
    const failingSince = streak.since ?? now;
    const attempts = streak.attempts + 1;
    const giveUpAt = failingSince.getTime() + deps.giveUpHours * 3_600_000;
    const facts = {
      endpoint: endpointId,
      url: displayUrl(ep.url),
      account: ep.accountId,
      attempts,
      failingSince: failingSince.toISOString(),
      lastStatus: status,
      lastError: error,
    };
    if (now.getTime() >= giveUpAt) {
      const failure = { attempts, failingSince, nextAttemptAt: null, lastStatus: status, lastError: error };
      if (!(await recordWebhookFailure(sql, endpointId, runner, failure)))
        return { outcome: 'continue', delivered };
      const reason = `failed ${attempts} times in a row since ${failingSince.toISOString()}; last: ${error}`;
      if (!(await disableWebhookEndpoint(sql, endpointId, runner, reason)))
        return { outcome: 'continue', delivered };
      metrics.webhookDisabled.inc(endpointLabel);
      deps.log.warn('endpoint.disabled', {
        event: 'endpoint.disabled',
        ...facts,
        giveUpHours: deps.giveUpHours,
      });
      return { outcome: 'disabled', delivered };
    }
    // The last attempt falls on the give-up time itself: a receiver back by then is not disabled.
    const delayMs = Math.max(
      MIN_RETRY_MS,
      Math.min(retryDelayMs(attempts, ctl.retryScheduleMs), giveUpAt - now.getTime()),
    );
    const nextAttemptAt = new Date(now.getTime() + delayMs);
    const failure = { attempts, failingSince, nextAttemptAt, lastStatus: status, lastError: error };
    if (!(await recordWebhookFailure(sql, endpointId, runner, failure)))
      return { outcome: 'continue', delivered };
    deps.log.warn('endpoint.failed', {
      event: 'endpoint.failed',
      ...facts,
      nextAttemptAt: nextAttemptAt.toISOString(),
    });
    return { outcome: 'retry', delivered, delayMs };
  };

  let key: Buffer;
  try {
    key = webhookKey(deps.openSecret(ep));
  } catch (err) {
    return fail(null, err instanceof Error ? err.message : String(err));
  }

  const account = ep.accountId;
  const wanted = (e: ChangeEvent) => ep.types === null || ep.types.includes(e.type);

  const readPage = async (from: WebhookPosition, limit: number): Promise<Page> => {
    if ('afterSeq' in from) {
      const p = await accountEvents(sql, account!, from.afterSeq, limit);
      return { events: p.events, next: { afterSeq: p.next }, full: p.events.length === limit };
    }
    const p = await globalEvents(sql, from.cursor || undefined, limit);
    return { events: p.events, next: { cursor: p.next }, full: p.events.length === limit };
  };
  /** The position just before the page's i-th event (the global cursor of its i-th row). */
  const positionBefore = async (from: WebhookPosition, page: Page, i: number): Promise<WebhookPosition> => {
    if (i === 0) return from;
    if ('afterSeq' in from) return { afterSeq: page.events[i]!.seq - 1 };
    return (await readPage(from, i)).next;
  };

  let position = positionOf(ep);
  let unsaved = 0;
  let lastStatus: number | null = null;
  /** false: another run owns the endpoint now (or it was removed), so this one stops. */
  const save = async (at: WebhookPosition): Promise<boolean> => {
    const ok = await saveWebhookProgress(sql, endpointId, runner, {
      position: at,
      delivered: unsaved,
      lastStatus,
    });
    if (unsaved > 0) metrics.webhookDeliveries.inc({ ...endpointLabel, outcome: 'ok' }, unsaved);
    unsaved = 0;
    return ok;
  };

  for (;;) {
    let page: Page;
    try {
      page = await readPage(position, PAGE_SIZE);
    } catch (err) {
      if (!(err instanceof EventsGoneError)) throw err;
      // Retention removed events this endpoint had not received: go on with what is kept, and say so.
      position = 'afterSeq' in position ? { afterSeq: Number(err.resume) } : { cursor: err.resume };
      deps.log.warn('endpoint.events_lost', {
        event: 'endpoint.events_lost',
        endpoint: endpointId,
        account,
        reason: 'older than the event retention (SEVSYNC_EVENT_RETENTION_DAYS)',
      });
      if (!(await save(position))) return { outcome: 'continue', delivered };
      continue;
    }
    let i = 0;
    try {
      for (; i < page.events.length; i++) {
        const event = page.events[i]!;
        if (!wanted(event)) continue;
        const body = JSON.stringify(event);
        const res = await deps.sender.send(ep.url, webhookHeaders(key, event.id, body), body, ctl.signal);
        if (!res.ok) {
          if (!(await save(await positionBefore(position, page, i))))
            return { outcome: 'continue', delivered };
          return await fail(res.status, res.error ?? `HTTP ${res.status}`);
        }
        unsaved += 1;
        delivered += 1;
        lastStatus = res.status;
        streak = { since: null, attempts: 0 };
      }
    } catch (err) {
      // Cancelled (or the database failed) mid-page: keep what was delivered, best effort.
      if (unsaved > 0) await save(await positionBefore(position, page, i)).catch(() => false);
      throw err;
    }
    const moved = !samePosition(page.next, position);
    position = page.next;
    if ((moved || unsaved > 0) && !(await save(position))) return { outcome: 'continue', delivered };
    ctl.beat?.();
    if (Date.now() - started >= budgetMs || deps.stopping?.()) return { outcome: 'continue', delivered };
    if (!page.full) {
      const left = budgetMs - (Date.now() - started);
      await deps.notifier.wait(account ?? undefined, Math.min(POLL_MS, left), ctl.signal);
      ctl.beat?.();
      if (ctl.signal?.aborted)
        throw ctl.signal.reason instanceof Error ? ctl.signal.reason : new Error('cancelled');
    }
  }
}
