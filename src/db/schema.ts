import { sql } from 'drizzle-orm';
import type { ImportStats } from '../shared';
import {
  bigint,
  boolean,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  customType,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { count, instant, instantNow, money, serialId, stamps, storedError } from './columns';

/** Where a row came from: the invoicing program and its id there. */
const sourceKey = {
  source: text('source').notNull(),
  sourceId: text('source_id').notNull(),
};
/** The CRM fields of a customer besides its e-mail address. */
const contactFields = {
  company: text('company'),
  title: text('title'),
  firstName: text('first_name'),
  lastName: text('last_name'),
  street: text('street'),
  zip: text('zip'),
  city: text('city'),
  country: text('country'),
  phone: text('phone'),
};

export const accounts = pgTable('accounts', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  baseCurrency: text('base_currency').notNull().default('EUR'),
  createdAt: stamps.createdAt,
});
export type Account = typeof accounts.$inferSelect;
/**
 * The account a row belongs to. A row that names another account-owned row by id does so with a composite
 * foreign key `(account_id, x_id) -> parent (account_id, id)`: the database itself keeps accounts apart.
 */
const accountRef = () =>
  text('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' });

export const customers = pgTable(
  'customers',
  {
    id: serialId(),
    accountId: accountRef(),
    /**
     * As written (by the sync: trimmed and lower-cased; in OneCockpit: as typed). The match key is
     * `email_key(email)` (SQL function from migration 0001: whitespace trimmed, lower-cased), unique per account.
     */
    email: text('email').notNull(),
    ...contactFields,
    /** The sum of all values of the customer ("Kundenwert (gesamt)"). */
    totalValue: money('total_value').notNull().default('0'),
    ...stamps,
  },
  (t) => [
    uniqueIndex('customers_account_email_key_uq').on(t.accountId, sql`email_key(${t.email})`),
    /** What the composite foreign keys of the customer's rows point at: a row never names another account's customer. */
    uniqueIndex('customers_account_id_uq').on(t.accountId, t.id),
  ],
);
export type Customer = typeof customers.$inferSelect;
export type NewCustomer = typeof customers.$inferInsert;

export const customerValues = pgTable(
  'customer_values',
  {
    /**
     * The customer's account (no foreign key of its own: the customer's covers it). A writer that leaves it out
     * (OneCockpit typing a value) gets the customer's, filled in by a trigger of migration 0006.
     */
    accountId: text('account_id').notNull(),
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    /** `invoices` is owned by the sync; anything else (e.g. `manual`) is typed in OneCockpit and left alone. */
    kind: text('kind').notNull(),
    amount: money('amount').notNull(),
    currency: text('currency').notNull().default('EUR'),
    updatedAt: stamps.updatedAt,
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.kind] }),
    foreignKey({
      name: 'customer_values_customer_fk',
      columns: [t.accountId, t.customerId],
      foreignColumns: [customers.accountId, customers.id],
    }).onDelete('cascade'),
  ],
);
export type CustomerValue = typeof customerValues.$inferSelect;

export const interfaces = pgTable(
  'interfaces',
  {
    id: serialId(),
    accountId: accountRef(),
    provider: text('provider').notNull().default('sevdesk'),
    /** AES-256-GCM: base64(iv | tag | ciphertext). */
    tokenCiphertext: text('token_ciphertext').notNull(),
    tokenKeyId: text('token_key_id').notNull(),
    baseUrl: text('base_url').notNull(),
    active: boolean('active').notNull().default(true),
    settings: jsonb('settings').$type<InterfaceSettings>().notNull(),
    /** idle | syncing | paused | error */
    state: text('state').notNull().default('idle'),
    lastError: storedError('last_error'),
    /** Unix seconds, taken from the data (max invoice `update`), not from the local clock. */
    invoiceCursor: bigint('invoice_cursor', { mode: 'number' }),
    contactCursor: bigint('contact_cursor', { mode: 'number' }),
    lastSyncedAt: instant('last_synced_at'),
    nextSyncAt: instant('next_sync_at'),
    lastReconciledAt: instant('last_reconciled_at'),
    /** The sevDesk company (SevClient id) the interface's data came from: another company's token is refused. */
    sevdeskClientId: text('sevdesk_client_id'),
    ...stamps,
  },
  (t) => [uniqueIndex('interfaces_account_provider_uq').on(t.accountId, t.provider)],
);
export type Interface = typeof interfaces.$inferSelect;
export interface InterfaceSettings {
  intervalSeconds: number;
  amountBasis: 'gross' | 'net';
}

