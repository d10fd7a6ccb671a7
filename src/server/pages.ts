// The pages under /ui/: forms post here, the handler calls the use case and redirects back (303), or shows
// the page again with the error. German messages for the coach; the use cases' own text is appended.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { clearSessionCookie, isApiToken, safeNext, sessionId, setSessionCookie } from './auth';
import { audit } from './audit';
import { EmbedTokenError } from './embed';
import type { ServerContext } from './index';
import type { PageContext } from './views';
import {
  accountPickerPage,
  customerPage,
  customersPage,
  embedPage,
  errorPage,
  interfacePage,
  liveFragment,
  signInLinkPage,
  signInPage,
} from './views';
import type { CallerError, UseCases } from './use-cases';
import { INVOICE_FILTERS } from './views/customer';

const NOTICES: Record<string, string> = {
  added: 'Die sevDesk-Schnittstelle ist gespeichert. Der Massenimport der bisherigen Rechnungen läuft.',
  activated: 'Die Schnittstelle ist aktiv.',
  deactivated: 'Die Schnittstelle ist deaktiviert. Jetzt kannst du die Einstellungen ändern.',
  saved: 'Die Einstellungen sind gespeichert. Aktiviere die Schnittstelle wieder, damit sie synchronisiert.',
  removed: 'Die Schnittstelle ist entfernt.',
  import: 'Der Massenimport läuft.',
  reconciled: 'Der Abgleich ist bestätigt.',
  reconnected:
    'Der neue API-Token ist geprüft und gespeichert. Die Synchronisierung läuft wieder; das Ergebnis erscheint unten im Verlauf.',
  sync: 'Die Synchronisierung ist angestoßen. Ihr Ergebnis erscheint gleich unten im Verlauf.',
  'sync-wait':
    'Eben wurde schon eine Synchronisierung angestoßen; ihr Ergebnis erscheint unten im Verlauf. Ein neuer Anstoß geht nach 30 Sekunden wieder.',
};

const TOKEN_SHAPE =
  'Der API-Token muss aus 32 Zeichen bestehen (Ziffern 0–9 und Buchstaben a–f). Kopiere ihn in sevDesk unter Erweiterungen – API (Einblenden).';

/** The coach-facing sentence for an error the use cases classified. */
export function germanError(e: CallerError): string {
  switch (e.type) {
    case 'invalid_token':
      return `sevDesk hat den API-Token abgelehnt. Kopiere den API-Token in sevDesk unter Erweiterungen – API (Einblenden) erneut und füge ihn hier ein. (${e.message})`;
    case 'invalid_input':
      return `Ungültige Eingabe: ${e.message}`;
    case 'conflict':
      return `Das geht gerade nicht: ${e.message}`;
    case 'inactive':
      return `Die Schnittstelle ist deaktiviert: ${e.message}`;
    case 'unavailable':
      return `Der Dienst ist gerade nicht erreichbar; versuche es gleich noch einmal. (${e.message})`;
    case 'not_found':
      return `Nicht gefunden: ${e.message}`;
    default:
      return `Das hat nicht geklappt: ${e.message}`;
  }
}

const Account = z.object({ account: z.string().min(1).max(128) });
const TokenForm = z.object({
  token: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{32}$/),
});
const SettingsForm = z.object({
  token: z.string().trim().optional(),
  intervalSeconds: z.string().trim().optional(),
  amountBasis: z.enum(['', 'gross', 'net']).optional(),
  /** Sent by the reconnect form (a new token while active): the notice says the sync resumed. */
  reconnect: z.literal('1').optional(),
});

/** A page, or with `?live=1` only its live region (what the live refresh swaps in). */
function html(reply: FastifyReply, code: number, body: string) {
  const live = (reply.request.query as { live?: unknown } | undefined)?.live === '1';
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .send(live ? liveFragment(body) : body);
}

const pagePath = (account: string, page = 'interface') =>
  `/ui/accounts/${encodeURIComponent(account)}/${page}`;

