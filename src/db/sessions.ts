// Browser sessions and one-time sign-in links, shared by every replica of `sevsync serve`. Only SHA-256
// digests of the random ids are stored: a copy of the table opens no session. Writers: the server's sign-in
// routes (through src/app/sessions.ts); expired rows are swept by the same writers, a few at a time.
import type { Sql } from './client';

export interface SessionRow {
  accountId: string | null;
  subject: string;
  expiresAt: Date;
}

export async function insertSession(
  sql: Sql,
  s: { idHash: string; accountId: string | null; subject: string; expiresAt: Date },
): Promise<void> {
  await sql`
    insert into web_sessions (id_hash, account_id, subject, expires_at)
    values (${s.idHash}, ${s.accountId}, ${s.subject}, ${s.expiresAt.toISOString()}::timestamptz)`;
}

/**
 * The live session with this digest, its expiry moved to `extendTo` (sliding), or undefined. The expiry
 * is written at most once a minute per session, so a page's polling costs reads, not writes.
 */
export async function touchSession(
  sql: Sql,
  idHash: string,
  now: Date,
  extendTo: Date,
): Promise<SessionRow | undefined> {
  const rows = await sql<{ account_id: string | null; subject: string; expires_at: string }[]>`
    select account_id, subject, expires_at from web_sessions
    where id_hash = ${idHash} and expires_at > ${now.toISOString()}::timestamptz`;
  const row = rows[0];
  if (!row) return undefined;
  // Timestamps arrive as text (the client leaves their parsing to drizzle).
  let expiresAt = new Date(row.expires_at);
  if (extendTo.getTime() - expiresAt.getTime() > 60_000) {
    await sql`
      update web_sessions set expires_at = ${extendTo.toISOString()}::timestamptz where id_hash = ${idHash}`;
    expiresAt = extendTo;
  }
  return { accountId: row.account_id, subject: row.subject, expiresAt };
}

export async function deleteSession(sql: Sql, idHash: string): Promise<void> {
  await sql`delete from web_sessions where id_hash = ${idHash}`;
}

export async function insertSignInLink(
  sql: Sql,
  l: { codeHash: string; accountId: string | null; next: string; expiresAt: Date },
): Promise<void> {
  await sql`
    insert into sign_in_links (code_hash, account_id, next, expires_at)
    values (${l.codeHash}, ${l.accountId}, ${l.next}, ${l.expiresAt.toISOString()}::timestamptz)`;
}

/** Deletes the link and answers it if it was still valid: a code opens at most one session, on any replica. */
export async function redeemSignInLink(
  sql: Sql,
  codeHash: string,
  now: Date,
): Promise<{ accountId: string | null; next: string } | undefined> {
  const rows = await sql<{ account_id: string | null; next: string; expires_at: string }[]>`
    delete from sign_in_links where code_hash = ${codeHash}
    returning account_id, next, expires_at`;
  const row = rows[0];
  if (!row || new Date(row.expires_at) <= now) return undefined;
  return { accountId: row.account_id, next: row.next };
}

/** Removes up to `limit` expired sessions and links (bounded, so a sign-in never waits on a big sweep). */
export async function sweepExpiredSessions(sql: Sql, now: Date, limit = 500): Promise<number> {
  const a = await sql`
    delete from web_sessions where id_hash in (
      select id_hash from web_sessions where expires_at <= ${now.toISOString()}::timestamptz limit ${limit})`;
  const b = await sql`
    delete from sign_in_links where code_hash in (
      select code_hash from sign_in_links where expires_at <= ${now.toISOString()}::timestamptz limit ${limit})`;
  return a.count + b.count;
}
