// The webhook use cases: add, list, remove, test and enable an endpoint that receives the change feed as
// signed webhooks (docs/webhooks.md). The endpoint row is the truth; its delivery workflow
// (`webhook-delivery:<endpoint>`, on the webhook task queue) is derived from it: started by `add`, woken (or
// started again) by `enable`, ended by `remove`. The signing secret is shown once, by `add`; it is stored
// encrypted and appears in no message, log line or workflow history.
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { requireKeyring } from '../config';
import type { EventType } from '../db/events';
import { EVENT_TYPES } from '../db/events';
import type { WebhookEndpointRecord } from '../db/webhooks';
import {
  deleteWebhookEndpoint,
  enableWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookEndpoints,
  loadWebhookEndpoint,
} from '../db/webhooks';
import { WebhookAddressError, checkHost } from '../webhooks/address';
import { openWebhookSecret, sealWebhookSecret, WebhookSecretUnavailableError } from '../webhooks/secret';
import { WebhookSender } from '../webhooks/send';
import { generateWebhookSecret, webhookHeaders, webhookKey } from '../webhooks/sign';
import { eventsConfigOf, webhookTaskQueueOf, webhookWorkflowId } from '../webhooks/settings';
import { parseWebhookUrl } from '../webhooks/url';
import type { WebhookDeliveryInput } from '../workflows';
import { webhookDeliveryWorkflow, webhookEnableSignal } from '../workflows';
import type { AppDeps } from './deps';
import { AppError, guarded } from './errors';

export interface AddWebhookInput {
  url: string;
  /** Only this account's events; omitted: every account's. */
  accountId?: string;
  /** Only these event types (EVENT_TYPES); omitted: all. */
  types?: readonly string[];
  /** Delivery workflow tuning (tests and the history recorder). */
  tuning?: Omit<WebhookDeliveryInput, 'endpointId'>;
}

/** What `webhooks add` answers: the only time the secret is shown. */
export interface AddedWebhook {
  id: string;
  url: string;
  account: string | null;
  types: EventType[] | null;
  /** `whsec_…`: the receiver verifies signatures with it (docs/webhooks.md). */
  secret: string;
}

/** An endpoint as `webhooks list` shows it (never its secret). */
// Type aliases (not interfaces): the HTTP API's loose response schemas take them as they are.
export type WebhookView = {
  id: string;
  url: string;
  account: string | null;
  types: string[] | null;
  /** active: delivering; failing: retrying after failures; disabled: gave up, see `webhooks enable`. */
  state: 'active' | 'failing' | 'disabled';
  enabled: boolean;
  createdAt: string;
  delivered: number;
  lastDeliveredAt: string | null;
  /** Failed attempts in a row, since when, and when the next one is due. */
  attempts: number;
  failingSince: string | null;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
};

/** What `webhooks test` answers: a signed `webhook.test` event was posted, and how the receiver answered. */
export type WebhookTestResult = {
  id: string;
  url: string;
  eventId: string;
  ok: boolean;
  /** The HTTP status; null when there was no answer. */
  status: number | null;
  error: string | null;
  durationMs: number;
};

const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;
export const WEBHOOK_ID = /^we_[0-9a-f]{24}$/;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function view(e: WebhookEndpointRecord): WebhookView {
  return {
    id: e.id,
    url: e.url,
    account: e.accountId,
    types: e.types,
    state: !e.enabled ? 'disabled' : e.failingSince ? 'failing' : 'active',
    enabled: e.enabled,
    createdAt: e.createdAt.toISOString(),
    delivered: e.delivered,
    lastDeliveredAt: iso(e.lastDeliveredAt),
    attempts: e.attempts,
    failingSince: iso(e.failingSince),
    nextAttemptAt: iso(e.nextAttemptAt),
    lastStatus: e.lastStatus,
    lastError: e.lastError,
    disabledAt: iso(e.disabledAt),
    disabledReason: e.disabledReason,
  };
}

/** The event types asked for, checked against EVENT_TYPES and without repeats; undefined: all. */
export function parseEventTypes(types: readonly string[] | undefined): EventType[] | undefined {
  if (types === undefined) return undefined;
  const wanted = [...new Set(types.map((t) => t.trim()).filter(Boolean))];
  if (wanted.length === 0)
    throw new AppError(
      'invalid_input',
      `give at least one event type (${EVENT_TYPES.join(', ')}), or none for all`,
    );
  const unknown = wanted.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0)
    throw new AppError(
      'invalid_input',
      `unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the types are: ${EVENT_TYPES.join(', ')}`,
    );
  return wanted as EventType[];
}

/** The URL, checked as a delivery would check it: form, scheme, and the addresses its host resolves to. */
async function requireWebhookUrl(deps: Pick<AppDeps, 'config'>, raw: string): Promise<string> {
  const { webhookAllowPrivate: allowPrivate } = eventsConfigOf(deps.config);
  const parsed = parseWebhookUrl(raw, { allowPrivate });
  if (!parsed.ok) throw new AppError('invalid_input', `the webhook URL ${parsed.reason}`);
  let why: string | undefined;
  try {
    why = await checkHost(parsed.url.hostname, {
      allowPrivate,
      loopbackOnly: parsed.url.protocol === 'http:',
    });
  } catch (err) {
    if (!(err instanceof WebhookAddressError)) throw err;
    why = err.message;
  }
  if (why) throw new AppError('invalid_input', `the webhook URL is refused: ${why}`);
  return parsed.url.toString();
}

async function requireEndpoint(deps: Pick<AppDeps, 'db'>, id: string): Promise<WebhookEndpointRecord> {
  const e = WEBHOOK_ID.test(id) ? await loadWebhookEndpoint(deps.db.sql, id) : undefined;
  if (!e) throw new AppError('not_found', `no webhook ${id} (see \`sevsync webhooks list\`)`);
  return e;
}