export function registerPages(app: FastifyInstance, deps: { useCases: UseCases; ctx: ServerContext }): void {
  const uc = deps.useCases;
  const { ctx } = deps;
  const { throttle, sessions } = ctx;
  const publicRoute = { config: { public: true }, schema: { hide: true } };
  const page = { schema: { hide: true } };

  const ctxOf = (req: FastifyRequest): PageContext => ({ account: Account.parse(req.params).account });

  /** Runs a use case for a page; a caller's error comes back as a message to show (anything else throws). */
  async function attempt(fn: () => Promise<unknown>): Promise<{ error?: string; status?: number }> {
    try {
      await fn();
      return {};
    } catch (err) {
      const known = uc.classify(err);
      if (!known) throw err;
      return { error: germanError(known), status: known.status };
    }
  }

  /** A form's use case for the page's account: an error shows the page again, success redirects with a notice. */
  async function act(
    req: FastifyRequest,
    reply: FastifyReply,
    notice: string,
    fn: (account: string) => Promise<unknown>,
  ) {
    const { account } = ctxOf(req);
    const res = await attempt(() => fn(account));
    if (res.error) return renderInterface(req, reply, res.status ?? 400, { error: res.error });
    return reply.redirect(`${pagePath(account)}?ok=${notice}`, 303);
  }

  async function renderInterface(
    req: FastifyRequest,
    reply: FastifyReply,
    code: number,
    extra: { error?: string | undefined; notice?: string | undefined },
  ) {
    const ctx = ctxOf(req);
    let status = null;
    let extras = {};
    try {
      status = await uc.getStatus(ctx.account);
      const [history, unassignedByContact] = await Promise.all([
        uc.getHistory(ctx.account, 20),
        uc.getUnassignedByContact(ctx.account),
      ]);
      extras = { history: history.runs, unassignedByContact };
    } catch (err) {
      const known = uc.classify(err);
      if (!known) throw err;
      if (known.type !== 'not_found')
        return html(
          reply,
          known.status,
          errorPage(ctx, { title: 'Schnittstellen', message: germanError(known) }),
        );
    }
    return html(reply, code, interfacePage(ctx, { status, ...extras, ...extra }));
  }

  const tooMany = (reply: FastifyReply, next: string) =>
    html(
      reply,
      429,
      signInPage({
        next,
        tokenSignIn: ctx.settings.allowTokenSignIn,
        error: 'Zu viele Versuche. Versuche es in ein paar Minuten wieder.',
      }),
    );

  /** Opens a session, sets its cookie, writes the audit entry and goes on to `next`. */
  async function signIn(
    req: FastifyRequest,
    reply: FastifyReply,
    s: { account: string | null; subject: string; actor: string; method: string; next: string },
  ) {
    setSessionCookie(reply, ctx.cookie, await sessions.create(s.account, s.subject));
    await audit(req, ctx, {
      action: 'sign_in',
      actor: s.actor,
      account: s.account,
      detail: { method: s.method },
    });
    return reply.redirect(s.next, 303);
  }

  async function failed(req: FastifyRequest, method: string, reason: string) {
    throttle.failed(req.ip);
    await audit(req, ctx, { action: 'sign_in.failed', actor: 'anonymous', detail: { method, reason } });
  }

  app.get('/ui/sign-in', publicRoute, (req, reply) => {
    const next = safeNext((req.query as { next?: unknown }).next);
    return html(reply, 200, signInPage({ next, tokenSignIn: ctx.settings.allowTokenSignIn }));
  });

  app.post('/ui/sign-in', publicRoute, async (req, reply) => {
    const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
    const next = safeNext(body.next);
    if (!ctx.settings.allowTokenSignIn) {
      return html(
        reply,
        403,
        signInPage({
          next,
          tokenSignIn: false,
          error: 'Die Anmeldung mit dem Zugangsschlüssel ist abgeschaltet. Öffne diese Seite aus OneCockpit.',
        }),
      );
    }
    if (throttle.blocked(req.ip)) return tooMany(reply, next);
    if (typeof body.token !== 'string' || !isApiToken(body.token.trim(), ctx.settings.apiTokens)) {
      await failed(req, 'api-token', 'wrong token');
      return html(
        reply,
        401,
        signInPage({ next, tokenSignIn: true, error: 'Der Zugangsschlüssel stimmt nicht.' }),
      );
    }
    return signIn(req, reply, {
      account: null,
      subject: 'api-token',
      actor: 'api-token',
      method: 'api-token',
      next,
    });
  });

  app.get('/ui/sign-in/link', publicRoute, (_req, reply) => html(reply, 200, signInLinkPage()));

  app.post('/ui/sign-in/link', publicRoute, async (req, reply) => {
    if (throttle.blocked(req.ip)) return tooMany(reply, '/ui/');
    const code = (req.body as { code?: unknown } | undefined)?.code;
    const link = typeof code === 'string' ? await sessions.redeemLink(code) : undefined;
    if (!link) {
      await failed(req, 'link', 'expired or used');
      return html(
        reply,
        401,
        signInPage({
          next: '/ui/',
          tokenSignIn: ctx.settings.allowTokenSignIn,
          error:
            'Der Anmeldelink ist abgelaufen oder wurde schon benutzt. Öffne die Seite noch einmal aus OneCockpit.',
        }),
      );
    }
    return signIn(req, reply, { ...link, subject: 'link', actor: 'link', method: 'link' });
  });

  /** OneCockpit opens /ui/embed#<embed token>: the page posts the token here and gets a session for its account. */
  app.get('/ui/embed', publicRoute, (_req, reply) => html(reply, 200, embedPage()));

  app.post('/ui/embed', publicRoute, async (req, reply) => {
    if (throttle.blocked(req.ip)) return tooMany(reply, '/ui/');
    const token = (req.body as { code?: unknown } | undefined)?.code;
    let message = 'Diese Seite lässt sich nur aus OneCockpit öffnen (Einstellungen – Schnittstellen).';
    if (ctx.embed && typeof token === 'string' && token.length < 8192) {
      try {
        const claims = await ctx.embed.verify(token);
        return await signIn(req, reply, {
          account: claims.account,
          subject: `embed:${claims.sub}`,
          actor: `embed:${claims.sub}`,
          method: 'embed',
          next: pagePath(claims.account),
        });
      } catch (err) {
        if (!(err instanceof EmbedTokenError)) throw err;
        await failed(req, 'embed', err.message);
        message =
          'Die Anmeldung aus OneCockpit ist abgelaufen oder ungültig. Öffne die Seite in OneCockpit noch einmal.';
      }
    } else await failed(req, 'embed', ctx.embed ? 'no token' : 'no embed key configured');
    return html(reply, 401, errorPage({ account: '' }, { title: 'Anmelden', message }));
  });

  app.post('/ui/sign-out', page, async (req, reply) => {
    const id = sessionId(req);
    if (id) await sessions.end(id);
    clearSessionCookie(reply, ctx.cookie);
    return reply.redirect('/ui/sign-in', 303);
  });

  app.get('/ui/', page, (req, reply) => {
    const account = req.principal?.account;
    if (account) return reply.redirect(pagePath(account), 302);
    return html(reply, 200, accountPickerPage());
  });

  app.get('/ui/open', page, (req, reply) => {
    const account = (req.query as { account?: unknown }).account;
    if (typeof account !== 'string' || !account.trim()) return reply.redirect('/ui/', 302);
    return reply.redirect(pagePath(account.trim()), 302);
  });

  app.get('/ui/accounts/:account/interface', page, (req, reply) => {
    const ok = (req.query as { ok?: unknown }).ok;
    return renderInterface(req, reply, 200, { notice: typeof ok === 'string' ? NOTICES[ok] : undefined });
  });

  app.post('/ui/accounts/:account/interface', page, async (req, reply) => {
    const form = TokenForm.safeParse(req.body ?? {});
    if (!form.success) return renderInterface(req, reply, 400, { error: TOKEN_SHAPE });
    return act(req, reply, 'added', (account) =>
      uc.addInterface({ accountId: account, token: form.data.token }),
    );
  });

  app.post('/ui/accounts/:account/interface/active', page, async (req, reply) => {
    const active = (req.body as { active?: unknown } | undefined)?.active === 'true';
    return act(req, reply, active ? 'activated' : 'deactivated', (account) =>
      uc.setInterfaceActive(account, active),
    );
  });

  app.post('/ui/accounts/:account/interface/settings', page, async (req, reply) => {
    const form = SettingsForm.safeParse(req.body ?? {});
    if (!form.success) return renderInterface(req, reply, 400, { error: 'Ungültige Eingabe.' });
    const { token, intervalSeconds, amountBasis, reconnect } = form.data;
    if (token && !/^[0-9a-fA-F]{32}$/.test(token))
      return renderInterface(req, reply, 400, { error: TOKEN_SHAPE });
    const interval = intervalSeconds ? Number(intervalSeconds) : undefined;
    if (interval !== undefined && !(Number.isInteger(interval) && interval >= 1 && interval <= 86_400)) {
      return renderInterface(req, reply, 400, {
        error: 'Das Intervall muss eine ganze Zahl von 1 bis 86400 Sekunden sein.',
      });
    }
    if (reconnect && !token)
      return renderInterface(req, reply, 400, { error: 'Füge den neuen API-Token ein.' });
    return act(req, reply, reconnect ? 'reconnected' : 'saved', (account) =>
      uc.updateInterfaceSettings({
        accountId: account,
        token: token || undefined,
        intervalSeconds: interval,
        amountBasis: amountBasis || undefined,
      }),
    );
  });

  app.post('/ui/accounts/:account/interface/remove', page, async (req, reply) => {
    const purge = (req.body as { purge?: unknown } | undefined)?.purge === 'true';
    return act(req, reply, 'removed', (account) => uc.removeInterface(account, purge));
  });

  app.post('/ui/accounts/:account/import', page, (req, reply) =>
    act(req, reply, 'import', (account) => uc.startImport(account, { dryRun: false })),
  );

  app.post('/ui/accounts/:account/sync', page, async (req, reply) => {
    const { account } = ctxOf(req);
    let asked: Awaited<ReturnType<UseCases['requestSync']>> | undefined;
    const res = await attempt(async () => (asked = await uc.requestSync(account)));
    if (res.error) return renderInterface(req, reply, res.status ?? 400, { error: res.error });
    // Redirected either way: the page's live refresh reloads its own address.
    if (asked && !asked.requested) return reply.redirect(`${pagePath(account)}?ok=sync-wait`, 303);
    return reply.redirect(`${pagePath(account)}?ok=sync`, 303);
  });

  app.post('/ui/accounts/:account/reconcile', page, (req, reply) =>
    act(req, reply, 'reconciled', (account) => uc.confirmReconcile(account)),
  );

  app.get('/ui/accounts/:account/customers', page, async (req, reply) => {
    const ctx = ctxOf(req);
    const query = (req.query ?? {}) as { q?: unknown; sort?: unknown; cursor?: unknown };
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    try {
      const found = await uc.searchCustomers(ctx.account, {
        q: text(query.q)?.slice(0, 200),
        sort: text(query.sort) === 'name' ? 'name' : 'value',
        cursor: text(query.cursor) || undefined,
      });
      return html(reply, 200, customersPage(ctx, found));
    } catch (err) {
      const known = uc.classify(err);
      if (!known) throw err;
      return html(reply, known.status, errorPage(ctx, { title: 'Kunden', message: germanError(known) }));
    }
  });

  app.get('/ui/accounts/:account/customers/:email', page, async (req, reply) => {
    const ctx = ctxOf(req);
    const email = String((req.params as { email?: unknown }).email ?? '').toLowerCase();
    let customer;
    try {
      customer = await uc.getCustomer(ctx.account, email);
    } catch (err) {
      const known = uc.classify(err);
      if (!known) throw err;
      if (known.type === 'not_found')
        return html(
          reply,
          404,
          errorPage(ctx, { title: 'Kunde', message: 'Diesen Kunden gibt es in diesem Konto nicht.' }),
        );
      return html(reply, known.status, errorPage(ctx, { title: 'Kunde', message: germanError(known) }));
    }
    const { history } = await uc.getCustomerHistory(ctx.account, customer.email);
    const filter = (req.query as { filter?: unknown } | undefined)?.filter;
    const known = INVOICE_FILTERS.find((f) => f === filter) ?? null;
    return html(reply, 200, customerPage(ctx, customer, history, { filter: known }));
  });
}
