// The JSON API under /api/accounts/:account/...: the CLI's use cases and `--json` shapes over HTTP.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { safeNext } from './auth';
import type { SessionUseCases } from './sessions';
import {
  AccountEventsBody,
  AccountEventsQuery,
  AccountParams,
  CustomerBody,
  CustomerHistoryBody,
  CustomerParams,
  CustomersPageBody,
  GlobalEventsBody,
  GlobalEventsQuery,
  HistoryBody,
  HistoryQuery,
  AddInterfaceBody,
  CustomersBody,
  DeleteInterfaceQuery,
  ErrorBody,
  ImportBody,
  ImportFiguresBody,
  ImportParams,
  ImportPendingBody,
  ImportStartedBody,
  NotModified,
  PageQuery,
  PatchInterfaceBody,
  ReconcileBody,
  ReconcileConfirmedBody,
  SignInLinkBody,
  SignInLinkCreatedBody,
  StatusBody,
  StatusPageBody,
  SyncCountsBody,
  SyncNowBody,
  SyncParams,
  SyncPendingBody,
  SyncRequestedBody,
} from './schemas';
import type { ImportStartedJson, UseCases } from './use-cases';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  503: ErrorBody,
};

/** How long a route holds a request that waits for a sync or a walk before it answers 202 with a Location. */
export const DEFAULT_WAIT_MS = 25_000;
/** How long a poll of that Location waits for the end (it answers at once when it has ended). */
const POLL_MS = 1000;

/**
 * A weak ETag from the answer as serialized, and `cache-control: no-cache` (keep it, but ask again): an
 * If-None-Match that matches gets 304 without a body. A route's onSend hook, so it runs after the server's
 * onRequest hook that sets `no-store`.
 */
async function revalidate(req: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (reply.statusCode !== 200 || typeof payload !== 'string') return payload;
  const etag = `W/"${createHash('sha256').update(payload).digest('base64url').slice(0, 32)}"`;
  void reply.header('etag', etag).header('cache-control', 'no-cache');
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const asked = req.headers['if-none-match'];
  if (asked && asked.split(',').some((t) => t.trim() === '*' || opaque(t) === opaque(etag))) {
    void reply.code(304).removeHeader('content-type').removeHeader('content-length');
    return null;
  }
  return payload;
}

/** 202 Accepted with a Location (and the same in the body): the wait ended before the work did. */
function pending<T extends object>(reply: FastifyReply, location: string, body: T) {
  return reply
    .code(202)
    .header('location', location)
    .send({ ...body, location });
}

/** A route under /api/accounts/:account: its OpenAPI summary and tag, the account parameter, the error replies. */
function accountRoute<S extends { summary: string; response: object }>(
  tag: string,
  { summary, ...schema }: S,
) {
  return {
    schema: {
      summary,
      tags: [tag],
      params: AccountParams,
      ...schema,
      response: { ...schema.response, ...errors },
    },
  };
}

