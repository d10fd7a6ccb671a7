// Webhook endpoints and how far each one's delivery got (docs/webhooks.md). Plain CRUD through drizzle's
// typed query builder.
//
// Writers (one per fact): the endpoint row (url, account, types, secret, `enabled`) is written by the use
// cases in src/app/webhooks.ts, except that the delivery activity disables an endpoint that has failed for
// longer than the give-up time. The progress row is written by the delivery activity; `webhooks enable`
// only clears its failure fields. Every write of the activity names its run (`runner`): a run that was
// superseded by a newer one (its worker was presumed dead and the activity retried elsewhere) writes
// nothing and stops.
import { and, asc, eq, sql as dsql } from 'drizzle-orm';
import type { Sql } from './client';
import { globalHead, lastSeq } from './events';
import { orm } from './orm';
import { webhookEndpoints, webhookProgress } from './schema';

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  /** null: every account. */
  accountId: string | null;
  /** null: every event type. */
  types: string[] | null;
  secretCiphertext: string;
  secretKeyId: string;
  enabled: boolean;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  /** Endpoints of every account: the global cursor after the last event handled. */
  cursor: string | null;
  /** Endpoints of one account: the seq of the last event handled. */
  afterSeq: number | null;
  delivered: number;
  lastDeliveredAt: Date | null;
  attempts: number;
  failingSince: Date | null;
  nextAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
}

const columns = {
  id: webhookEndpoints.id,
  url: webhookEndpoints.url,
  accountId: webhookEndpoints.accountId,
  types: webhookEndpoints.types,
  secretCiphertext: webhookEndpoints.secretCiphertext,
  secretKeyId: webhookEndpoints.secretKeyId,
  enabled: webhookEndpoints.enabled,
  disabledAt: webhookEndpoints.disabledAt,
  disabledReason: webhookEndpoints.disabledReason,
  createdAt: webhookEndpoints.createdAt,
  cursor: webhookProgress.cursor,
  afterSeq: webhookProgress.afterSeq,
  delivered: webhookProgress.delivered,
  lastDeliveredAt: webhookProgress.lastDeliveredAt,
  attempts: webhookProgress.attempts,
  failingSince: webhookProgress.failingSince,
  nextAttemptAt: webhookProgress.nextAttemptAt,
  lastStatus: webhookProgress.lastStatus,
  lastError: webhookProgress.lastError,
};

const select = (sql: Sql) =>
  orm(sql)
    .select(columns)
    .from(webhookEndpoints)
    .leftJoin(webhookProgress, eq(webhookProgress.endpointId, webhookEndpoints.id));

type Row = Awaited<ReturnType<typeof select>>[number];

const toRecord = (r: Row): WebhookEndpointRecord => ({
  ...r,
  afterSeq: r.afterSeq === null ? null : Number(r.afterSeq),
  delivered: Number(r.delivered ?? 0),
  attempts: r.attempts ?? 0,
});

export async function loadWebhookEndpoint(sql: Sql, id: string): Promise<WebhookEndpointRecord | undefined> {
  const [r] = await select(sql).where(eq(webhookEndpoints.id, id));
  return r ? toRecord(r) : undefined;
}

/** Every endpoint, oldest first. */
export async function listWebhookEndpoints(sql: Sql): Promise<WebhookEndpointRecord[]> {
  const rows = await select(sql).orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
  return rows.map(toRecord);
}

export interface NewWebhookEndpoint {
  id: string;
  url: string;
  accountId: string | null;
  types: string[] | null;
  secretCiphertext: string;
  secretKeyId: string;
}

/**
 * Stores a new endpoint with its progress at the current end of the feed: it receives what happens from now
 * on (the account's last seq, or the global feed's head).
 */
export async function insertWebhookEndpoint(sql: Sql, e: NewWebhookEndpoint): Promise<void> {
  await sql.begin(async (tx) => {
    const position =
      e.accountId === null
        ? { cursor: await globalHead(tx), afterSeq: null }
        : { cursor: null, afterSeq: await lastSeq(tx, e.accountId) };
    await tx`
      insert into webhook_endpoints (id, url, account_id, types, secret_ciphertext, secret_key_id)
      values (${e.id}, ${e.url}, ${e.accountId}, ${e.types}, ${e.secretCiphertext}, ${e.secretKeyId})`;
    await tx`
      insert into webhook_progress (endpoint_id, cursor, after_seq)
      values (${e.id}, ${position.cursor}, ${position.afterSeq})`;
  });
}

