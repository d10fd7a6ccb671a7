// The JSON API under /api/accounts/:account/...: the CLI's use cases and `--json` shapes over HTTP. This file
// holds the writes (interface, sync, import, reconcile and their polls) and sign-in links; ./read-api.ts the reads.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { safeNext } from './auth';
import { accountRoute, errors } from './routes';
import type { SessionUseCases } from './sessions';
import {
  AddInterfaceBody,
  DeleteInterfaceQuery,
  ErrorBody,
  ImportBody,
  ImportFiguresBody,
  ImportParams,
  ImportPendingBody,
  ImportStartedBody,
  PatchInterfaceBody,
  ReconcileBody,
  ReconcileConfirmedBody,
  SignInLinkBody,
  SignInLinkCreatedBody,
  StatusBody,
  SyncCountsBody,
  SyncNowBody,
  SyncParams,
  SyncPendingBody,
  SyncRequestedBody,
} from './schemas';
import type { ImportStartedJson, UseCases } from './use-cases';

/** How long a route holds a request that waits for a sync or a walk before it answers 202 with a Location. */
export const DEFAULT_WAIT_MS = 25_000;
/** How long a poll of that Location waits for the end (it answers at once when it has ended). */
const POLL_MS = 1000;

/** 202 Accepted with a Location (and the same in the body): the wait ended before the work did. */
function pending<T extends object>(reply: FastifyReply, location: string, body: T) {
  return reply
    .code(202)
    .header('location', location)
    .send({ ...body, location });
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