/** The sevDesk contacts an account's invoices point at, flattened to the ten CRM fields. */
export const sourceContacts = pgTable(
  'source_contacts',
  {
    accountId: accountRef(),
    ...sourceKey,
    email: text('email'),
    ...contactFields,
    sourceUpdate: instant('source_update'),
    /** The contact has e-mail values but none is a usable address: the reason its invoices are unassigned. */
    emailIssue: text('email_issue'),
    /** The contact could not be read last time (the other fields are from the last good read, if any). */
    readError: text('read_error'),
    fetchedAt: instantNow('fetched_at'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.source, t.sourceId] })],
);

export const invoices = pgTable(
  'invoices',
  {
    id: serialId(),
    accountId: accountRef(),
    /** A customer of the same account (composite foreign key); deleting it sets only this column null. */
    customerId: bigint('customer_id', { mode: 'number' }),
    ...sourceKey,
    contactSourceId: text('contact_source_id'),
    /** For SR (Storno) rows: the source id of the invoice they cancel. */
    originSourceId: text('origin_source_id'),
    number: text('number'),
    type: text('type').notNull(),
    invoiceDate: date('invoice_date'),
    dueDate: date('due_date'),
    sourceStatus: text('source_status').notNull(),
    /** open | paid | cancelled; SR rows are kept for the pairing but never shown. */
    status: text('status').notNull(),
    amountGross: money('amount_gross').notNull(),
    amountNet: money('amount_net').notNull(),
    /** The amount that counts: gross or net per the interface's setting. */
    amount: money('amount').notNull(),
    paidAmount: money('paid_amount').notNull(),
    currency: text('currency').notNull(),
    foreignAmount: money('foreign_amount'),
    foreignCurrency: text('foreign_currency'),
    /** The highest level of its reminders (invoice_reminders), kept with the invoice for its events. */
    dunningLevel: integer('dunning_level'),
    /** Its reminders as the JSON shows them ([{date, level}] by date): refreshed when a reminder or it arrives. */
    dunnings: jsonb('dunnings')
      .$type<{ date: string; level: number | null }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    sourceUpdate: instant('source_update'),
    contentHash: text('content_hash').notNull(),
    /** Set when the invoice went back to draft or vanished in the source: it leaves the totals. */
    removedAt: instant('removed_at'),
    removedReason: text('removed_reason'),
    ...stamps,
  },
  (t) => [
    uniqueIndex('invoices_account_source_sid_uq').on(t.accountId, t.source, t.sourceId),
    foreignKey({
      name: 'invoices_customer_fk',
      columns: [t.accountId, t.customerId],
      foreignColumns: [customers.accountId, customers.id],
    }).onDelete('set null'),
    index('invoices_customer_idx').on(t.customerId),
    index('invoices_account_number_idx').on(t.accountId, t.number),
    index('invoices_account_contact_idx').on(t.accountId, t.source, t.contactSourceId),
    index('invoices_origin_idx')
      .on(t.accountId, t.source, t.originSourceId)
      .where(sql`${t.originSourceId} is not null`),
  ],
);
export type Invoice = typeof invoices.$inferSelect;

/**
 * sevDesk's dunning reminders (MA): one per reminder, naming the invoice it reminds about by source id. A
 * reminder may arrive before its invoice; it waits here (shown nowhere) until the invoice is stored.
 */
export const invoiceReminders = pgTable(
  'invoice_reminders',
  {
    accountId: accountRef(),
    ...sourceKey,
    /** The reminded invoice's source id (the MA's origin). */
    originSourceId: text('origin_source_id').notNull(),
    dunningLevel: integer('dunning_level'),
    reminderDate: date('reminder_date').notNull(),
    sourceUpdate: instant('source_update'),
    ...stamps,
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.source, t.sourceId] }),
    index('invoice_reminders_origin_idx').on(t.accountId, t.source, t.originSourceId),
  ],
);
export type NewInvoice = typeof invoices.$inferInsert;

export const invoiceIssues = pgTable(
  'invoice_issues',
  {
    id: serialId(),
    accountId: accountRef(),
    ...sourceKey,
    invoiceNumber: text('invoice_number'),
    /** unassigned | invalid */
    kind: text('kind').notNull(),
    reason: text('reason').notNull(),
    firstSeenAt: instantNow('first_seen_at'),
    lastSeenAt: instantNow('last_seen_at'),
    resolvedAt: instant('resolved_at'),
  },
  (t) => [uniqueIndex('invoice_issues_uq').on(t.accountId, t.source, t.sourceId, t.kind)],
);
export type InvoiceIssue = typeof invoiceIssues.$inferSelect;

