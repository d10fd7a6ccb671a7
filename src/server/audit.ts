// The audit log of the HTTP surface: every sign-in (and failed one), token change, interface change, purge,
// sign-in link and webhook change goes to the `audit_log` table and to the log, with who (the principal's
// actor), what, when and from where (the client address; behind a trusted proxy the one it saw). Never a
// secret: a token appears only as the fact that it changed.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from './index';

/** Writes one entry; a failed write is logged, never fails the request it describes. */
export async function audit(
  req: FastifyRequest,
  ctx: Pick<ServerContext, 'sessions'>,
  entry: { action: string; account?: string | null; actor?: string; detail?: Record<string, unknown> },
): Promise<void> {
  const row = {
    actor: entry.actor ?? req.principal?.actor ?? 'anonymous',
    action: entry.action,
    accountId: entry.account ?? null,
    ip: req.ip,
    detail: entry.detail,
  };
  req.log.info({ audit: row }, `audit: ${row.action}`);
  try {
    await ctx.sessions.audit(row);
  } catch (err) {
    req.log.error({ err, audit: row }, 'audit entry not written');
  }
}

type Body = Record<string, unknown> | undefined;

/** A webhook URL's host only: receivers often carry a secret in the path or query. */
export function hostOf(url: unknown): string | null {
  try {
    return typeof url === 'string' ? new URL(url).host : null;
  } catch {
    return null;
  }
}
type Describe = (
  req: FastifyRequest,
  body: Body,
) => { action: string; detail?: Record<string, unknown> } | null;

const changedFields = (body: Body) =>
  Object.keys(body ?? {})
    .filter((k) => body?.[k] !== undefined && body[k] !== '')
    .sort();

const purgeOf = (req: FastifyRequest, body: Body) =>
  (req.query as { purge?: unknown } | undefined)?.purge === 'true' || body?.['purge'] === 'true';

/** Routes that change something worth auditing, and how to name what they did (when they succeeded). */
const AUDITED: Record<string, Describe> = {
  'POST /api/accounts/:account/interface': () => ({ action: 'interface.added' }),
  'POST /ui/accounts/:account/interface': () => ({ action: 'interface.added' }),
  'PATCH /api/accounts/:account/interface': (_req, body) => ({
    action: typeof body?.['token'] === 'string' ? 'interface.token_changed' : 'interface.changed',
    detail: { fields: changedFields(body) },
  }),
  'POST /ui/accounts/:account/interface/settings': (_req, body) => ({
    action:
      typeof body?.['token'] === 'string' && body['token'].trim() !== ''
        ? 'interface.token_changed'
        : 'interface.changed',
    detail: { fields: changedFields(body) },
  }),
  'POST /ui/accounts/:account/interface/active': (_req, body) => ({
    action: 'interface.changed',
    detail: { fields: ['active'], active: body?.['active'] },
  }),
  'DELETE /api/accounts/:account/interface': (req, body) => ({
    action: purgeOf(req, body) ? 'interface.purged' : 'interface.removed',
  }),
  'POST /ui/accounts/:account/interface/remove': (req, body) => ({
    action: purgeOf(req, body) ? 'interface.purged' : 'interface.removed',
  }),
  'POST /api/sign-in-links': (_req, body) => ({
    action: 'sign_in_link.created',
    detail: { account: body?.['account'] ?? null },
  }),
  'POST /api/webhooks': (_req, body) => ({
    action: 'webhook.added',
    detail: { host: hostOf(body?.['url']), account: body?.['account'] ?? null },
  }),
  'DELETE /api/webhooks/:id': (req) => ({
    action: 'webhook.removed',
    detail: { id: (req.params as { id?: string }).id },
  }),
  'POST /api/webhooks/:id/enable': (req) => ({
    action: 'webhook.enabled',
    detail: { id: (req.params as { id?: string }).id },
  }),
};

/** After a successful (2xx, or a page's 303) audited request: one entry. */
export function registerAudit(app: FastifyInstance, ctx: Pick<ServerContext, 'sessions'>): void {
  app.addHook('onResponse', async (req, reply) => {
    const describe = AUDITED[`${req.method} ${req.routeOptions.url ?? ''}`];
    if (!describe) return;
    const ok = reply.statusCode < 300 || (reply.statusCode === 303 && req.url.startsWith('/ui/'));
    if (!ok) return;
    const what = describe(req, req.body as Body);
    if (!what) return;
    const account = (req.params as { account?: string } | undefined)?.account ?? null;
    await audit(req, ctx, { ...what, account });
  });
}
