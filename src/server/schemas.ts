// zod schemas of the JSON API: request validation (400 names the field) and the OpenAPI document.
// Response objects are loose: an extension of the CLI's shapes passes through unchanged.
import { z } from 'zod';

export const AccountParams = z.object({
  account: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/, 'must be 1-128 letters, digits or . _ @ : -')
    .describe('OneCockpit account id'),
});

const SevdeskToken = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{32}$/, 'must be the 32 hexadecimal characters of the sevDesk API token')
  .describe('sevDesk API token (sevDesk: Erweiterungen – API)');
const IntervalSeconds = z.number().int().min(1).max(86_400).describe('sync interval in seconds');
const AmountBasis = z.enum(['gross', 'net']).describe('which invoice amount counts');

export const AddInterfaceBody = z.strictObject({
  token: SevdeskToken,
  intervalSeconds: IntervalSeconds.optional(),
  amountBasis: AmountBasis.optional(),
  inactive: z.boolean().optional().describe('add it deactivated (preview with a dry-run import)'),
});

export const PatchInterfaceBody = z
  .strictObject({
    active: z.boolean().optional().describe('activate / deactivate (idempotent)'),
    token: SevdeskToken.optional(),
    intervalSeconds: IntervalSeconds.optional(),
    amountBasis: AmountBasis.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give active, or settings (token, intervalSeconds, amountBasis)');

export const DeleteInterfaceQuery = z.strictObject({
  purge: z
    .enum(['true', 'false'])
    .optional()
    .describe("also delete the account's synced invoices (customers stay)"),
});

export const SyncNowBody = z
  .strictObject({
    wait: z
      .boolean()
      .optional()
      .describe(
        'answer when the sync has finished; after about 25 s without an end: 202 with a Location to poll',
      ),
  })
  .nullish();

const WAIT =
  'answer with the final figures when it has finished; after about 25 s without an end: 202 with a ' +
  'Location (GET imports/:importId) to poll';

export const ImportBody = z
  .strictObject({
    dryRun: z
      .boolean()
      .optional()
      .describe('preview without writing (waits for its figures, as `wait` does)'),
    wait: z.boolean().optional().describe(WAIT),
  })
  .nullish();

export const ReconcileBody = z
  .strictObject({
    confirm: z.boolean().optional().describe('apply a held sweep (one that would remove many invoices)'),
    wait: z.boolean().optional().describe(WAIT),
  })
  .nullish();

export const SignInLinkBody = z.strictObject({
  account: AccountParams.shape.account.optional().describe('the one account the session may see'),
  next: z.string().max(500).optional().describe('page to open, e.g. /ui/accounts/A/interface'),
});

export const ErrorBody = z.object({
  error: z.object({ type: z.string(), message: z.string() }),
});

const Issue = z.looseObject({
  invoiceNumber: z.string().nullable(),
  sourceId: z.string(),
  reason: z.string(),
});

export const StatusBody = z.looseObject({
  account: z.string(),
  active: z.boolean(),
  state: z.enum(['idle', 'syncing', 'paused', 'error']),
  error: z.object({ type: z.string(), message: z.string() }).nullable(),
  lastSyncAt: z.string().nullable(),
  nextSyncAt: z.string().nullable(),
  counts: z.looseObject({
    customers: z.number(),
    invoices: z.number(),
    unassigned: z.number(),
    invalid: z.number().optional(),
  }),
  unassigned: z.array(Issue),
  conflicts: z.array(z.looseObject({ invoiceNumber: z.string(), sources: z.array(z.string()) })),
  invalid: z.array(Issue.extend({ invoiceNumber: z.string().nullable().optional() })).optional(),
  import: z.looseObject({ state: z.string(), done: z.number(), total: z.number().nullable() }).nullable(),
  heldSweep: z
    .looseObject({ importId: z.string(), count: z.number(), total: z.number(), heldAt: z.string() })
    .nullable()
    .optional(),
  receipt: z
    .looseObject({
      sevdesk: z.number().nullable().describe("sevDesk's count of invoices when the last walk ended"),
      assigned: z.number().describe('shown in OneCockpit with a customer'),
      unassigned: z.number().describe('shown without a customer (no usable e-mail)'),
      invalid: z.number().describe('records sevsync could not read'),
      at: z.string().describe('when the walk (import or reconcile) ended'),
    })
    .nullable()
    .optional()
    .describe('the completeness receipt of the last import or reconcile; null before the first ended'),
});

export const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional().describe('how many runs (1-100, default 20)'),
});

export const HistoryBody = z.object({
  runs: z.array(
    z.looseObject({
      kind: z.enum(['incremental', 'import', 'reconcile']),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
      durationMs: z.number().nullable().describe('null: not recorded'),
      fetched: z.number(),
      written: z.number(),
      removed: z.number().nullable().describe('walks: deleted in sevDesk and taken out; null for a sync'),
      unassigned: z.number(),
      invalid: z.number(),
      sevdeskTotal: z.number().nullable(),
      error: z.object({ type: z.string(), message: z.string() }).nullable(),
    }),
  ),
});

const Money = z.string().describe('decimal with two places, e.g. "1487.50"');

