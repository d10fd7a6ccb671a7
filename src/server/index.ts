// `sevsync serve`: the HTTP API OneCockpit's backend calls and the settings pages a coach clicks through.
// Fastify with zod schemas; every route but the sign-in form and the static files needs the API token or a
// session cookie.
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifySwagger from '@fastify/swagger';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Principal } from './auth';
import { Sessions, bearerToken, isLoopbackHost, isUnsafe, sameOrigin, sameSecret, sessionId } from './auth';
import { registerApi } from './api';
import { registerAssets } from './assets';
import { registerPages } from './pages';
import { registerWebhooksApi } from './webhooks-api';
import { errorPage } from './views';
import type { UseCases } from './use-cases';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (the sign-in form, the static files). */
    public?: boolean;
  }
}

export interface ServerOptions {
  useCases: UseCases;
  /** SEVSYNC_API_TOKEN: `Authorization: Bearer <it>`, and what the sign-in form asks for. */
  apiToken: string;
  logger?: boolean;
  sessions?: Sessions;
}

export interface SevsyncServer {
  app: FastifyInstance;
  sessions: Sessions;
}

export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
}

/** Refuses what would expose the API: no token off loopback, or a guessable one. */
export function checkServeSettings(opts: { host: string; apiToken: string | undefined }): void {
  if (!opts.apiToken && !isLoopbackHost(opts.host)) {
    throw new ServeConfigError(
      `refusing to listen on ${opts.host} without SEVSYNC_API_TOKEN: set it (e.g. openssl rand -hex 32), ` +
        'or listen on 127.0.0.1',
    );
  }
  if (opts.apiToken !== undefined && opts.apiToken.length < 16) {
    throw new ServeConfigError(
      'SEVSYNC_API_TOKEN must be at least 16 characters (e.g. openssl rand -hex 32)',
    );
  }
}

/**
 * No inline code on any page: scripts and the stylesheet are our own files (./assets.ts), the live refresh
 * fetches our own API, forms post only to us, and nothing may frame the pages.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; " +
  "base-uri 'none'; frame-ancestors 'none'";

export const errorJson = (type: string, message: string) => ({ error: { type, message } });

function validationMessage(err: { validation: { instancePath?: string; message?: string }[] }, ctx?: string) {
  return err.validation
    .map((v) => {
      const field = [ctx, ...(v.instancePath ?? '').split('/').filter(Boolean)].filter(Boolean).join('.');
      return `${field || 'request'}: ${v.message ?? 'invalid'}`;
    })
    .join('; ');
}

function unauthorized(req: FastifyRequest, reply: FastifyReply) {
  if (req.url.startsWith('/ui/')) {
    return req.method === 'GET'
      ? reply.redirect(`/ui/sign-in?next=${encodeURIComponent(req.url)}`, 302)
      : reply.redirect('/ui/sign-in', 303);
  }
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="sevsync"')
    .send(
      errorJson('unauthorized', 'send Authorization: Bearer <SEVSYNC_API_TOKEN>, or sign in at /ui/sign-in'),
    );
}

export async function buildServer(opts: ServerOptions): Promise<SevsyncServer> {
  const sessions = opts.sessions ?? new Sessions();
  // Errors are logged; per-request lines are not (the pages poll status every 1.5 s).
  const app = Fastify({
    logger: opts.logger ?? false,
    disableRequestLogging: true,
    bodyLimit: 64 * 1024,
    trustProxy: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);

  await app.register(fastifyCookie, { secret: randomBytes(32) });
  await app.register(fastifyFormbody);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'sevsync',
        description:
          "OneCockpit's sevDesk interface. Every route needs `Authorization: Bearer <SEVSYNC_API_TOKEN>`. " +
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
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('content-security-policy', CSP);
    const isPublic = req.routeOptions.config.public === true;
    const bearer = bearerToken(req);
    if (req.headers.authorization !== undefined) {
      // A wrong Authorization header never falls back to a cookie.
      if (bearer && sameSecret(bearer, opts.apiToken)) req.principal = { account: null, via: 'bearer' };
      else if (!isPublic) return unauthorized(req, reply);
    } else {
      const id = sessionId(req);
      const session = id ? sessions.get(id) : undefined;
      if (session) req.principal = { account: session.account, via: 'session' };
    }
    if (!isPublic && !req.principal) return unauthorized(req, reply);
    // A write that rides on a cookie must come from our own pages (SameSite=Strict is the first line).
    if (req.principal?.via !== 'bearer' && isUnsafe(req) && !sameOrigin(req)) {
      return reply
        .code(403)
        .send(errorJson('forbidden', 'cross-site request refused (Origin does not match)'));
    }
    if (isPublic || !req.principal) return;
    const account = (req.params as { account?: unknown } | undefined)?.account;
    if (req.principal.account !== null && typeof account === 'string' && account !== req.principal.account) {
      const message = 'this session may only see the account it was opened for';
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
    const title = status === 404 ? 'Nicht gefunden' : status >= 500 ? 'Fehler' : 'Ungültige Anfrage';
    const account = req.principal?.account ?? '';
    const page = errorPage({ account }, { title, message });
    return reply.code(status).type('text/html; charset=utf-8').send(page);
  };

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return fail(req, reply, 400, 'invalid_input', validationMessage(err, err.validationContext));
    }
    const known = opts.useCases.classify(err);
    if (known) return fail(req, reply, known.status, known.type, known.message);
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return fail(req, reply, e.statusCode, 'invalid_input', e.message ?? 'bad request');
    }
    req.log.error({ err }, 'request failed');
    return fail(req, reply, 500, 'internal', 'internal error; see the server log');
  });
  app.setNotFoundHandler((req, reply) =>
    fail(req, reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  registerApi(app, { useCases: opts.useCases, sessions });
  if (opts.useCases.webhooks) registerWebhooksApi(app, { webhooks: opts.useCases.webhooks });
  registerPages(app, { useCases: opts.useCases, sessions, apiToken: opts.apiToken });
  registerAssets(app);
  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return { app, sessions };
}
