// The audit log: who did what, when, from where (sign-ins, token changes, purges, webhook changes).
// Append-only; written by the server (src/app/audit.ts) and read by operators and tests.
import type { Sql } from './client';

export interface AuditEntry {
  actor: string;
  action: string;
  accountId: string | null;
  ip: string | null;
  detail?: Record<string, unknown> | undefined;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: Date;
}

export async function insertAudit(sql: Sql, e: AuditEntry): Promise<void> {
  await sql`
    insert into audit_log (actor, action, account_id, ip, detail)
    values (${e.actor}, ${e.action}, ${e.accountId}, ${e.ip}, ${e.detail ? JSON.stringify(e.detail) : null}::jsonb)`;
}

/** The newest entries first, optionally for one account. */
export async function listAudit(
  sql: Sql,
  opts: { accountId?: string | undefined; limit?: number } = {},
): Promise<AuditRecord[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  const rows = await sql<
    {
      id: string;
      at: string;
      actor: string;
      action: string;
      account_id: string | null;
      ip: string | null;
      detail: string | Record<string, unknown> | null;
    }[]
  >`
    select id, at, actor, action, account_id, ip, detail from audit_log
    where ${opts.accountId === undefined ? sql`true` : sql`account_id = ${opts.accountId}`}
    order by id desc limit ${limit}`;
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at),
    actor: r.actor,
    action: r.action,
    accountId: r.account_id,
    ip: r.ip,
    detail:
      typeof r.detail === 'string'
        ? (JSON.parse(r.detail) as Record<string, unknown>)
        : (r.detail ?? undefined),
  }));
}
