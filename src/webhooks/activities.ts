// The webhook worker's activity: one delivery run of one endpoint (delivery.ts), heartbeating. Its input and
// result carry ids, counts and a wait, never a secret or an event: the histories stay free of both.
import { Context } from '@temporalio/activity';
import { withHeartbeat } from '../activities/heartbeat';
import type { EventsConfig } from '../config';
import type { Sql } from '../db/client';
import type { Keyring } from '../secrets';
import type { DeliveryOutcome } from './delivery';
import { deliverPending } from './delivery';
import { EventNotifier } from './notify';
import { openWebhookSecret } from './secret';
import { WebhookSender } from './send';

export interface DeliverWebhooksInput {
  endpointId: string;
  /** How long the run may deliver and wait for new events (default 4 min). */
  budgetMs?: number;
  /** Waits after failures in a row (default: delivery.ts); tests use milliseconds. */
  retryScheduleMs?: readonly number[];
}

export interface WebhookActivityDeps {
  sql: Sql;
  keys: Keyring;
  events: EventsConfig;
  /** True once the worker shuts down: waiting runs hand back at once instead of holding the shutdown. */
  stopping?: () => boolean;
}

export function createWebhookActivities(deps: WebhookActivityDeps) {
  const sender = new WebhookSender({
    timeoutMs: deps.events.webhookTimeoutMs,
    allowPrivate: deps.events.webhookAllowPrivate,
  });
  const notifier = new EventNotifier(deps.sql);
  const activities = {
    /** Delivers what is pending for the endpoint, then waits for more until the budget is spent. */
    async deliverWebhooks(input: DeliverWebhooksInput): Promise<DeliveryOutcome> {
      const log = Context.current().log;
      return withHeartbeat((_report, tools) =>
        deliverPending(
          {
            sql: deps.sql,
            sender,
            notifier,
            openSecret: (e) => openWebhookSecret(deps.keys, e),
            giveUpHours: deps.events.webhookGiveUpHours,
            log,
            ...(deps.stopping ? { stopping: deps.stopping } : {}),
          },
          input.endpointId,
          {
            signal: tools.signal,
            beat: tools.throwIfCancelled,
            ...(input.budgetMs === undefined ? {} : { budgetMs: input.budgetMs }),
            ...(input.retryScheduleMs === undefined ? {} : { retryScheduleMs: input.retryScheduleMs }),
          },
        ),
      );
    },
  };
  return {
    activities,
    /** Ends the LISTEN connection and the kept-alive HTTP connections. */
    close: async () => {
      await notifier.close();
      await sender.close();
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>['activities'];
