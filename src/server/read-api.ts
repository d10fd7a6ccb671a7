// The JSON reads under /api/accounts/:account/... and /api/events: status, the Verlauf, customers (whole,
// paged, searched, one), the change feed and a customer's value history.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { accountRoute, errors, revalidate } from './routes';
import {
  AccountEventsBody,
  AccountEventsQuery,
  CustomerBody,
  CustomerHistoryBody,
  CustomerParams,
  CustomersBody,
  CustomersPageBody,
  ErrorBody,
  GlobalEventsBody,
  GlobalEventsQuery,
  HistoryBody,
  HistoryQuery,
  NotModified,
  PageQuery,
  StatusPageBody,
} from './schemas';

import type { UseCases } from './use-cases';

export function registerReadApi(root: FastifyInstance, deps: { useCases: UseCases }): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const uc = deps.useCases;
  const base = '/api/accounts/:account';

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
}