export const syncRuns = pgTable(
  'sync_runs',
  {
    id: serialId(),
    accountId: accountRef(),
    /** incremental | import | reconcile */
    kind: text('kind').notNull(),
    startedAt: instantNow('started_at'),
    finishedAt: instant('finished_at'),
    pages: count('pages'),
    fetched: count('fetched'),
    written: count('written'),
    unassigned: count('unassigned'),
    invalid: count('invalid'),
    error: storedError('error'),
  },
  (t) => [index('sync_runs_account_idx').on(t.accountId, t.startedAt)],
);

export const importCheckpoints = pgTable(
  'import_checkpoints',
  {
    accountId: accountRef(),
    importId: text('import_id').notNull(),
    /** import | reconcile (an import that also marks invoices deleted in the source) */
    kind: text('kind').notNull().default('import'),
    /** running | paused | done | failed */
    state: text('state').notNull().default('running'),
    nextOffset: count('next_offset'),
    pages: count('pages'),
    done: count('done'),
    total: integer('total'),
    /** Max invoice `update` seen (unix seconds): the incremental cursor after the import. */
    maxUpdate: bigint('max_update', { mode: 'number' }),
    dryRun: boolean('dry_run').notNull().default(false),
    /**
     * The account's last event seq when the walk last recomputed the values it defers (or began): the
     * invoice events after it are the causes of the next values it reports.
     */
    valuesEventsFrom: bigint('values_events_from', { mode: 'number' }),
    /** Decimal sums are strings: { matched, unassigned, reasons, openSum, paidSum, ... }. */
    stats: jsonb('stats')
      .$type<ImportStats>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    startedAt: instantNow('started_at'),
    updatedAt: instantNow('updated_at'),
    finishedAt: instant('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.importId] })],
);

/** Ids seen by a reconcile walk; what the walk did not see was deleted in the source. Cleared afterwards. */
export const walkSeen = pgTable(
  'walk_seen',
  {
    accountId: accountRef(),
    walkId: text('walk_id').notNull(),
    sourceId: text('source_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.walkId, t.sourceId] })],
);

/** A 64-bit transaction id (PostgreSQL `xid8`): the order in which the global feed serves events. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * The change feed (docs/events.md): one row per change OneCockpit would see, written in the transaction of
 * the change by the triggers of migration 0003 and by `recomputeCustomerValues`. Per account `seq` has no
 * gaps and becomes visible in order (it is taken under the account's event lock, which is held to commit).
 * No foreign key: the events of an account outlive its rows (a purge reports its removals here).
 */
export const events = pgTable(
  'events',
  {
    accountId: text('account_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    /** The writing transaction: the global feed serves only transactions older than every running one. */
    xid: xid8('xid')
      .notNull()
      .default(sql`pg_current_xact_id()`),
    /** The public id (`evt_` + hex), also the webhook id. */
    id: uuid('id').notNull().defaultRandom(),
    type: text('type').notNull(),
    occurredAt: instant('occurred_at')
      .notNull()
      .default(sql`clock_timestamp()`),
    /**
     * The customer a `customer.*` or `invoice.*` event is about (for an invoice: its customer, or the one it
     * left): a customer's value history reads by it (indexed for `customer.values_changed` only), and so do
     * the causes of a walk's deferred values.
     */
    customerId: bigint('customer_id', { mode: 'number' }),
    data: jsonb('data').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.seq] }),
    index('events_global_idx').on(t.xid, t.accountId, t.seq),
    index('events_customer_idx')
      .on(t.accountId, t.customerId, t.seq)
      .where(sql`${t.type} = 'customer.values_changed'`),
  ],
);

/** Per account: the last `seq` handed out, by which transaction, and how far retention has removed events. */
export const eventSeqs = pgTable('event_seqs', {
  accountId: text('account_id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
  lastXid: xid8('last_xid'),
  /** Events up to this seq may have been removed by retention: a feed cursor below it gets 410. */
  prunedThrough: bigint('pruned_through', { mode: 'number' }).notNull().default(0),
});

/** How far retention has removed events from the global feed: a global cursor below `pruned_xid` gets 410. */
export const eventRetention = pgTable('event_retention', {
  id: integer('id').primaryKey(),
  prunedXid: xid8('pruned_xid').notNull(),
});

// The tables at the edges: webhook delivery, browser sessions, sign-in links, the audit log.
export * from './schema-edges';