/** false when there was no such endpoint. */
export async function deleteWebhookEndpoint(sql: Sql, id: string): Promise<boolean> {
  const rows = await orm(sql)
    .delete(webhookEndpoints)
    .where(eq(webhookEndpoints.id, id))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/**
 * Enables the endpoint again and forgets its failures: delivery resumes from where it stopped, and the
 * give-up time counts from its next failure. false when there was no such endpoint.
 */
export async function enableWebhookEndpoint(sql: Sql, id: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    const rows = await tx`
      update webhook_endpoints set enabled = true, disabled_at = null, disabled_reason = null
      where id = ${id} returning id`;
    if (rows.length === 0) return false;
    await tx`
      update webhook_progress set attempts = 0, failing_since = null, next_attempt_at = null, updated_at = now()
      where endpoint_id = ${id}`;
    return true;
  });
}

/** Makes `runner` the run that owns the endpoint's progress; false when the endpoint is gone. */
export async function claimWebhookRunner(sql: Sql, id: string, runner: string): Promise<boolean> {
  const rows = await orm(sql)
    .update(webhookProgress)
    .set({ runner, updatedAt: new Date() })
    .where(eq(webhookProgress.endpointId, id))
    .returning({ id: webhookProgress.endpointId });
  return rows.length > 0;
}

/** Where delivery stands: the feed position after the last event handled. */
export type WebhookPosition = { cursor: string } | { afterSeq: number };

const positionColumns = (p: WebhookPosition) =>
  'cursor' in p ? { cursor: p.cursor } : { afterSeq: p.afterSeq };

const owned = (id: string, runner: string) =>
  and(eq(webhookProgress.endpointId, id), eq(webhookProgress.runner, runner));

/**
 * Records delivered events: the new position, how many were delivered, and that the endpoint is healthy
 * again. false when `runner` no longer owns the endpoint (or it was removed): the run must stop.
 */
export async function saveWebhookProgress(
  sql: Sql,
  id: string,
  runner: string,
  p: { position: WebhookPosition; delivered: number; lastStatus: number | null },
): Promise<boolean> {
  const now = new Date();
  const rows = await orm(sql)
    .update(webhookProgress)
    .set({
      ...positionColumns(p.position),
      ...(p.delivered > 0
        ? {
            delivered: dsql`${webhookProgress.delivered} + ${p.delivered}`,
            lastDeliveredAt: now,
            lastStatus: p.lastStatus,
            attempts: 0,
            failingSince: null,
            nextAttemptAt: null,
            lastError: null,
          }
        : {}),
      updatedAt: now,
    })
    .where(owned(id, runner))
    .returning({ id: webhookProgress.endpointId });
  return rows.length > 0;
}

/** Records a failed attempt and when the next one is due; false when `runner` no longer owns the endpoint. */
export async function recordWebhookFailure(
  sql: Sql,
  id: string,
  runner: string,
  f: {
    attempts: number;
    failingSince: Date;
    nextAttemptAt: Date | null;
    lastStatus: number | null;
    lastError: string;
  },
): Promise<boolean> {
  const rows = await orm(sql)
    .update(webhookProgress)
    .set({ ...f, updatedAt: new Date() })
    .where(owned(id, runner))
    .returning({ id: webhookProgress.endpointId });
  return rows.length > 0;
}

/** Disables the endpoint (it gave up); false when `runner` no longer owns it. */
export async function disableWebhookEndpoint(
  sql: Sql,
  id: string,
  runner: string,
  reason: string,
): Promise<boolean> {
  return sql.begin(async (tx) => {
    const mine = await tx`
      update webhook_progress set next_attempt_at = null, updated_at = now()
      where endpoint_id = ${id} and runner = ${runner} returning endpoint_id`;
    if (mine.length === 0) return false;
    await tx`
      update webhook_endpoints set enabled = false, disabled_at = now(), disabled_reason = ${reason}
      where id = ${id}`;
    return true;
  });
}

/** The stored signing secrets, for `keys rotate`. */
export async function listWebhookSecrets(
  sql: Sql,
): Promise<{ id: string; url: string; ciphertext: string; keyId: string }[]> {
  return orm(sql)
    .select({
      id: webhookEndpoints.id,
      url: webhookEndpoints.url,
      ciphertext: webhookEndpoints.secretCiphertext,
      keyId: webhookEndpoints.secretKeyId,
    })
    .from(webhookEndpoints)
    .orderBy(asc(webhookEndpoints.id));
}

/** Replaces a secret's ciphertext if it is still the one read; false when it changed meanwhile. */
export async function replaceWebhookSecret(
  sql: Sql,
  id: string,
  from: { ciphertext: string },
  to: { ciphertext: string; keyId: string },
): Promise<boolean> {
  const rows = await orm(sql)
    .update(webhookEndpoints)
    .set({ secretCiphertext: to.ciphertext, secretKeyId: to.keyId })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.secretCiphertext, from.ciphertext)))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}
