// Browser sessions, one-time sign-in links and the audit log, kept in PostgreSQL so that every replica of
// `sevsync serve` and a restarted one see the same. A session id and a link code are 32 and 24 random bytes
// (base64url); only their SHA-256 is stored. `account` null: a session for every account (the API token).
import { createHash, randomBytes } from 'node:crypto';
import type { AuditEntry, AuditRecord } from '../db/audit';
import { insertAudit, listAudit } from '../db/audit';
import {
  deleteSession,
  insertSession,
  insertSignInLink,
  redeemSignInLink,
  sweepExpiredSessions,
  touchSession,
} from '../db/sessions';
import type { AppDeps } from './deps';

export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const LINK_TTL_MS = 15 * 60 * 1000;

export interface SessionView {
  account: string | null;
  /** `api-token`, `link`, or the embed token's user. */
  subject: string;
  expiresAt: Date;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url');

/** A new session; its id (the cookie's value) is returned once and stored only as a digest. */
export async function createSession(
  deps: Pick<AppDeps, 'db'>,
  input: { account: string | null; subject: string; ttlMs?: number },
  now = new Date(),
): Promise<{ id: string; expiresAt: Date }> {
  if (Math.random() < 0.05) await sweepExpiredSessions(deps.db.sql, now);
  const id = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + (input.ttlMs ?? SESSION_TTL_MS));
  await insertSession(deps.db.sql, {
    idHash: digest(id),
    accountId: input.account,
    subject: input.subject,
    expiresAt,
  });
  return { id, expiresAt };
}

/** The live session for a cookie's id (its expiry slides forward), or undefined. */
export async function getSession(
  deps: Pick<AppDeps, 'db'>,
  id: string,
  now = new Date(),
): Promise<SessionView | undefined> {
  const row = await touchSession(deps.db.sql, digest(id), now, new Date(now.getTime() + SESSION_TTL_MS));
  return row && { account: row.accountId, subject: row.subject, expiresAt: row.expiresAt };
}

export async function endSession(deps: Pick<AppDeps, 'db'>, id: string): Promise<void> {
  await deleteSession(deps.db.sql, digest(id));
}

/** A one-time sign-in code: valid 15 minutes, redeemable once, on any replica. */
export async function createSignInLink(
  deps: Pick<AppDeps, 'db'>,
  input: { account: string | null; next: string },
  now = new Date(),
): Promise<{ code: string; expiresAt: Date }> {
  const code = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + LINK_TTL_MS);
  await insertSignInLink(deps.db.sql, {
    codeHash: digest(code),
    accountId: input.account,
    next: input.next,
    expiresAt,
  });
  return { code, expiresAt };
}

export async function redeemLink(
  deps: Pick<AppDeps, 'db'>,
  code: string,
  now = new Date(),
): Promise<{ account: string | null; next: string } | undefined> {
  if (code.length === 0 || code.length > 200) return undefined;
  const link = await redeemSignInLink(deps.db.sql, digest(code), now);
  return link && { account: link.accountId, next: link.next };
}

export async function recordAudit(deps: Pick<AppDeps, 'db'>, entry: AuditEntry): Promise<void> {
  await insertAudit(deps.db.sql, entry);
}

export async function getAudit(
  deps: Pick<AppDeps, 'db'>,
  opts: { accountId?: string | undefined; limit?: number },
): Promise<AuditRecord[]> {
  return listAudit(deps.db.sql, opts);
}