export const CustomerBody = z.looseObject({
  email: z.string(),
  company: z.string().nullable(),
  title: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  street: z.string().nullable(),
  zip: z.string().nullable(),
  city: z.string().nullable(),
  country: z.string().nullable(),
  phone: z.string().nullable(),
  values: z.looseObject({ invoices: Money, total: Money }),
  currency: z.string(),
  invoices: z.array(
    z.looseObject({
      number: z.string().nullable(),
      date: z.string().nullable(),
      dueDate: z.string().nullable(),
      status: z.enum(['open', 'paid', 'cancelled']),
      amount: Money,
      paidAmount: Money,
      currency: z.string(),
      source: z.string(),
      overdue: z.boolean().describe("open or partly paid and past its due date (today's Berlin date)"),
      daysOverdue: z.number().int().nullable().describe('whole days past the due date when overdue'),
      dunningLevel: z.number().int().nullable().describe('highest level of its dunning reminders (MA)'),
      dunnings: z
        .array(z.object({ level: z.number().int().nullable(), date: z.string() }))
        .describe('its dunning reminders by date; empty when none'),
      sevdeskUrl: z.string().nullable().describe('the invoice in sevDesk (SEVSYNC_SEVDESK_INVOICE_URL)'),
    }),
  ),
});

export const CustomersBody = z.array(CustomerBody);

export const ImportStartedBody = z.looseObject({
  importId: z.string(),
  workflowId: z.string(),
  state: z.string(),
  done: z.number(),
  total: z.number().nullable(),
  dryRun: z.boolean(),
});

export const ImportFiguresBody = z.looseObject({ importId: z.string(), dryRun: z.boolean() });

export const SyncCountsBody = z.looseObject({
  pages: z.number(),
  fetched: z.number(),
  written: z.number(),
  unassigned: z.number(),
  invalid: z.number(),
});

export const SyncRequestedBody = z.object({ requested: z.literal(true) });

export const ReconcileConfirmedBody = z.object({ deleted: z.number() });

export const SignInLinkCreatedBody = z.object({ url: z.string(), expiresAt: z.string() });

/** An event of the change feed (docs/events.md): the envelope, with the type's `data`. */
export const EventBody = z
  .object({
    id: z.string().describe('unique and stable: evt_ + 32 hex digits; also the webhook id'),
    seq: z
      .number()
      .int()
      .describe("per account 1, 2, 3, ... without gaps, in the order of the account's commits"),
    type: z
      .string()
      .describe(
        'invoice.created | invoice.updated | invoice.removed | customer.created | customer.updated | ' +
          'customer.values_changed | interface.state_changed | issue.opened | issue.resolved | import.finished',
      ),
    account: z.string(),
    occurredAt: z.string(),
    data: z
      .record(z.string(), z.unknown())
      .describe(
        'per type (docs/events.md): an invoice as in `customers`, a customer, values with their causes, ...',
      ),
  })
  .describe('Envelope {id, seq, type, account, occurredAt, data}')
  .meta({
    examples: [
      {
        id: 'evt_3b5e0f6c9a2d4e71b8c0d2f4a6e8b1c3',
        seq: 413,
        type: 'customer.values_changed',
        account: 'acme',
        occurredAt: '2026-12-07T12:41:06.911Z',
        data: {
          customer: 'eva@firma.de',
          currency: 'EUR',
          values: { invoices: '1487.50', total: '1487.50' },
          previous: { invoices: '1200.00', total: '1200.00' },
          causes: [
            { sourceId: '6620', number: 'RE-1524', change: 'created', status: 'open', amount: '287.50' },
          ],
        },
      },
    ],
  });

export const AccountEventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('the last seq already read (`next` of the previous page); 0 from the start'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const AccountEventsBody = z.object({
  events: z.array(EventBody),
  next: z.number().int().describe('the `after` of the next call'),
});

export const GlobalEventsQuery = z.object({
  after: z
    .string()
    .max(400)
    .optional()
    .describe('the opaque cursor `next` of the previous page; absent from the first event kept'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const GlobalEventsBody = z.object({
  events: z.array(EventBody),
  next: z.string().describe('the `after` of the next call (the same cursor when nothing was new)'),
});

export const CustomerParams = AccountParams.extend({
  email: z.string().min(1).max(320).describe("the customer's e-mail (any case, as OneCockpit stores it)"),
});

export const CustomerHistoryBody = z.object({
  customer: z.string(),
  history: z.array(EventBody).describe('customer.values_changed events, oldest first, with their causes'),
});

// Paging, bounded waits and revalidation (ETag / If-None-Match) of the routes OneCockpit and the pages poll.

export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('page size (1-1000, default 100); with `limit` or `cursor` the answer is paged and has `next`'),
  cursor: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .describe('the opaque `next` of the previous page; absent: the first page'),
});

const NextCursor = z.string().nullable().describe('the `cursor` of the next page; null after the last page');

export const StatusPageBody = StatusBody.extend({
  next: NextCursor.optional().describe(
    'paged (`limit`/`cursor`) only: `unassigned`, `invalid` and `conflicts` hold at most `limit` entries ' +
      'each; the `cursor` of the next page, null when every list has ended. `counts` are the totals',
  ),
});

export const CustomersPageBody = z.object({
  customers: CustomersBody,
  next: NextCursor,
});

export const NotModified = z.null().describe('not modified: If-None-Match matched the ETag; no body');

export const SyncParams = AccountParams.extend({
  syncId: z.string().max(100).describe('the `syncId` of a sync-now that answered 202 (its Location)'),
});

export const ImportParams = AccountParams.extend({
  importId: z.string().max(100).describe('the `importId` of an import or reconcile walk'),
});

/** A wait that has not ended in time (202): where to ask for the result, also the Location header. */
const Location = z
  .string()
  .describe('the route that answers the result when done (also the Location header)');

export const SyncPendingBody = z.object({
  requested: z.literal(true),
  syncId: z.string(),
  state: z.literal('running'),
  location: Location,
});

export const ImportPendingBody = z.looseObject({
  importId: z.string(),
  workflowId: z.string(),
  dryRun: z.boolean(),
  state: z.string().describe("the walk's state: running, or paused while the interface is deactivated"),
  done: z.number().optional(),
  total: z.number().nullable().optional(),
  location: Location,
});
