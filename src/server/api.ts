// The JSON API under /api/accounts/:account/...: the CLI's use cases and `--json` shapes over HTTP.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sessions } from './auth';
import { ownOrigin, safeNext } from './auth';
import {
  AccountEventsBody,
  AccountEventsQuery,
  AccountParams,
  CustomerHistoryBody,
  CustomerParams,
  GlobalEventsBody,
  GlobalEventsQuery,
  AddInterfaceBody,
  CustomersBody,
  DeleteInterfaceQuery,
  ErrorBody,
  ImportBody,
  ImportFiguresBody,
  ImportStartedBody,
  PatchInterfaceBody,
  ReconcileBody,
  ReconcileConfirmedBody,
  SignInLinkBody,
  SignInLinkCreatedBody,
  StatusBody,
  SyncCountsBody,
  SyncNowBody,
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

export function registerApi(root: FastifyInstance, deps: { useCases: UseCases; sessions: Sessions }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const uc = deps.useCases;
  const base = '/api/accounts/:account';
  /** The final figures of a started import or reconcile, when it has ended. */
  const followed = async (started: ImportStartedJson) => ({
    importId: started.importId,
    dryRun: started.dryRun,
    ...(await uc.followImport(started.workflowId)),
  });

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
    summary: 'Activate / deactivate (`{active}`), or change settings (only while deactivated)',
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
      summary: 'Sync now (`{wait: true}` answers with the counts when it has finished)',
      body: SyncNowBody,
      response: { 200: SyncCountsBody, 202: SyncRequestedBody },
    }),
    async (req, reply) => {
      const counts = await uc.syncNow(req.params.account, req.body?.wait ?? false);
      if (!counts) return reply.code(202).send({ requested: true as const });
      return counts;
    },
  );

  app.post(
    `${base}/import`,
    accountRoute('import', {
      summary: 'Start the bulk import ("Massenimport"); a dry run previews it without writing',
      body: ImportBody,
      response: { 200: ImportFiguresBody, 202: ImportStartedBody },
    }),
    async (req, reply) => {
      const dryRun = req.body?.dryRun ?? false;
      const started = await uc.startImport(req.params.account, { dryRun });
      if (!dryRun && !req.body?.wait) return reply.code(202).send(started);
      return followed(started);
    },
  );

  app.post(
    `${base}/reconcile`,
    accountRoute('import', {
      summary: 'Start the reconcile walk (deleted drafts); `{confirm: true}` applies a held sweep',
      body: ReconcileBody,
      response: { 200: ImportFiguresBody.or(ReconcileConfirmedBody), 202: ImportStartedBody },
    }),
    async (req, reply) => {
      if (req.body?.confirm) return uc.confirmReconcile(req.params.account);
      const started = await uc.startReconcile(req.params.account);
      if (!req.body?.wait) return reply.code(202).send(started);
      return followed(started);
    },
  );

  // The two reads: what the settings page and OneCockpit's customer view show.
  const status = { summary: 'State, counts, unassigned invoices, conflicts, invalid records, the import' };
  app.get(`${base}/status`, accountRoute('status', { ...status, response: { 200: StatusBody } }), (req) =>
    uc.getStatus(req.params.account),
  );
  const customers = { summary: 'What OneCockpit shows: customers (sorted by e-mail), values, invoices' };
  app.get(
    `${base}/customers`,
    accountRoute('customers', { ...customers, response: { 200: CustomersBody } }),
    (req) => uc.getCustomers(req.params.account),
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
      const link = deps.sessions.createLink(account, next);
      return reply.code(201).send({
        url: `${ownOrigin(req)}/ui/sign-in/link#${link.code}`,
        expiresAt: link.expiresAt.toISOString(),
      });
    },
  );
}