export function registerApi(
  root: FastifyInstance,
  deps: {
    useCases: UseCases;
    sessions: SessionUseCases;
    origin: (req: FastifyRequest) => string;
    /** How long a waiting route holds the request before it answers 202 (default DEFAULT_WAIT_MS). */
    waitMs?: number;
  },
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const uc = deps.useCases;
  const base = '/api/accounts/:account';
  const waitMs = deps.waitMs ?? DEFAULT_WAIT_MS;
  const pollMs = Math.min(waitMs, POLL_MS);
  const accountPath = (account: string) => `/api/accounts/${encodeURIComponent(account)}`;
  const syncLocation = (account: string, syncId: string) =>
    `${accountPath(account)}/syncs/${encodeURIComponent(syncId)}`;
  const importLocation = (account: string, importId: string) =>
    `${accountPath(account)}/imports/${encodeURIComponent(importId)}`;
  /**
   * The final figures of a started import or reconcile when it ends within the wait; else 202 with its
   * progress and where to ask again.
   */
  const followed = async (reply: FastifyReply, account: string, started: ImportStartedJson) => {
    const walk = await uc.followImportWithin(account, started.importId, waitMs);
    if (walk.figures) return { importId: started.importId, dryRun: started.dryRun, ...walk.figures };
    return pending(reply, importLocation(account, started.importId), { ...started, ...walk.progress });
  };

  app.post(
    `${base}/interface`,
    accountRoute('interface', {
      summary:
        'Add the sevDesk interface: checks the token against sevDesk, stores it encrypted, starts syncing',
      body: AddInterfaceBody,
      response: { 201: StatusBody, 422: ErrorBody },
    }),
    async (req, reply) => {
      await uc.addInterface({ accountId: req.params.account, ...req.body });
      return reply.code(201).send(await uc.getStatus(req.params.account));
    },
  );

  const patchInterface = accountRoute('interface', {
    summary:
      'Activate / deactivate (`{active}`), or change settings (only while deactivated; a new `token` also ' +
      'while active when sevDesk rejected the stored one: the sync resumes)',
    body: PatchInterfaceBody,
    response: { 200: StatusBody, 422: ErrorBody },
  });
  app.patch(`${base}/interface`, patchInterface, async (req) => {
    const { active, ...settings } = req.body;
    const accountId = req.params.account;
    const changesSettings = Object.keys(settings).length > 0;
    // Settings change only while deactivated: deactivate first, activate last.
    if (active === false) await uc.setInterfaceActive(accountId, false);
    if (changesSettings) await uc.updateInterfaceSettings({ accountId, ...settings });
    if (active === true) await uc.setInterfaceActive(accountId, true);
    return uc.getStatus(accountId);
  });

  app.delete(
    `${base}/interface`,
    accountRoute('interface', {
      summary: 'Stop syncing and remove the interface (`?purge=true` also deletes the synced invoices)',
      querystring: DeleteInterfaceQuery,
      response: { 204: z.null().describe('removed') },
    }),
    async (req, reply) => {
      await uc.removeInterface(req.params.account, req.query.purge === 'true');
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${base}/sync-now`,
    accountRoute('sync', {
      summary:
        'Sync now (`{wait: true}` answers with the counts when it has finished; when that takes longer than ' +
        'about 25 s, 202 with a Location to poll)',
      body: SyncNowBody,
      response: { 200: SyncCountsBody, 202: SyncPendingBody.or(SyncRequestedBody) },
    }),
    async (req, reply) => {
      const account = req.params.account;
      if (!req.body?.wait) {
        await uc.syncNow(account, false);
        return reply.code(202).send({ requested: true as const });
      }
      const run = await uc.syncNowWithin(account, waitMs);
      if (run.counts) return run.counts;
      return pending(reply, syncLocation(account, run.syncId), {
        requested: true as const,
        syncId: run.syncId,
        state: 'running' as const,
      });
    },
  );

  app.get(
    `${base}/syncs/:syncId`,
    {
      schema: {
        summary:
          'A sync-now that answered 202: its counts when it has finished, else 202 again (poll its Location)',
        tags: ['sync'],
        params: SyncParams,
        response: { 200: SyncCountsBody, 202: SyncPendingBody, ...errors },
      },
    },
    async (req, reply) => {
      const { account, syncId } = req.params;
      const run = await uc.getSync(account, syncId, pollMs);
      if (run.counts) return run.counts;
      return pending(reply, syncLocation(account, syncId), {
        requested: true as const,
        syncId,
        state: 'running' as const,
      });
    },
  );

  app.post(
    `${base}/import`,
    accountRoute('import', {
      summary:
        'Start the bulk import ("Massenimport"); a dry run previews it without writing. A dry run or `wait` ' +
        'answers with the figures; when that takes longer than about 25 s, 202 with a Location to poll',
      body: ImportBody,
      response: { 200: ImportFiguresBody, 202: ImportPendingBody.or(ImportStartedBody) },
    }),
    async (req, reply) => {
      const dryRun = req.body?.dryRun ?? false;
      const started = await uc.startImport(req.params.account, { dryRun });
      if (!dryRun && !req.body?.wait) return reply.code(202).send(started);
      return followed(reply, req.params.account, started);
    },
  );

  app.post(
    `${base}/reconcile`,
    accountRoute('import', {
      summary:
        'Start the reconcile walk (deleted drafts); `{confirm: true}` applies a held sweep. `wait` answers ' +
        'with the figures; when that takes longer than about 25 s, 202 with a Location to poll',
      body: ReconcileBody,
      response: {
        200: ImportFiguresBody.or(ReconcileConfirmedBody),
        202: ImportPendingBody.or(ImportStartedBody),
      },
    }),
    async (req, reply) => {
      if (req.body?.confirm) return uc.confirmReconcile(req.params.account);
      const started = await uc.startReconcile(req.params.account);
      if (!req.body?.wait) return reply.code(202).send(started);
      return followed(reply, req.params.account, started);
    },
  );

  app.get(
    `${base}/imports/:importId`,
    {
      schema: {
        summary:
          'An import or reconcile walk: its final figures when it has ended, else 202 with its progress ' +
          '(poll its Location); 502 when it stopped or failed',
        tags: ['import'],
        params: ImportParams,
        response: { 200: ImportFiguresBody, 202: ImportPendingBody, 502: ErrorBody, ...errors },
      },
    },
    async (req, reply) => {
      const { account, importId } = req.params;
      const walk = await uc.followImportWithin(account, importId, pollMs);
      if (walk.figures) return { importId, dryRun: walk.dryRun, ...walk.figures };
      return pending(reply, importLocation(account, importId), {
        importId,
        workflowId: walk.workflowId,
        dryRun: walk.dryRun,
        state: 'running',
        ...walk.progress,
      });
    },
  );

  // The reads: what the settings page and OneCockpit's customer view show. Polled, so they carry an ETag
  // (If-None-Match: 304); with `limit` or `cursor` their lists come a page at a time.
  const paged = (q: { limit?: number | undefined; cursor?: string | undefined }) =>
    q.limit !== undefined || q.cursor !== undefined;
  app.get(
    `${base}/status`,
    {
      ...accountRoute('status', {
        summary:
          'State, counts, unassigned invoices, conflicts, invalid records, the import; with `limit`/`cursor` ' +
          'the lists are paged (`next`). ETag: If-None-Match answers 304 when unchanged',
        querystring: PageQuery,
        response: { 200: StatusPageBody, 304: NotModified },
      }),
      onSend: revalidate,
    },
    (req) =>
      paged(req.query) ? uc.getStatusPage(req.params.account, req.query) : uc.getStatus(req.params.account),
  );
  app.get(
    `${base}/history`,
    accountRoute('status', {
      summary: 'The last syncs and imports/reconciles ("Verlauf"), newest first: `{runs}`',
      querystring: HistoryQuery,
      response: { 200: HistoryBody },
    }),
    (req) => uc.getHistory(req.params.account, req.query.limit),
  );
  app.get(
    `${base}/customers`,
    {
      ...accountRoute('customers', {
        summary:
          'What OneCockpit shows: customers (sorted by e-mail), values, invoices; with `limit`/`cursor` ' +
          '`{customers, next}` a page at a time. ETag: If-None-Match answers 304 when unchanged',
        querystring: PageQuery,
        response: { 200: CustomersBody.or(CustomersPageBody), 304: NotModified },
      }),
      onSend: revalidate,
    },
    (req) =>
      paged(req.query)
        ? uc.getCustomersPage(req.params.account, req.query)
        : uc.getCustomers(req.params.account),
  );
  app.get(
    `${base}/customers/search`,
    {
      ...accountRoute('customers', {
        summary:
          'The customers matching `q` (part of an e-mail, first or last name, or company; any case), sorted by ' +
          '`sort` (value: Kundenwert (Rechnungen) highest first; name), `limit` (default 50) from `cursor` on; ' +
          '`next`/`prev` page forwards and back, `total` counts every match',
        querystring: z.object({
          q: z.string().max(200).optional(),
          sort: z.enum(['value', 'name']).optional(),
          limit: PageQuery.shape.limit,
          cursor: z.string().max(2000).optional(),
        }),
        response: {
          200: z.object({
            customers: z.array(
              z.object({
                email: z.string(),
                company: z.string().nullable(),
                title: z.string().nullable(),
                firstName: z.string().nullable(),
                lastName: z.string().nullable(),
                values: z.object({ invoices: z.string(), total: z.string() }),
                currency: z.string(),
                invoiceCount: z.number(),
                countedCount: z.number(),
              }),
            ),
            total: z.number(),
            q: z.string(),
            sort: z.enum(['value', 'name']),
            limit: z.number(),
            next: z.string().nullable(),
            prev: z.string().nullable(),
          }),
        },
      }),
    },
    (req) => uc.searchCustomers(req.params.account, req.query),
  );
  app.get(
    `${base}/customers/:email`,
    {
      schema: {
        summary:
          'One customer by e-mail (any case) with its values and invoices; 404 when the account has none. ' +
          'ETag: If-None-Match answers 304 when unchanged',
        tags: ['customers'],
        params: CustomerParams,
        response: { 200: CustomerBody, 304: NotModified, ...errors },
      },
      onSend: revalidate,
    },
    (req) => uc.getCustomer(req.params.account, req.params.email),
  );

  app.get(
    `${base}/events`,
    accountRoute('events', {
      summary:
        "The account's change feed after seq `after`, in seq order; 410 when `after` is older than the retention",
      querystring: AccountEventsQuery,
      response: { 200: AccountEventsBody, 410: ErrorBody },
    }),
    (req) => uc.getAccountEvents(req.params.account, req.query),
  );
  app.get(
    `${base}/customers/:email/history`,
    {
      schema: {
        summary: "Why a customer's values changed: its customer.values_changed events with their causes",
        tags: ['events'],
        params: CustomerParams,
        response: { 200: CustomerHistoryBody, ...errors },
      },
    },
    (req) => uc.getCustomerHistory(req.params.account, req.params.email),
  );
  app.get(
    '/api/events',
    {
      schema: {
        summary:
          "Every account's change feed after the opaque cursor `after` (API token only); 410 past the retention",
        tags: ['events'],
        querystring: GlobalEventsQuery,
        response: { 200: GlobalEventsBody, 410: ErrorBody, ...errors },
      },
    },
    async (req, reply) => {
      if (req.principal?.via !== 'bearer' || req.principal.account !== null) {
        return reply.code(403).send({
          error: {
            type: 'forbidden',
            message: "every account's events need the API token (Authorization: Bearer)",
          },
        });
      }
      return uc.getGlobalEvents(req.query);
    },
  );

  app.post(
    '/api/sign-in-links',
    {
      schema: {
        summary:
          'A one-time sign-in link (15 minutes) for a browser; with `account` the session sees only it',
        tags: ['auth'],
        body: SignInLinkBody,
        response: { 201: SignInLinkCreatedBody, ...errors },
      },
    },
    async (req, reply) => {
      if (req.principal?.via !== 'bearer' || req.principal.account !== null) {
        return reply.code(403).send({
          error: { type: 'forbidden', message: 'sign-in links need the API token (Authorization: Bearer)' },
        });
      }
      const account = req.body.account ?? null;
      const next = safeNext(
        req.body.next ?? (account ? `/ui/accounts/${encodeURIComponent(account)}/interface` : '/ui/'),
      );
      const link = await deps.sessions.createLink(account, next);
      return reply.code(201).send({
        url: `${deps.origin(req)}/ui/sign-in/link#${link.code}`,
        expiresAt: link.expiresAt.toISOString(),
      });
    },
  );
}
