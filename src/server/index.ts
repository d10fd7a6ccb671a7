// `sevsync serve`: the HTTP API OneCockpit's backend calls and the settings pages a coach clicks through.
// Fastify with zod schemas; every route but the sign-in pages and the static files needs the API token, an
// embed token or a session cookie (./auth.ts). Security headers come from @fastify/helmet, a flood from one
// address is cut by @fastify/rate-limit, and the token checks at sevDesk are limited (./limits.ts).
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { CookiePolicy, Principal } from './auth';
import {
  FailureThrottle,
  bearerToken,
  cookiePolicy,
  isApiToken,
  isLoopbackHost,
  isUnsafe,
  ownOrigin,
  sameOrigin,
  sessionId,
} from './auth';
import { registerApi } from './api';
import { registerReadApi } from './read-api';
import { registerAssets } from './assets';
import { registerAudit } from './audit';
import type { CodecEndpointOptions } from './codec';
import { registerCodecEndpoint } from './codec';
import type { EmbedVerifier } from './embed';
import { EmbedTokenError, embedVerifier, looksLikeJwt } from './embed';
import { TokenChecksPausedError, TokenRejectionBreaker, registerTokenCheckLimits } from './token-checks';
import { registerPages } from './pages';
import type { ServeSettings } from './settings';
import { DEFAULT_SERVE_SETTINGS } from './settings';
import type { SessionUseCases } from './sessions';
import { registerWebhooksApi } from './webhooks-api';
import { errorPage } from './views';
import type { UseCases } from './use-cases';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (the sign-in pages, the static files). */
    public?: boolean;
  }
}

export interface ServerOptions {
  useCases: UseCases;
  /** One more API token besides `settings.apiTokens` (what the tests and the demo pass). */
  apiToken?: string;
  settings?: Partial<ServeSettings>;
  /** The Temporal UI's codec endpoint (/codec); undefined while payloads are not encrypted. */
  codec?: CodecEndpointOptions | undefined;
  logger?: boolean;
}

/** What the routes share: the settings, the session store, the cookie, the embed key, the throttle. */
export interface ServerContext {
  settings: ServeSettings;
  sessions: SessionUseCases;
  cookie: CookiePolicy;
  embed: EmbedVerifier | undefined;
  /** Failed sign-ins and bearer tokens per client address. */
  throttle: FailureThrottle;
  /** Our origin as browsers see it (SEVSYNC_PUBLIC_ORIGIN, else from the request). */
  origin(req: FastifyRequest): string;
}

export interface SevsyncServer {
  app: FastifyInstance;
  context: ServerContext;
}

export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

/** Refuses what would expose the API: no token off loopback (nor an embed key), or a guessable one. */
export function checkServeSettings(opts: {
  host: string;
  apiTokens: readonly string[];
  embed?: boolean;
}): void {
  if (opts.apiTokens.length === 0 && !opts.embed && !isLoopbackHost(opts.host)) {
    throw new ServeConfigError(
      `refusing to listen on ${opts.host} without SEVSYNC_API_TOKENS (or SEVSYNC_EMBED_SECRET / ` +
        'SEVSYNC_EMBED_PUBLIC_KEY): set one (e.g. openssl rand -hex 32), or listen on 127.0.0.1',
    );
  }
  if (opts.apiTokens.some((t) => t.length < 16)) {
    throw new ServeConfigError(
      'SEVSYNC_API_TOKEN must be at least 16 characters (e.g. openssl rand -hex 32)',
    );
  }
}

/**
 * No inline code on any page: scripts and the stylesheet are our own files (./assets.ts), the live refresh
 * fetches our own API, forms post only to us, and only OneCockpit (SEVSYNC_EMBED_ORIGINS) may frame the pages.
 */
function cspDirectives(frameAncestors: readonly string[]) {
  return {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    frameAncestors: frameAncestors.length > 0 ? [...frameAncestors] : ["'none'"],
  };
}

export const errorJson = (type: string, message: string) => ({ error: { type, message } });

function validationMessage(err: { validation: { instancePath?: string; message?: string }[] }, ctx?: string) {
  return err.validation
    .map((v) => {
      const field = [ctx, ...(v.instancePath ?? '').split('/').filter(Boolean)].filter(Boolean).join('.');
      return `${field || 'request'}: ${v.message ?? 'invalid'}`;
    })
    .join('; ');
}

