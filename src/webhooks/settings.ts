// The webhook settings of a configuration (config.events, from SEVSYNC_WEBHOOK_*).
import type { Config, EventsConfig } from '../config';
import { DEFAULT_EVENTS } from '../config';

export const eventsConfigOf = (config: Pick<Config, 'events'>): EventsConfig =>
  config.events ?? DEFAULT_EVENTS;

/**
 * The task queue of the delivery workflows and their activities: SEVSYNC_WEBHOOK_TASK_QUEUE. A configuration
 * built by hand without `events` (tests, benchmarks) gets `<task queue>-webhooks`, so that workers of
 * different task queues never take each other's deliveries.
 */
export const webhookTaskQueueOf = (config: Pick<Config, 'events' | 'taskQueue'>): string =>
  config.events?.webhookTaskQueue ?? `${config.taskQueue}-webhooks`;

/** The delivery workflow of an endpoint. */
export const webhookWorkflowId = (endpointId: string): string => `webhook-delivery:${endpointId}`;