const startOptions = (deps: Pick<AppDeps, 'config'>, input: WebhookDeliveryInput) => ({
  workflowId: webhookWorkflowId(input.endpointId),
  taskQueue: webhookTaskQueueOf(deps.config),
  args: [input] as [WebhookDeliveryInput],
  staticSummary: `webhook delivery of endpoint ${input.endpointId}`,
});

async function addWebhookUnguarded(deps: AppDeps, input: AddWebhookInput): Promise<AddedWebhook> {
  const accountId = input.accountId?.trim() || undefined;
  if (accountId !== undefined && !ACCOUNT_ID.test(accountId))
    throw new AppError('invalid_input', 'the account id must be 1-128 letters, digits or . _ @ : -');
  const types = parseEventTypes(input.types);
  const url = await requireWebhookUrl(deps, input.url);
  const ring = requireKeyring(deps.config);
  const id = `we_${randomBytes(12).toString('hex')}`;
  const secret = generateWebhookSecret();
  const sealed = sealWebhookSecret(ring, id, url, secret);
  await insertWebhookEndpoint(deps.db.sql, {
    id,
    url,
    accountId: accountId ?? null,
    types: types ?? null,
    secretCiphertext: sealed.ciphertext,
    secretKeyId: sealed.keyId,
  });
  try {
    await deps.temporal.workflow.start(webhookDeliveryWorkflow, {
      ...startOptions(deps, { endpointId: id, ...input.tuning }),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (err) {
    // Nobody knows the secret of an endpoint that was not started: nothing stays behind.
    await deleteWebhookEndpoint(deps.db.sql, id);
    throw new AppError(
      'unavailable',
      `the webhook was not added: its delivery could not be started (${(err as Error).message})`,
    );
  }
  return { id, url, account: accountId ?? null, types: types ?? null, secret };
}

async function listWebhooksUnguarded(deps: Pick<AppDeps, 'db'>): Promise<WebhookView[]> {
  return (await listWebhookEndpoints(deps.db.sql)).map(view);
}

async function getWebhookUnguarded(deps: Pick<AppDeps, 'db'>, id: string): Promise<WebhookView> {
  return view(await requireEndpoint(deps, id));
}

async function removeWebhookUnguarded(deps: AppDeps, id: string): Promise<void> {
  await requireEndpoint(deps, id);
  if (!(await deleteWebhookEndpoint(deps.db.sql, id)))
    throw new AppError('not_found', `no webhook ${id} (see \`sevsync webhooks list\`)`);
  try {
    await deps.temporal.workflow.getHandle(webhookWorkflowId(id)).terminate('webhook endpoint removed');
  } catch (err) {
    // Not running: nothing to stop. Temporal out of reach: its next run finds the endpoint gone and ends.
    if (err instanceof WorkflowNotFoundError) return;
  }
}

async function enableWebhookUnguarded(deps: AppDeps, id: string): Promise<WebhookView> {
  await requireEndpoint(deps, id);
  if (!(await enableWebhookEndpoint(deps.db.sql, id)))
    throw new AppError('not_found', `no webhook ${id} (see \`sevsync webhooks list\`)`);
  try {
    // Wakes the waiting workflow, or starts it again from the endpoint's stored position.
    await deps.temporal.workflow.signalWithStart(webhookDeliveryWorkflow, {
      ...startOptions(deps, { endpointId: id }),
      signal: webhookEnableSignal,
      signalArgs: [],
    });
  } catch (err) {
    throw new AppError(
      'unavailable',
      `webhook ${id} is enabled, but its delivery could not be woken (${(err as Error).message}); ` +
        'run the same command again',
    );
  }
  return view(await requireEndpoint(deps, id));
}

/**
 * Posts a `webhook.test` event, signed like every delivery, to the endpoint (from this process, not the
 * worker) and reports the answer. Works for a disabled endpoint too: a way to check a receiver before
 * enabling it again.
 */
async function testWebhookUnguarded(
  deps: Pick<AppDeps, 'db' | 'config'>,
  id: string,
): Promise<WebhookTestResult> {
  const e = await requireEndpoint(deps, id);
  let key: Buffer;
  try {
    key = webhookKey(openWebhookSecret(requireKeyring(deps.config), e));
  } catch (err) {
    if (err instanceof WebhookSecretUnavailableError) throw new AppError('failed', err.message);
    throw err;
  }
  const events = eventsConfigOf(deps.config);
  const sender = new WebhookSender({
    timeoutMs: events.webhookTimeoutMs,
    allowPrivate: events.webhookAllowPrivate,
  });
  const eventId = `evt_${randomBytes(16).toString('hex')}`;
  const body = JSON.stringify({
    id: eventId,
    seq: 0,
    type: 'webhook.test',
    account: e.accountId,
    occurredAt: new Date().toISOString(),
    data: { endpoint: e.id, message: 'a test delivery from sevsync (`webhooks test`)' },
  });
  try {
    const res = await sender.send(e.url, webhookHeaders(key, eventId, body), body);
    return {
      id: e.id,
      url: e.url,
      eventId,
      ok: res.ok,
      status: res.status,
      error: res.error,
      durationMs: res.durationMs,
    };
  } finally {
    await sender.close();
  }
}

// Temporal or PostgreSQL out of reach comes out as AppError('unavailable') (HTTP 503).
export const addWebhook = guarded(addWebhookUnguarded);
export const listWebhooks = guarded(listWebhooksUnguarded);
export const getWebhook = guarded(getWebhookUnguarded);
export const removeWebhook = guarded(removeWebhookUnguarded);
export const enableWebhook = guarded(enableWebhookUnguarded);
export const testWebhook = guarded(testWebhookUnguarded);