function unauthorized(req: FastifyRequest, reply: FastifyReply, why?: string) {
  if (req.url.startsWith('/ui/')) {
    return req.method === 'GET'
      ? reply.redirect(`/ui/sign-in?next=${encodeURIComponent(req.url)}`, 302)
      : reply.redirect('/ui/sign-in', 303);
  }
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="sevsync"')
    .send(
      errorJson(
        'unauthorized',
        why ?? 'send Authorization: Bearer <API token or embed token>, or sign in at /ui/sign-in',
      ),
    );
}

/** Who a bearer credential is: an API token (every account) or an embed token (one account). */
async function bearerPrincipal(
  token: string | undefined,
  ctx: ServerContext,
): Promise<Principal | { refused: string }> {
  if (!token) return { refused: 'malformed Authorization header (expected: Bearer <token>)' };
  if (ctx.embed && looksLikeJwt(token)) {
    try {
      const claims = await ctx.embed.verify(token);
      return { account: claims.account, via: 'bearer', actor: `embed:${claims.sub}` };
    } catch (err) {
      if (err instanceof EmbedTokenError) return { refused: err.message };
      throw err;
    }
  }
  if (isApiToken(token, ctx.settings.apiTokens)) return { account: null, via: 'bearer', actor: 'api-token' };
  return { refused: 'the bearer token is not valid' };
}

/** The server's settings: the defaults, what the caller passed, and the one extra API token. */
function settingsOf(opts: ServerOptions): ServeSettings {
  const settings = { ...DEFAULT_SERVE_SETTINGS, ...opts.settings };
  const tokens = [...settings.apiTokens, ...(opts.apiToken ? [opts.apiToken] : [])];
  return { ...settings, apiTokens: [...new Set(tokens)] };
}

/** A breaker around the use cases that check a token at sevDesk (see ./token-checks.ts). */
function withTokenBreaker(uc: UseCases, breaker: TokenRejectionBreaker): UseCases {
  const observe = async <T>(token: string | undefined, fn: () => Promise<T>): Promise<T> => {
    if (token === undefined) return fn();
    breaker.admit();
    try {
      return await fn();
    } catch (err) {
      if (uc.classify(err)?.type === 'invalid_token') breaker.rejectedToken(token);
      throw err;
    }
  };
  return {
    ...uc,
    addInterface: (input) => observe(input.token, () => uc.addInterface(input)),
    updateInterfaceSettings: (input) => observe(input.token, () => uc.updateInterfaceSettings(input)),
    classify: (err) =>
      err instanceof TokenChecksPausedError
        ? { status: 503, type: 'unavailable', message: err.message }
        : uc.classify(err),
  };
}

