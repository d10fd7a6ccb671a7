// The delivery workflow, one per webhook endpoint (`webhook-delivery:<endpoint>`), on the webhook task queue:
// a delivery run (an activity that delivers what is pending and then waits for new events), over and over.
// A failed delivery makes the run return the wait before the next attempt, which is a timer here; an endpoint
// that gave up waits for `enable`. Where delivery stands is in PostgreSQL, not in this workflow: it carries
// the endpoint id and its tuning only, never a secret or an event.
import {
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../webhooks/activities';

/** The endpoint was enabled again (or something else changed): deliver now. */
export const webhookEnableSignal = defineSignal('webhookEnable');

export interface WebhookDeliveryInput {
  endpointId: string;
  /** Continue-as-new after this many delivery runs (default 100: about 6 hours of an idle endpoint). */
  maxRunsPerExecution?: number;
  /** How long one run may deliver and wait for events (default 4 min); tests use less. */
  runBudgetMs?: number;
  /** Waits after failures in a row (default 5 s … 4 h); tests use milliseconds. */
  retryScheduleMs?: readonly number[];
}

const { deliverWebhooks } = proxyActivities<WebhookActivities>({
  // A run lasts its budget plus one page of deliveries, each bounded by SEVSYNC_WEBHOOK_TIMEOUT_MS.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  // The database or the worker failed, not the receiver (that is an outcome): try again soon, for ever.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<void> {
  let woken = false;
  setHandler(webhookEnableSignal, () => {
    woken = true;
  });
  const maxRuns = input.maxRunsPerExecution ?? 100;
  for (let run = 0; run < maxRuns; run++) {
    // Reset before the run: an `enable` that arrives while it runs is not lost.
    woken = false;
    const r = await deliverWebhooks({
      endpointId: input.endpointId,
      ...(input.runBudgetMs === undefined ? {} : { budgetMs: input.runBudgetMs }),
      ...(input.retryScheduleMs === undefined ? {} : { retryScheduleMs: input.retryScheduleMs }),
    });
    if (r.outcome === 'removed') return;
    if (r.outcome === 'retry') await condition(() => woken, r.delayMs);
    else if (r.outcome === 'disabled') await condition(() => woken);
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof webhookDeliveryWorkflow>(input);
}
