// The webhook endpoints over HTTP, /api/webhooks: the CLI's `webhooks` commands and their `--json` shapes.
// Endpoints see every account (or one, chosen by the caller), so only the API token (or a session opened for
// every account) manages them; a session for one account gets 403.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app/deps';
import type { AddWebhookInput, AddedWebhook, WebhookTestResult, WebhookView } from '../app/webhooks';
import {
  WEBHOOK_ID,
  addWebhook,
  enableWebhook,
  listWebhooks,
  removeWebhook,
  testWebhook,
} from '../app/webhooks';
import { EVENT_TYPES } from '../db/events';
import { AccountParams, ErrorBody } from './schemas';

/** The webhook use cases, bound to one set of dependencies. */
export interface WebhookUseCases {
  addWebhook(input: AddWebhookInput): Promise<AddedWebhook>;
  listWebhooks(): Promise<WebhookView[]>;
  removeWebhook(id: string): Promise<void>;
  testWebhook(id: string): Promise<WebhookTestResult>;
  enableWebhook(id: string): Promise<WebhookView>;
}

export function bindWebhookUseCases(deps: AppDeps): WebhookUseCases {
  return {
    addWebhook: (input) => addWebhook(deps, input),
    listWebhooks: () => listWebhooks(deps),
    removeWebhook: (id) => removeWebhook(deps, id),
    testWebhook: (id) => testWebhook(deps, id),
    enableWebhook: (id) => enableWebhook(deps, id),
  };
}

const WebhookParams = z.object({
  id: z.string().regex(WEBHOOK_ID, 'must be a webhook id (we_ and 24 hex digits)').describe('webhook id'),
});

const EventTypeName = z.string().describe(`an event type: ${EVENT_TYPES.join(', ')}`);

export const AddWebhookBody = z.strictObject({
  url: z.string().min(1).max(2048).describe('https:// URL (plain http:// only to a loopback host)'),
  account: AccountParams.shape.account
    .optional()
    .describe("only this account's events (default: every account's)"),
  types: z.array(EventTypeName).min(1).max(50).optional().describe('only these event types (default: all)'),
});

export const AddedWebhookBody = z.object({
  id: z.string(),
  url: z.string(),
  account: z.string().nullable(),
  types: z.array(z.string()).nullable(),
  secret: z.string().describe('whsec_…: shown only in this answer; verifies webhook-signature'),
});

export const WebhookBody = z.looseObject({
  id: z.string(),
  url: z.string(),
  account: z.string().nullable(),
  types: z.array(z.string()).nullable(),
  state: z.enum(['active', 'failing', 'disabled']),
  enabled: z.boolean(),
  createdAt: z.string(),
  delivered: z.number(),
  lastDeliveredAt: z.string().nullable(),
  attempts: z.number(),
  failingSince: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
});

export const WebhookTestBody = z.looseObject({
  id: z.string(),
  url: z.string(),
  eventId: z.string(),
  ok: z.boolean(),
  status: z.number().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
});

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  502: ErrorBody,
  503: ErrorBody,
};

const route = <S extends { summary: string; response: object }>({ summary, ...schema }: S) => ({
  schema: { summary, tags: ['webhooks'], ...schema, response: { ...schema.response, ...errors } },
});

/** Endpoints are not any one account's: a session opened for one account may not manage them. */
async function everyAccountOnly(req: FastifyRequest, reply: FastifyReply) {
  const principal = (req as { principal?: { account: string | null } | null }).principal;
  if (principal && principal.account !== null)
    return reply.code(403).send({
      error: {
        type: 'forbidden',
        message: 'webhooks are managed with the API token (Authorization: Bearer)',
      },
    });
}

export function registerWebhooksApi(root: FastifyInstance, deps: { webhooks: WebhookUseCases }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const uc = deps.webhooks;
  const base = '/api/webhooks';

  app.post(
    base,
    {
      ...route({
        summary:
          'Add a webhook endpoint: it receives the change feed from now on, signed (Standard Webhooks); ' +
          'the answer holds its secret, shown only here',
        body: AddWebhookBody,
        response: { 201: AddedWebhookBody },
      }),
      preHandler: everyAccountOnly,
    },
    async (req, reply) => {
      const added = await uc.addWebhook({
        url: req.body.url,
        ...(req.body.account === undefined ? {} : { accountId: req.body.account }),
        ...(req.body.types === undefined ? {} : { types: req.body.types }),
      });
      return reply.code(201).send(added);
    },
  );

  app.get(
    base,
    {
      ...route({
        summary: 'The webhook endpoints, with how far delivery got (a disabled one says why)',
        response: { 200: z.array(WebhookBody) },
      }),
      preHandler: everyAccountOnly,
    },
    () => uc.listWebhooks(),
  );

  app.delete(
    `${base}/:id`,
    {
      ...route({
        summary: 'Stop delivering and remove the endpoint',
        params: WebhookParams,
        response: { 204: z.null().describe('removed') },
      }),
      preHandler: everyAccountOnly,
    },
    async (req, reply) => {
      await uc.removeWebhook(req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${base}/:id/test`,
    {
      ...route({
        summary: 'Send a signed `webhook.test` event to the endpoint now; answers how the receiver answered',
        params: WebhookParams,
        response: { 200: WebhookTestBody },
      }),
      preHandler: everyAccountOnly,
    },
    (req) => uc.testWebhook(req.params.id),
  );

  app.post(
    `${base}/:id/enable`,
    {
      ...route({
        summary: 'Enable a disabled endpoint: delivery resumes where it stopped (idempotent)',
        params: WebhookParams,
        response: { 200: WebhookBody },
      }),
      preHandler: everyAccountOnly,
    },
    (req) => uc.enableWebhook(req.params.id),
  );
}