export async function buildServer(opts: ServerOptions): Promise<SevsyncServer> {
  const settings = settingsOf(opts);
  if (!opts.useCases.sessions) throw new ServeConfigError('the server needs the session use cases');
  const ctx: ServerContext = {
    settings,
    sessions: opts.useCases.sessions,
    cookie: cookiePolicy({ publicOrigin: settings.publicOrigin, framed: settings.frameAncestors.length > 0 }),
    embed: settings.embed ? await embedVerifier(settings.embed) : undefined,
    throttle: new FailureThrottle(Date.now, settings.authFailuresPerAddress),
    origin: (req) => ownOrigin(req, settings.publicOrigin),
  };
  const useCases = withTokenBreaker(opts.useCases, new TokenRejectionBreaker());
  const secure = ctx.cookie.secure;
  // Errors are logged; per-request lines are not (the pages poll status).
  const app = Fastify({
    logger: opts.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // X-Forwarded-For/-Proto/-Host only from the proxies named: anyone else could claim any address.
    trustProxy: settings.trustedProxies.length > 0 ? settings.trustedProxies : false,
    // A request (headers and body) that takes longer is cut off; an idle connection too.
    requestTimeout: settings.requestTimeoutMs,
    connectionTimeout: settings.requestTimeoutMs * 2,
    http: {
      headersTimeout: Math.min(settings.requestTimeoutMs, 20_000),
      connectionsCheckingInterval: Math.min(Math.max(settings.requestTimeoutMs / 4, 250), 5_000),
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(settings.frameAncestors) },
    frameguard: settings.frameAncestors.length > 0 ? false : { action: 'deny' },
    hsts: secure ? { maxAge: 365 * 24 * 60 * 60, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  // Anyone but the backend (its API token is exempt: it calls for every account) gets a fair share.
  await app.register(fastifyRateLimit, {
    hook: 'preHandler',
    max: 600,
    timeWindow: 60_000,
    keyGenerator: (req) => req.ip,
    allowList: (req) => req.principal?.via === 'bearer' && req.principal.account === null,
    errorResponseBuilder: (_req, c) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `too many requests from this address; try again in ${Math.ceil(c.ttl / 1000)} s`,
    }),
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'sevsync',
        description:
          "OneCockpit's sevDesk interface. Every route needs `Authorization: Bearer <token>`: an API token " +
          '(SEVSYNC_API_TOKENS, every account) or an embed token (a JWT for one account). ' +
          'Errors are `{error: {type, message}}`.',
        version: '1.0.0',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    const isPublic = req.routeOptions.config.public === true;
    if (req.headers.authorization !== undefined) {
      // A wrong Authorization header never falls back to a cookie.
      if (ctx.throttle.blocked(req.ip)) {
        return reply
          .code(429)
          .header('retry-after', '600')
          .send(errorJson('rate_limited', 'too many failed authentications from this address; try later'));
      }
      const who = await bearerPrincipal(bearerToken(req), ctx);
      if ('refused' in who) {
        ctx.throttle.failed(req.ip);
        req.log.warn({ ip: req.ip, reason: who.refused }, 'bearer authentication failed');
        if (!isPublic) return unauthorized(req, reply, who.refused);
      } else req.principal = who;
    } else {
      const id = sessionId(req);
      const session = id ? await ctx.sessions.get(id) : undefined;
      if (session)
        req.principal = { account: session.account, via: 'session', actor: `session:${session.subject}` };
    }
    if (!isPublic && !req.principal) return unauthorized(req, reply);
    // A write that rides on a cookie must come from our own pages (SameSite is the first line).
    if (req.principal?.via !== 'bearer' && isUnsafe(req) && !sameOrigin(req, settings.publicOrigin)) {
      return reply
        .code(403)
        .send(errorJson('forbidden', 'cross-site request refused (Origin does not match)'));
    }
    if (isPublic || !req.principal) return;
    const account = (req.params as { account?: unknown } | undefined)?.account;
    if (req.principal.account !== null && typeof account === 'string' && account !== req.principal.account) {
      const message = 'this token or session may only see the account it was made for';
      if (!req.url.startsWith('/ui/')) return reply.code(403).send(errorJson('forbidden', message));
      const page = errorPage(
        { account: req.principal.account },
        { title: 'Kein Zugriff', message: 'Diese Anmeldung gilt nur für ein anderes Konto.' },
      );
      return reply.code(403).type('text/html; charset=utf-8').send(page);
    }
  });

  /** JSON for the API; a German page for the pages (the message stays, the details go to the log). */
  const fail = (req: FastifyRequest, reply: FastifyReply, status: number, type: string, message: string) => {
    if (!req.url.startsWith('/ui/')) return reply.code(status).send(errorJson(type, message));
    const title =
      status === 404
        ? 'Nicht gefunden'
        : status === 429
          ? 'Zu viele Anfragen'
          : status >= 500
            ? 'Fehler'
            : 'Ungültige Anfrage';
    const account = req.principal?.account ?? '';
    const page = errorPage({ account }, { title, message });
    return reply.code(status).type('text/html; charset=utf-8').send(page);
  };

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return fail(req, reply, 400, 'invalid_input', validationMessage(err, err.validationContext));
    }
    const known = useCases.classify(err);
    if (known) return fail(req, reply, known.status, known.type, known.message);
    const e = err as { statusCode?: number; message?: string; error?: string };
    if (e.statusCode === 429) return fail(req, reply, 429, 'rate_limited', e.message ?? 'too many requests');
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return fail(req, reply, e.statusCode, 'invalid_input', e.message ?? 'bad request');
    }
    req.log.error({ err }, 'request failed');
    return fail(req, reply, 500, 'internal', 'internal error; see the server log');
  });
  app.setNotFoundHandler((req, reply) =>
    fail(req, reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  registerTokenCheckLimits(app, settings);
  registerAudit(app, ctx);
  registerApi(app, { useCases, sessions: ctx.sessions, origin: ctx.origin });
  registerReadApi(app, { useCases });
  if (useCases.webhooks) registerWebhooksApi(app, { webhooks: useCases.webhooks });
  if (opts.codec) registerCodecEndpoint(app, opts.codec);
  registerPages(app, { useCases, ctx });
  registerAssets(app);
  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return { app, context: ctx };
}
