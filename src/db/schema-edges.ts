// The tables at sevsync's edges, re-exported by ./schema.ts: where the change feed is delivered (webhooks)
// and who may open the pages (sessions, one-time links) and what they did (the audit log).
import { bigint, boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { count, instant, instantNow, serialId } from './columns';

/**
 * Where the change feed is delivered as signed webhooks (docs/webhooks.md). Written by the use cases
 * (src/app/webhooks.ts); the delivery activity only disables an endpoint that has failed for too long.
 * No foreign key to accounts: an endpoint may be added before the account's interface (its first events).
 */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  /** `we_` + 24 hex digits. */
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** null: the events of every account. */
  accountId: text('account_id'),
  /** null: every event type. */
  types: text('types').array(),
  /** The signing secret (`whsec_…`), AES-256-GCM like the sevDesk tokens (src/secrets.ts), and its key. */
  secretCiphertext: text('secret_ciphertext').notNull(),
  secretKeyId: text('secret_key_id').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  disabledAt: instant('disabled_at'),
  disabledReason: text('disabled_reason'),
  createdAt: instantNow('created_at'),
});

/**
 * How far each endpoint's delivery got, written by the delivery activity (and reset by `webhooks enable`).
 * The position is the feed's: the global cursor for an endpoint of every account, the account's seq otherwise.
 */
export const webhookProgress = pgTable('webhook_progress', {
  endpointId: text('endpoint_id')
    .primaryKey()
    .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
  /** Endpoints of every account: the global feed's cursor after the last event delivered (or skipped). */
  cursor: text('cursor'),
  /** Endpoints of one account: the seq of the last event delivered (or skipped). */
  afterSeq: bigint('after_seq', { mode: 'number' }),
  delivered: bigint('delivered', { mode: 'number' }).notNull().default(0),
  lastDeliveredAt: instant('last_delivered_at'),
  /** Failed attempts in a row; with `failing_since` and `next_attempt_at` null again after a 2xx. */
  attempts: count('attempts'),
  failingSince: instant('failing_since'),
  nextAttemptAt: instant('next_attempt_at'),
  /** The HTTP status of the last attempt (null: no answer). */
  lastStatus: integer('last_status'),
  lastError: text('last_error'),
  /** The delivery run that owns the endpoint: a run that was superseded (its worker presumed dead) stops. */
  runner: text('runner'),
  updatedAt: instantNow('updated_at'),
});

/**
 * Signed-in browsers (src/server/sessions.ts): the cookie holds a random id, the table its SHA-256, so every
 * replica sees the same sessions and a restart signs nobody out. `account` null: every account (signed in
 * with the API token); else the one account an embed token or a sign-in link was for.
 */
export const webSessions = pgTable(
  'web_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    accountId: text('account_id'),
    /** Who: `api-token`, `link`, or the embed token's `sub` (OneCockpit's user). */
    subject: text('subject').notNull(),
    expiresAt: instant('expires_at').notNull(),
    createdAt: instantNow('created_at'),
  },
  (t) => [index('web_sessions_expires_idx').on(t.expiresAt)],
);

/** One-time sign-in links: the code's SHA-256, used once (the row is deleted when redeemed). */
export const signInLinks = pgTable(
  'sign_in_links',
  {
    codeHash: text('code_hash').primaryKey(),
    accountId: text('account_id'),
    next: text('next').notNull(),
    expiresAt: instant('expires_at').notNull(),
    createdAt: instantNow('created_at'),
  },
  (t) => [index('sign_in_links_expires_idx').on(t.expiresAt)],
);

/**
 * Who did what, when, from where: sign-ins, token changes, purges, webhook changes (src/server/audit.ts).
 * Never a secret: a token appears only as the fact that it changed.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: serialId(),
    at: instantNow('at'),
    /** `api-token`, `embed:<sub>`, `session:<subject>`, `cli`, or `anonymous` (a failed sign-in). */
    actor: text('actor').notNull(),
    /** e.g. `sign_in`, `sign_in.failed`, `interface.token_changed`, `interface.purged`, `webhook.added`. */
    action: text('action').notNull(),
    accountId: text('account_id'),
    /** The client address (behind a trusted proxy: the one the proxy saw). */
    ip: text('ip'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_log_account_at_idx').on(t.accountId, t.at), index('audit_log_at_idx').on(t.at)],
);
